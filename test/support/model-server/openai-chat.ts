// The OpenAI Chat Completions wire protocol (`POST /v1/chat/completions`, SSE) for the scripted model server,
// plus the OpenCode specifics: its tool-call shapes and the config file and environment that run it offline.
import type { ServerResponse } from "node:http";
import { join } from "node:path";
import { z } from "zod";
import { assertNever } from "../../../src/core/assert.js";
import { hex, retryAfter, writeJson } from "./reply.js";
import { sandboxEnv, writeJsonFile, type SandboxEnvOptions } from "./sandbox-env.js";
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
import { chunks, sseFrame as sse, writeEventStream, writeMalformedStream } from "./sse.js";

const TextPart = z.object({ type: z.literal("text"), text: z.string() });
const ChatMessage = z.object({
  role: z.string(),
  /** A string, content parts, or null (an assistant message that only calls tools). */
  content: z.union([z.string(), z.array(z.unknown()), z.null()]).optional(),
});
const ChatBody = z.object({
  model: z.string().optional(),
  stream: z.boolean().optional(),
  messages: z.array(ChatMessage).optional(),
  tools: z.array(z.unknown()).optional(),
});

/**
 * The text the model is answering: every message after the last assistant message (the user's prompt, or
 * the `tool` results of the calls it made), joined. System messages are the CLI's, not the user's.
 */
export function chatLastUserText(body: unknown): string {
  const parsed = ChatBody.safeParse(body);
  if (!parsed.success) return "";
  const messages = parsed.data.messages ?? [];
  const lastAssistant = messages.findLastIndex((m) => m.role === "assistant");
  return messages
    .slice(lastAssistant + 1)
    .filter((m) => m.role !== "system")
    .map((m) => contentText(m.content))
    .join("\n");
}

function contentText(content: string | unknown[] | null | undefined): string {
  if (content === null || content === undefined) return "";
  if (typeof content === "string") return content;
  return content.flatMap((part) => {
    const text = TextPart.safeParse(part);
    return text.success ? [text.data.text] : [];
  }).join("\n");
}

/** A title the side request answers with; the CLI shows it as the session's title. */
export const SIDE_REQUEST_TITLE = "Scripted session";

function route(request: IncomingModelRequest): RouteDecision | undefined {
  if (request.method !== "POST") return undefined;
  if (request.path !== "/v1/chat/completions" && request.path !== "/chat/completions") return undefined;
  const parsed = ChatBody.safeParse(request.body);
  const streaming = parsed.success && parsed.data.stream === true;
  const model = parsed.success ? parsed.data.model : undefined;
  // OpenCode's title generation (and its compaction summaries) offer no tools; the scripted session's own
  // requests always do. Answering those without a turn keeps scripts about the session alone.
  if (parsed.success && (parsed.data.tools ?? []).length === 0) {
    return {
      kind: "side",
      label: "tool-less side request (title)",
      respond: (res) => writeReply(res, { text: SIDE_REQUEST_TITLE }, { streaming, model, turnIndex: -1 }),
    };
  }
  return { kind: "turn", streaming, model, lastUserText: chatLastUserText(request.body) };
}

interface WireToolCall {
  id: string;
  type: "function";
  function: { name: string; arguments: string };
}

