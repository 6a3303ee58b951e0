// The OpenAI Responses wire protocol (`POST /v1/responses`, SSE) for the scripted model server, plus the Codex
// CLI specifics: its tool-call shapes and the CODEX_HOME (config.toml) and environment that run it offline.
import { mkdirSync, writeFileSync } from "node:fs";
import type { ServerResponse } from "node:http";
import { join } from "node:path";
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
  type ToolCall,
} from "./script.js";
import { chunks, namedSseFrame as sse, writeEventStream, writeMalformedStream } from "./sse.js";

const InputItem = z.looseObject({ type: z.string().optional(), role: z.string().optional() });
const ContentPart = z.object({ type: z.string(), text: z.string() });
const MessageItem = z.object({
  type: z.literal("message").optional(),
  role: z.string(),
  content: z.union([z.string(), z.array(z.unknown())]),
});
const ToolOutputItem = z.object({
  type: z.enum(["function_call_output", "custom_tool_call_output"]),
  /** A string, or (newer clients) content parts. */
  output: z.union([z.string(), z.array(z.unknown())]),
});
const ResponsesBody = z.object({
  model: z.string().optional(),
  stream: z.boolean().optional(),
  input: z.union([z.string(), z.array(z.unknown())]).optional(),
});

/**
 * What the model is answering: the tool outputs at the end of the input (a tool round trip), or else the text
 * of the last `user` message (the prompt). Codex sends its environment context as an earlier user message.
 */
export function responsesLastUserText(body: unknown): string {
  const parsed = ResponsesBody.safeParse(body);
  if (!parsed.success || parsed.data.input === undefined) return "";
  const input = parsed.data.input;
  if (typeof input === "string") return input;
  const outputs: string[] = [];
  for (let i = input.length - 1; i >= 0; i--) {
    const output = ToolOutputItem.safeParse(input[i]);
    if (!output.success) break;
    const value = output.data.output;
    outputs.unshift(typeof value === "string" ? value : partsText(value));
  }
  if (outputs.length > 0) return outputs.join("\n");
  const last = input.findLast((item) => {
    const head = InputItem.safeParse(item);
    return head.success && head.data.role === "user";
  });
  const message = MessageItem.safeParse(last);
  if (!message.success) return "";
  const content = message.data.content;
  return typeof content === "string" ? content : partsText(content);
}

function partsText(parts: readonly unknown[]): string {
  return parts.flatMap((part) => {
    const parsed = ContentPart.safeParse(part);
    return parsed.success ? [parsed.data.text] : [];
  }).join("\n");
}

function route(request: IncomingModelRequest): RouteDecision | undefined {
  if (request.method !== "POST" || request.path !== "/v1/responses") return undefined;
  const parsed = ResponsesBody.safeParse(request.body);
  return {
    kind: "turn",
    // The Responses API streams only when asked; Codex always asks.
    streaming: parsed.success && parsed.data.stream === true,
    model: parsed.success ? parsed.data.model : undefined,
    lastUserText: responsesLastUserText(request.body),
  };
}

/** Tools that Codex offers as freeform ("custom") tools: the call carries raw text, not JSON arguments. */
const FREEFORM_TOOLS = new Set(["apply_patch"]);

type OutputItem =
  | { type: "message"; id: string; role: "assistant"; status: "completed"; content: { type: "output_text"; text: string; annotations: [] }[] }
  | { type: "function_call"; id: string; status: "completed"; name: string; arguments: string; call_id: string }
  | { type: "custom_tool_call"; id: string; status: "completed"; name: string; input: string; call_id: string };

/**
 * A freeform tool's text comes from the call's `input` string field (`codexPatch` writes it there); every other
 * tool gets its input as the JSON `arguments` of a function call.
 */
function toolItem(tool: ToolCall): OutputItem {
  const call_id = `call_${hex(12)}`;
  const freeform = tool.input["input"];
  if (FREEFORM_TOOLS.has(tool.name) && typeof freeform === "string") {
    return { type: "custom_tool_call", id: `ctc_${hex(12)}`, status: "completed", name: tool.name, input: freeform, call_id };
  }
  return { type: "function_call", id: `fc_${hex(12)}`, status: "completed", name: tool.name, arguments: JSON.stringify(tool.input), call_id };
}

function outputOf(reply: ReplyTurn): OutputItem[] {
  const tools = reply.tools ?? [];
  const items: OutputItem[] = [];
  if (reply.text !== undefined || tools.length === 0) {
    const content = [{ type: "output_text" as const, text: reply.text ?? "", annotations: [] as [] }];
    items.push({ type: "message", id: `msg_${hex(12)}`, role: "assistant", status: "completed", content });
  }
  for (const tool of tools) items.push(toolItem(tool));
  return items;
}

