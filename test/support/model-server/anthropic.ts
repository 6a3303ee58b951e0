// The Anthropic Messages wire protocol for the scripted model server (SSE replies, error bodies), plus the
// Claude Code specifics: its tool-call shapes and the environment that runs the real CLI offline.
import { randomBytes } from "node:crypto";
import type { ServerResponse } from "node:http";
import { z } from "zod";
import { assertNever } from "../../../src/core/assert.js";
import {
  DEFAULT_USAGE,
  type FaultTurn,
  type IncomingModelRequest,
  type ProtocolModule,
  type ReplyContext,
  type ReplyTurn,
  type RouteDecision,
} from "./script.js";

const TextBlock = z.object({ type: z.literal("text"), text: z.string() });
const ToolResultBlock = z.object({
  type: z.literal("tool_result"),
  content: z.union([z.string(), z.array(z.unknown())]).optional(),
});
const Message = z.object({
  role: z.string(),
  content: z.union([z.string(), z.array(z.unknown())]),
});
const MessagesBody = z.object({
  model: z.string().optional(),
  stream: z.boolean().optional(),
  messages: z.array(Message).optional(),
});

/** All text of the last `user` message: prompt text blocks and tool results alike ("system" turns skipped). */
export function anthropicLastUserText(body: unknown): string {
  const parsed = MessagesBody.safeParse(body);
  if (!parsed.success) return "";
  const last = parsed.data.messages?.findLast((m) => m.role === "user");
  if (last === undefined) return "";
  return typeof last.content === "string" ? last.content : blocksText(last.content);
}

function blocksText(blocks: readonly unknown[]): string {
  const parts: string[] = [];
  for (const block of blocks) {
    const text = TextBlock.safeParse(block);
    if (text.success) parts.push(text.data.text);
    const result = ToolResultBlock.safeParse(block);
    if (result.success && result.data.content !== undefined) {
      const c = result.data.content;
      parts.push(typeof c === "string" ? c : blocksText(c));
    }
  }
  return parts.join("\n");
}

function route(request: IncomingModelRequest): RouteDecision | undefined {
  if (request.method !== "POST") return undefined;
  if (request.path === "/v1/messages/count_tokens") {
    const body = { input_tokens: DEFAULT_USAGE.input_tokens };
    return { kind: "fixed", status: 200, body, label: "count_tokens" };
  }
  if (request.path !== "/v1/messages") return undefined;
  const parsed = MessagesBody.safeParse(request.body);
  return {
    kind: "turn",
    streaming: parsed.success && parsed.data.stream === true,
    model: parsed.success ? parsed.data.model : undefined,
    lastUserText: anthropicLastUserText(request.body),
  };
}

const hex = (bytes: number): string => randomBytes(bytes).toString("hex");

type Block =
  | { type: "text"; text: string }
  | { type: "tool_use"; id: string; name: string; input: Record<string, unknown> };

function contentOf(reply: ReplyTurn): Block[] {
  const tools = reply.tools ?? [];
  const blocks: Block[] = [];
  if (reply.text !== undefined || tools.length === 0) blocks.push({ type: "text", text: reply.text ?? "" });
  for (const tool of tools) {
    blocks.push({ type: "tool_use", id: `toolu_${hex(12)}`, name: tool.name, input: tool.input });
  }
  return blocks;
}

/** Splits a string into at most `parts` non-empty chunks, so clients must reassemble deltas. */
function chunks(text: string, parts = 2): string[] {
  if (text.length < parts) return [text];
  const size = Math.ceil(text.length / parts);
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out;
}

/** One SSE frame; Anthropic names each event after its payload's `type`. */
function sse(data: { type: string } & Record<string, unknown>): string {
  return `event: ${data.type}\ndata: ${JSON.stringify(data)}\n\n`;
}

function writeReply(res: ServerResponse, reply: ReplyTurn, ctx: ReplyContext): void {
  const usage = { ...(reply.usage ?? DEFAULT_USAGE), cache_creation_input_tokens: 0, cache_read_input_tokens: 0 };
  const blocks = contentOf(reply);
  const stopReason = reply.tools !== undefined && reply.tools.length > 0 ? "tool_use" : "end_turn";
  const message = {
    id: `msg_${hex(12)}`,
    type: "message",
    role: "assistant",
    model: ctx.model ?? "scripted-model",
    stop_sequence: null,
  };
  const requestId = { "request-id": `req_${hex(12)}` };

  if (!ctx.streaming) {
    res.writeHead(200, { ...requestId, "content-type": "application/json" });
    res.end(JSON.stringify({ ...message, content: blocks, stop_reason: stopReason, usage }));
    return;
  }
  res.writeHead(200, { ...requestId, "content-type": "text/event-stream", "cache-control": "no-cache" });
  const started = { ...message, content: [], stop_reason: null, usage: { ...usage, output_tokens: 1 } };
  const frames = [sse({ type: "message_start", message: started })];
  blocks.forEach((block, index) => {
    if (block.type === "text") {
      frames.push(sse({ type: "content_block_start", index, content_block: { type: "text", text: "" } }));
      for (const text of chunks(block.text)) {
        frames.push(sse({ type: "content_block_delta", index, delta: { type: "text_delta", text } }));
      }
    } else {
      const start = { type: "tool_use", id: block.id, name: block.name, input: {} };
      frames.push(sse({ type: "content_block_start", index, content_block: start }));
      for (const partial_json of chunks(JSON.stringify(block.input), 3)) {
        frames.push(sse({ type: "content_block_delta", index, delta: { type: "input_json_delta", partial_json } }));
      }
    }
    frames.push(sse({ type: "content_block_stop", index }));
  });
  frames.push(
    sse({ type: "message_delta", delta: { stop_reason: stopReason, stop_sequence: null }, usage }),
    sse({ type: "message_stop" }),
  );
  res.end(frames.join(""));
}