function writeReply(res: ServerResponse, reply: ReplyTurn, ctx: ReplyContext): void {
  const usage = reply.usage ?? DEFAULT_USAGE;
  const wireUsage = {
    prompt_tokens: usage.input_tokens,
    completion_tokens: usage.output_tokens,
    total_tokens: usage.input_tokens + usage.output_tokens,
  };
  const calls: WireToolCall[] = (reply.tools ?? []).map((tool) => ({
    id: `call_${hex(12)}`,
    type: "function",
    function: { name: tool.name, arguments: JSON.stringify(tool.input) },
  }));
  const finishReason = calls.length > 0 ? "tool_calls" : "stop";
  const head = { id: `chatcmpl-${hex(12)}`, created: Math.floor(Date.now() / 1000), model: ctx.model ?? "scripted-model" };

  if (!ctx.streaming) {
    const message = { role: "assistant", content: reply.text ?? (calls.length > 0 ? null : ""), ...(calls.length > 0 ? { tool_calls: calls } : {}) };
    writeJson(res, 200, { ...head, object: "chat.completion", choices: [{ index: 0, message, finish_reason: finishReason }], usage: wireUsage });
    return;
  }
  const chunk = (choice: Record<string, unknown> | undefined, extra: Record<string, unknown> = {}) =>
    sse({ ...head, object: "chat.completion.chunk", choices: choice === undefined ? [] : [{ index: 0, ...choice }], ...extra });
  const frames = [chunk({ delta: { role: "assistant", content: "" }, finish_reason: null })];
  if (reply.text !== undefined) {
    for (const content of chunks(reply.text)) frames.push(chunk({ delta: { content }, finish_reason: null }));
  }
  calls.forEach((call, index) => {
    const start = { index, id: call.id, type: "function", function: { name: call.function.name, arguments: "" } };
    frames.push(chunk({ delta: { tool_calls: [start] }, finish_reason: null }));
    for (const part of chunks(call.function.arguments, 3)) {
      frames.push(chunk({ delta: { tool_calls: [{ index, function: { arguments: part } }] }, finish_reason: null }));
    }
  });
  frames.push(chunk({ delta: {}, finish_reason: finishReason }), chunk(undefined, { usage: wireUsage }), "data: [DONE]\n\n");
  writeEventStream(res, frames);
}

function writeError(
  res: ServerResponse,
  status: number,
  error: { message: string; type: string; code: string | null },
  extraHeaders: Record<string, string> = {},
): void {
  writeJson(res, status, { error: { ...error, param: null } }, extraHeaders);
}

function writeFault(res: ServerResponse, fault: ProtocolFault, ctx: ReplyContext): void {
  switch (fault.fault) {
    case "rate_limit": {
      const seconds = fault.retryAfterSeconds;
      const wait = seconds === undefined ? "" : ` Please try again in ${seconds}s.`;
      const message = `Rate limit reached for ${ctx.model ?? "scripted-model"} on tokens per min (TPM): Limit 30000, Used 30000, Requested 100.${wait}`;
      writeError(res, 429, { message, type: "tokens", code: "rate_limit_exceeded" }, retryAfter(seconds));
      return;
    }
    case "overloaded":
      writeError(res, 503, { message: "The server is overloaded or not ready yet.", type: "server_error", code: null }, retryAfter(fault.retryAfterSeconds));
      return;
    case "server_error": {
      const message = "The server had an error while processing your request. Sorry about that!";
      writeError(res, fault.status ?? 500, { message, type: "server_error", code: null }, retryAfter(fault.retryAfterSeconds));
      return;
    }
    case "unauthorized":
      writeError(res, 401, {
        message: "Incorrect API key provided: sk-fake***. You can find your API key at https://platform.openai.com/account/api-keys.",
        type: "invalid_request_error",
        code: "invalid_api_key",
      });
      return;
    case "context_too_long":
      writeError(res, 400, {
        message: "Your input exceeds the context window of this model. Please adjust your input and try again.",
        type: "invalid_request_error",
        code: "context_length_exceeded",
      });
      return;
    case "malformed": {
      // No [DONE] ever comes.
      const head = { id: `chatcmpl-${hex(12)}`, object: "chat.completion.chunk", created: 0, model: ctx.model ?? "scripted-model" };
      writeMalformedStream(res, {
        first: sse({ ...head, choices: [{ index: 0, delta: { role: "assistant", content: "" }, finish_reason: null }] }),
        cutOff: 'data: {"id":"chatcmpl-x","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"conte',
      });
      return;
    }
    default:
      assertNever(fault, "fault");
  }
}

export const openaiChatProtocol: ProtocolModule = {
  name: "openai-chat-completions",
  route,
  writeReply,
  writeFault,
  // 400, not 500: OpenCode retries 5xx for over a minute, while a harness error should surface at once.
  writeHarnessError: (res, message) => writeError(res, 400, { message, type: "invalid_request_error", code: "model_server_script" }),
};

