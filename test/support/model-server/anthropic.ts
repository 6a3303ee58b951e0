// The Anthropic Messages wire protocol for the scripted model server (SSE replies, error bodies), plus the
// Claude Code specifics: its tool-call shapes and the environment that runs the real CLI offline.
import type { ServerResponse } from "node:http";
import { z } from "zod";
import { assertNever } from "../../../src/core/assert.js";
import { hex, retryAfter, writeJson } from "./reply.js";
import { sandboxEnv, type SandboxEnvOptions } from "./sandbox-env.js";
import {
  DEFAULT_USAGE,
  toolTurn,
  type IncomingModelRequest,
  type ProtocolFault,
  type ProtocolModule,
  type ReplyContext,
  type ReplyTurn,
  type RouteDecision,
} from "./script.js";
import { chunks, namedSseFrame as sse, writeEventStream, writeMalformedStream } from "./sse.js";

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
    writeJson(res, 200, { ...message, content: blocks, stop_reason: stopReason, usage }, requestId);
    return;
  }
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
  writeEventStream(res, frames, requestId);
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
  writeJson(res, status, { type: "error", error: { type, message } }, { "request-id": `req_${hex(12)}`, ...extraHeaders });
}

function writeFault(res: ServerResponse, fault: ProtocolFault, ctx: ReplyContext): void {
  switch (fault.fault) {
    case "rate_limit": {
      const message = "Number of request tokens has exceeded your per-minute rate limit";
      writeError(res, 429, "rate_limit_error", message, retryAfter(fault.retryAfterSeconds));
      return;
    }
    case "overloaded":
      writeError(res, 529, "overloaded_error", "Overloaded", retryAfter(fault.retryAfterSeconds));
      return;
    case "server_error":
      writeError(res, fault.status ?? 500, "api_error", "Internal server error", retryAfter(fault.retryAfterSeconds));
      return;
    case "unauthorized":
      writeError(res, 401, "authentication_error", "invalid x-api-key");
      return;
    case "context_too_long":
      writeError(res, 400, "invalid_request_error", "prompt is too long: 250000 tokens > 200000 maximum");
      return;
    case "malformed": {
      // No message_stop ever comes.
      const usage = { input_tokens: 1, output_tokens: 1 };
      const model = ctx.model ?? "scripted-model";
      const message = { id: `msg_${hex(12)}`, type: "message", role: "assistant", model };
      writeMalformedStream(res, {
        first: sse({ type: "message_start", message: { ...message, content: [], stop_reason: null, usage } }),
        cutOff: 'event: content_block_start\ndata: {"type":"content_block_start","index":0,"content_bl',
        headers: { "request-id": `req_${hex(12)}` },
      });
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
  return toolTurn([{ name: "Write", input: { file_path: filePath, content } }], text);
}

/** A turn in which the model calls Claude Code's Bash tool. */
export function claudeBash(command: string, description = "run a command", text?: string): ReplyTurn {
  return toolTurn([{ name: "Bash", input: { command, description } }], text);
}

/** The CLI keeps ~/.claude, sessions and settings in `home`, and uses $TMPDIR/claude-<uid>. */
export interface ClaudeEnvOptions extends SandboxEnvOptions {
  /** The model server's base URL. */
  url: string;
  /** CLAUDE_CODE_MAX_RETRIES; 0 so scripted faults surface at once (the CLI's default is 10, about 3 min). */
  maxRetries?: number;
  /** API_TIMEOUT_MS: how long one request may take before the CLI gives up (the CLI's default is 600 s). */
  timeoutMs?: number;
}

/** The complete environment that runs the real Claude Code CLI offline against the scripted server. */
export function claudeEnv(options: ClaudeEnvOptions): Record<string, string> {
  return {
    ...sandboxEnv(options),
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