type AnthropicErrorType =
  | "rate_limit_error"
  | "overloaded_error"
  | "authentication_error"
  | "invalid_request_error"
  | "api_error";

function writeError(
  res: ServerResponse,
  status: number,
  type: AnthropicErrorType,
  message: string,
  extraHeaders: Record<string, string> = {},
): void {
  res.writeHead(status, { "content-type": "application/json", "request-id": `req_${hex(12)}`, ...extraHeaders });
  res.end(JSON.stringify({ type: "error", error: { type, message } }));
}

function writeFault(res: ServerResponse, fault: Exclude<FaultTurn, { fault: "hang" }>, ctx: ReplyContext): void {
  switch (fault.fault) {
    case "rate_limit": {
      const headers: Record<string, string> =
        fault.retryAfterSeconds === undefined ? {} : { "retry-after": String(fault.retryAfterSeconds) };
      const message = "Number of request tokens has exceeded your per-minute rate limit";
      writeError(res, 429, "rate_limit_error", message, headers);
      return;
    }
    case "overloaded":
      writeError(res, 529, "overloaded_error", "Overloaded");
      return;
    case "server_error":
      writeError(res, fault.status ?? 500, "api_error", "Internal server error");
      return;
    case "unauthorized":
      writeError(res, 401, "authentication_error", "invalid x-api-key");
      return;
    case "context_too_long":
      writeError(res, 400, "invalid_request_error", "prompt is too long: 250000 tokens > 200000 maximum");
      return;
    case "malformed": {
      // A valid start, then an event cut off mid-JSON and a garbage line; the body then ends (no message_stop).
      res.writeHead(200, { "content-type": "text/event-stream", "request-id": `req_${hex(12)}` });
      const usage = { input_tokens: 1, output_tokens: 1 };
      const model = ctx.model ?? "scripted-model";
      const message = { id: `msg_${hex(12)}`, type: "message", role: "assistant", model };
      res.end(
        sse({ type: "message_start", message: { ...message, content: [], stop_reason: null, usage } }) +
          'event: content_block_start\ndata: {"type":"content_block_start","index":0,"content_bl\n\n' +
          "data: \u0000garbage{{{\n\n",
      );
      return;
    }
    default:
      assertNever(fault, "fault");
  }
}

export const anthropicProtocol: ProtocolModule = {
  name: "anthropic-messages",
  route,
  writeReply,
  writeFault,
  writeHarnessError: (res, message) => writeError(res, 500, "api_error", message),
};

// ---- Claude Code specifics -------------------------------------------------------------------------

/** A turn in which the model calls Claude Code's Write tool (`filePath` must be absolute). */
export function claudeWrite(filePath: string, content: string, text?: string): ReplyTurn {
  const tools = [{ name: "Write", input: { file_path: filePath, content } }];
  return text === undefined ? { tools } : { text, tools };
}

/** A turn in which the model calls Claude Code's Bash tool. */
export function claudeBash(command: string, description = "run a command", text?: string): ReplyTurn {
  const tools = [{ name: "Bash", input: { command, description } }];
  return text === undefined ? { tools } : { text, tools };
}

export interface ClaudeEnvOptions {
  /** The model server's base URL. */
  url: string;
  /** A throw-away home directory (the CLI keeps ~/.claude, sessions and settings there). */
  home: string;
  /** A throw-away temp directory (the CLI uses $TMPDIR/claude-<uid>). */
  tmp: string;
  /** CLAUDE_CODE_MAX_RETRIES; 0 so scripted faults surface at once (the CLI's default is 10, about 3 min). */
  maxRetries?: number;
  /** API_TIMEOUT_MS: how long one request may take before the CLI gives up (the CLI's default is 600 s). */
  timeoutMs?: number;
  /** PATH for the CLI and the commands its Bash tool runs; defaults to this process's PATH. */
  path?: string;
}

/**
 * The complete environment (not to be merged over process.env, which may carry real keys or config dirs)
 * that runs the real Claude Code CLI offline against the scripted server.
 */
export function claudeEnv(options: ClaudeEnvOptions): Record<string, string> {
  const { home } = options;
  return {
    PATH: options.path ?? process.env["PATH"] ?? "/usr/local/bin:/usr/bin:/bin",
    HOME: home,
    TMPDIR: options.tmp,
    XDG_CONFIG_HOME: `${home}/.config`,
    XDG_CACHE_HOME: `${home}/.cache`,
    XDG_DATA_HOME: `${home}/.local/share`,
    XDG_STATE_HOME: `${home}/.local/state`,
    SHELL: "/bin/bash",
    LANG: "C.UTF-8",
    ANTHROPIC_BASE_URL: options.url,
    ANTHROPIC_API_KEY: "sk-ant-fake",
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
    CLAUDE_CODE_MAX_RETRIES: String(options.maxRetries ?? 0),
    API_TIMEOUT_MS: String(options.timeoutMs ?? 30_000),
    DISABLE_AUTOUPDATER: "1",
    DISABLE_TELEMETRY: "1",
    DISABLE_ERROR_REPORTING: "1",
  };
}