function usageOf(reply: ReplyTurn) {
  const { input_tokens, output_tokens } = reply.usage ?? DEFAULT_USAGE;
  return {
    input_tokens,
    input_tokens_details: { cached_tokens: 0 },
    output_tokens,
    output_tokens_details: { reasoning_tokens: 0 },
    total_tokens: input_tokens + output_tokens,
  };
}

function writeReply(res: ServerResponse, reply: ReplyTurn, ctx: ReplyContext): void {
  const output = outputOf(reply);
  const response = {
    id: `resp_${hex(12)}`,
    object: "response",
    created_at: Math.floor(Date.now() / 1000),
    model: ctx.model ?? "scripted-model",
  };
  const headers = { "x-request-id": `req_${hex(12)}` };
  if (!ctx.streaming) {
    writeJson(res, 200, { ...response, status: "completed", output, usage: usageOf(reply) }, headers);
    return;
  }
  let sequence = 0;
  const frame = (data: { type: string } & Record<string, unknown>): string => sse({ ...data, sequence_number: sequence++ });
  const frames = [frame({ type: "response.created", response: { ...response, status: "in_progress", output: [] } })];
  output.forEach((item, output_index) => {
    if (item.type === "message") {
      frames.push(frame({ type: "response.output_item.added", output_index, item: { ...item, status: "in_progress", content: [] } }));
      for (const delta of chunks(item.content[0]?.text ?? "")) {
        frames.push(frame({ type: "response.output_text.delta", item_id: item.id, output_index, content_index: 0, delta }));
      }
    } else {
      frames.push(frame({ type: "response.output_item.added", output_index, item: { ...item, status: "in_progress" } }));
    }
    frames.push(frame({ type: "response.output_item.done", output_index, item }));
  });
  frames.push(frame({ type: "response.completed", response: { ...response, status: "completed", output, usage: usageOf(reply) } }));
  writeEventStream(res, frames, headers);
}

/** The OpenAI error body: `{error: {message, type, param, code}}`. */
function writeError(
  res: ServerResponse,
  status: number,
  error: { type: string; code: string | null; message: string },
  extraHeaders: Record<string, string> = {},
): void {
  writeJson(res, status, { error: { ...error, param: null } }, { "x-request-id": `req_${hex(12)}`, ...extraHeaders });
}

function writeFault(res: ServerResponse, fault: ProtocolFault, ctx: ReplyContext): void {
  switch (fault.fault) {
    case "rate_limit": {
      // Codex retries a 429 only when it says when to (retry-after); without it the CLI gives up at once.
      const message = "Rate limit reached for requests per min. Please try again in 1s.";
      writeError(res, 429, { type: "requests", code: "rate_limit_exceeded", message }, retryAfter(fault.retryAfterSeconds));
      return;
    }
    case "overloaded":
      // OpenAI has no 529; its overload answer is a 503.
      writeError(res, 503, { type: "server_error", code: null, message: "The server is overloaded or not ready yet." }, retryAfter(fault.retryAfterSeconds));
      return;
    case "server_error":
      writeError(res, fault.status ?? 500, { type: "server_error", code: null, message: "The server had an error while processing your request." }, retryAfter(fault.retryAfterSeconds));
      return;
    case "unauthorized":
      writeError(res, 401, {
        type: "invalid_request_error",
        code: "invalid_api_key",
        message: "Incorrect API key provided: sk-fake***. You can find your API key in your account settings.",
      });
      return;
    case "context_too_long":
      writeError(res, 400, {
        type: "invalid_request_error",
        code: "context_length_exceeded",
        message: "Your input exceeds the context window of this model. Please adjust your input and try again.",
      });
      return;
    case "malformed": {
      // No response.completed ever comes.
      const response = { id: `resp_${hex(12)}`, object: "response", status: "in_progress", model: ctx.model ?? "scripted-model", output: [] };
      writeMalformedStream(res, {
        first: sse({ type: "response.created", response, sequence_number: 0 }),
        cutOff: 'event: response.output_item.added\ndata: {"type":"response.output_item.added","output_index":0,"it',
        headers: { "x-request-id": `req_${hex(12)}` },
      });
      return;
    }
    default:
      assertNever(fault, "fault");
  }
}

export const openaiResponsesProtocol: ProtocolModule = {
  name: "openai-responses",
  route,
  writeReply,
  writeFault,
  // A 400 is not retried and Codex shows its message; it replaces the text of a 500 with its own words.
  writeHarnessError: (res, message) => writeError(res, 400, { type: "invalid_request_error", code: null, message }),
};