// ---- OpenCode specifics ------------------------------------------------------------------------------

/** A turn calling OpenCode's `write` tool (`filePath` must be absolute; an existing file must be read first). */
export function opencodeWrite(filePath: string, content: string, text?: string): ReplyTurn {
  return toolTurn([{ name: "write", input: { filePath, content } }], text);
}

/** A turn calling OpenCode's `read` tool. */
export function opencodeRead(filePath: string, text?: string): ReplyTurn {
  return toolTurn([{ name: "read", input: { filePath } }], text);
}

/** A turn calling OpenCode's `edit` tool (exact string replacement; the file must be read first). */
export function opencodeEdit(filePath: string, oldString: string, newString: string, text?: string): ReplyTurn {
  return toolTurn([{ name: "edit", input: { filePath, oldString, newString } }], text);
}

/** A turn calling OpenCode's `bash` tool. */
export function opencodeBash(command: string, description = "run a command", text?: string): ReplyTurn {
  return toolTurn([{ name: "bash", input: { command, description } }], text);
}

/** The provider and model the written config defines; pass it as `-m`. */
export const OPENCODE_FAKE_MODEL = "fake/fake-model";

/** The config goes to `<home>/.config/opencode/opencode.json`, sessions under `<home>/.local/share`. */
export interface OpenCodeEnvOptions extends SandboxEnvOptions {
  /** The model server's base URL (no `/v1`). */
  url: string;
  /** How long one request may take before the CLI gives up (the provider's `timeout`; OpenCode's default is 300 s). */
  timeoutMs?: number;
  /** Longest silence inside a streamed answer (the provider's `chunkTimeout`). */
  chunkTimeoutMs?: number;
  /** The model's price in USD per million tokens, so that OpenCode reports a cost (none by default: 0). */
  modelCost?: { input: number; output: number };
  /** Merged over the written config's top level (e.g. `{ permission: {...} }`). */
  config?: Record<string, unknown>;
  /** More models the provider offers besides `fake-model`, by id (`backup-model` is `fake/backup-model`). */
  moreModels?: readonly string[];
}

/** The config file that points OpenCode at the scripted server through a custom OpenAI-compatible provider. */
export function opencodeConfig(
  options: Pick<OpenCodeEnvOptions, "url" | "timeoutMs" | "chunkTimeoutMs" | "modelCost" | "config" | "moreModels">,
): Record<string, unknown> {
  const model = { name: "Fake Model", tool_call: true, limit: { context: 200_000, output: 8_192 } };
  const priced = options.modelCost === undefined ? model : { ...model, cost: options.modelCost };
  return {
    $schema: "https://opencode.ai/config.json",
    model: OPENCODE_FAKE_MODEL,
    small_model: OPENCODE_FAKE_MODEL,
    autoupdate: false,
    share: "disabled",
    provider: {
      fake: {
        npm: "@ai-sdk/openai-compatible",
        name: "Fake",
        options: {
          baseURL: `${options.url}/v1`,
          apiKey: "sk-fake",
          timeout: options.timeoutMs ?? 30_000,
          chunkTimeout: options.chunkTimeoutMs ?? 15_000,
        },
        models: Object.fromEntries(["fake-model", ...(options.moreModels ?? [])].map((id) => [id, priced])),
      },
    },
    ...options.config,
  };
}

/** Writes the offline config into `home` and returns the complete environment that runs the real OpenCode CLI against the server. */
export function opencodeEnv(options: OpenCodeEnvOptions): Record<string, string> {
  writeJsonFile(join(options.home, ".config", "opencode", "opencode.json"), opencodeConfig(options));
  return {
    ...sandboxEnv(options),
    // Without these it fetches models.opencode.ai, checks for updates and downloads language servers.
    OPENCODE_DISABLE_MODELS_FETCH: "1",
    OPENCODE_DISABLE_AUTOUPDATE: "1",
    OPENCODE_DISABLE_LSP_DOWNLOAD: "1",
    // A fresh config dir makes it install @opencode-ai/plugin from npm; this registry refuses at once.
    npm_config_registry: "http://127.0.0.1:9/",
  };
}