// ---- Codex CLI specifics ---------------------------------------------------------------------------

/** A turn in which the model edits files with Codex's freeform `apply_patch` tool (paths relative to the cwd). */
export function codexPatch(patch: string, text?: string): ReplyTurn {
  return toolTurn([{ name: "apply_patch", input: { input: patch } }], text);
}

/** The patch that creates `path` holding `content` (which should end with a newline). */
export function addFilePatch(path: string, content: string): string {
  return `*** Begin Patch\n*** Add File: ${path}\n${prefixLines(content)}*** End Patch\n`;
}

/** The patch that replaces the whole of `path` (`before` is its current content) with `after`. */
export function replaceFilePatch(path: string, before: string, after: string): string {
  const removed = prefixLines(before, "-");
  const added = prefixLines(after, "+");
  return `*** Begin Patch\n*** Update File: ${path}\n@@\n${removed}${added}*** End Patch\n`;
}

function prefixLines(content: string, prefix = "+"): string {
  const lines = content.endsWith("\n") ? content.slice(0, -1).split("\n") : content.split("\n");
  return lines.map((line) => `${prefix}${line}\n`).join("");
}

/** A turn in which the model runs a shell command with Codex's `exec_command` tool. */
export function codexExec(cmd: string, text?: string): ReplyTurn {
  return toolTurn([{ name: "exec_command", input: { cmd } }], text);
}

/** The provider name the written config.toml defines; the env var it reads the key from. */
export const CODEX_PROVIDER = "scripted";
export const CODEX_KEY_ENV = "SCRIPTED_OPENAI_API_KEY";
/** A catalogued slug: only for known models does Codex offer `apply_patch` (as a freeform tool). */
export const CODEX_MODEL = "gpt-5.5";

export interface CodexHomeOptions {
  /** The model server's base URL (without `/v1`). */
  url: string;
  /** Default CODEX_MODEL. */
  model?: string;
  /** request_max_retries: HTTP retries of one request (the CLI's default is 4). */
  requestMaxRetries?: number;
  /** stream_max_retries: re-requests after a broken stream (the CLI's default is 5). */
  streamMaxRetries?: number;
  /** stream_idle_timeout_ms: silence on an open stream before the CLI gives up on it (default 300 000). */
  streamIdleTimeoutMs?: number;
}

/**
 * Writes `<codexHome>/config.toml` that points Codex at the scripted server through a custom provider (Codex
 * ignores OPENAI_BASE_URL) and turns off everything that would reach the network or retry for ever.
 */
export function writeCodexHome(codexHome: string, options: CodexHomeOptions): void {
  mkdirSync(codexHome, { recursive: true });
  const toml = [
    `model = ${JSON.stringify(options.model ?? CODEX_MODEL)}`,
    `model_provider = ${JSON.stringify(CODEX_PROVIDER)}`,
    "check_for_update_on_startup = false",
    "",
    "[features]",
    "plugins = false",
    // Otherwise a refused connection is retried "waiting for network" for ever.
    "unbounded_connection_retries = false",
    "",
    "[analytics]",
    "enabled = false",
    "",
    "[otel]",
    'exporter = "none"',
    'metrics_exporter = "none"',
    "",
    `[model_providers.${CODEX_PROVIDER}]`,
    'name = "Scripted"',
    `base_url = ${JSON.stringify(`${options.url}/v1`)}`,
    `env_key = ${JSON.stringify(CODEX_KEY_ENV)}`,
    'wire_api = "responses"',
    "supports_websockets = false",
    `request_max_retries = ${options.requestMaxRetries ?? 0}`,
    `stream_max_retries = ${options.streamMaxRetries ?? 0}`,
    `stream_idle_timeout_ms = ${options.streamIdleTimeoutMs ?? 30_000}`,
    "",
  ].join("\n");
  writeFileSync(join(codexHome, "config.toml"), toml);
}

export interface CodexEnvOptions extends SandboxEnvOptions {
  /** CODEX_HOME, holding config.toml (see writeCodexHome), sessions and logs. */
  codexHome: string;
}

/** The complete environment that runs the real Codex CLI offline against the server CODEX_HOME's config.toml names. */
export function codexEnv(options: CodexEnvOptions): Record<string, string> {
  return {
    ...sandboxEnv(options),
    CODEX_HOME: options.codexHome,
    [CODEX_KEY_ENV]: "sk-fake",
    RUST_LOG: "error",
  };
}
