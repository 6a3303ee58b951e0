// The Gemini API wire protocol for the scripted model server (`streamGenerateContent` SSE replies, Google
// error bodies), plus the Gemini CLI specifics: its tool-call shapes and the offline HOME that runs it.
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
import { chunks, sseFrame, writeEventStream, writeMalformedStream } from "./sse.js";

const Part = z.looseObject({
  text: z.string().optional(),
  functionResponse: z.looseObject({ name: z.string().optional(), response: z.unknown() }).optional(),
});
const Content = z.looseObject({ role: z.string().optional(), parts: z.array(z.unknown()).optional() });
const GenerateBody = z.looseObject({
  contents: z.array(z.unknown()).optional(),
  generationConfig: z
    .looseObject({
      responseJsonSchema: z.unknown().optional(),
      responseSchema: z.unknown().optional(),
      responseMimeType: z.string().optional(),
    })
    .optional(),
});
const FunctionOutput = z.looseObject({ output: z.string() });

/** `/v1beta/models/gemini-2.5-flash:streamGenerateContent` → model and method. */
const MODEL_PATH = /^\/v1(?:beta|alpha)?\/models\/([^/:]+):([A-Za-z]+)$/;

/**
 * All text of the last `user` content: prompt text parts and tool results alike. A function response's
 * `output` string is taken as is; any other response shape is its JSON.
 */
export function geminiLastUserText(body: unknown): string {
  const parsed = GenerateBody.safeParse(body);
  if (!parsed.success) return "";
  const contents = (parsed.data.contents ?? []).flatMap((c) => {
    const content = Content.safeParse(c);
    return content.success ? [content.data] : [];
  });
  const last = contents.findLast((c) => c.role === "user");
  if (last === undefined) return "";
  const texts: string[] = [];
  for (const raw of last.parts ?? []) {
    const part = Part.safeParse(raw);
    if (!part.success) continue;
    if (part.data.text !== undefined) texts.push(part.data.text);
    const response = part.data.functionResponse?.response;
    if (response !== undefined) {
      const output = FunctionOutput.safeParse(response);
      texts.push(output.success ? output.data.output : JSON.stringify(response));
    }
  }
  return texts.join("\n");
}

function route(request: IncomingModelRequest): RouteDecision | undefined {
  if (request.method !== "POST") return undefined;
  const match = MODEL_PATH.exec(request.path);
  if (match === null) return undefined;
  const [, model, method] = match;
  switch (method) {
    case "streamGenerateContent":
      return { kind: "turn", streaming: true, model, lastUserText: geminiLastUserText(request.body) };
    case "generateContent":
      // The CLI's own side requests (model router, next-speaker check, session titles): answered without
      // touching the script, so a script lists only the turns of the conversation itself.
      return { kind: "fixed", status: 200, body: sideAnswer(request.body, model), label: `generateContent ${model ?? ""}` };
    case "countTokens":
      return { kind: "fixed", status: 200, body: { totalTokens: DEFAULT_USAGE.input_tokens }, label: "countTokens" };
    default:
      return undefined;
  }
}

/** A non-streaming answer: JSON shaped after the request's schema when it asks for JSON, else a short text. */
function sideAnswer(body: unknown, model: string | undefined): unknown {
  const parsed = GenerateBody.safeParse(body);
  const config = parsed.success ? parsed.data.generationConfig : undefined;
  const schema = config?.responseJsonSchema ?? config?.responseSchema;
  const text =
    schema !== undefined || config?.responseMimeType === "application/json"
      ? JSON.stringify(valueForSchema(schema, 0))
      : "Scripted session";
  return response([{ text }], DEFAULT_USAGE, model, true);
}

const JsonSchema = z.looseObject({
  type: z.union([z.string(), z.array(z.string())]).optional(),
  enum: z.array(z.unknown()).optional(),
  properties: z.record(z.string(), z.unknown()).optional(),
  items: z.unknown().optional(),
  minimum: z.number().optional(),
});

/**
 * The simplest value a JSON schema accepts: an enum's first member (the next-speaker check's `user`, which
 * ends the turn), a placeholder string, the smallest number (1 unless a minimum says otherwise: the router's
 * complexity score runs 1–100, so 1 routes to the fast model), objects with every listed property.
 */
function valueForSchema(schema: unknown, depth: number): unknown {
  const parsed = JsonSchema.safeParse(schema);
  if (!parsed.success || depth > 8) return {};
  const { enum: members, properties, items, minimum } = parsed.data;
  if (members !== undefined && members.length > 0) return members[0];
  const type = (Array.isArray(parsed.data.type) ? parsed.data.type[0] : parsed.data.type)?.toLowerCase();
  switch (type) {
    case "string":
      return "scripted";
    case "number":
    case "integer":
      return minimum ?? 1;
    case "boolean":
      return false;
    case "array":
      return items === undefined ? [] : [valueForSchema(items, depth + 1)];
    default:
      return Object.fromEntries(Object.entries(properties ?? {}).map(([key, sub]) => [key, valueForSchema(sub, depth + 1)]));
  }
}

type GeminiPart = { text: string } | { functionCall: { name: string; args: Record<string, unknown> } };

function response(parts: GeminiPart[], usage: { input_tokens: number; output_tokens: number } | undefined, model: string | undefined, last: boolean) {
  return {
    candidates: [
      {
        content: { role: "model", parts },
        index: 0,
        ...(last ? { finishReason: "STOP" } : {}),
      },
    ],
    ...(usage === undefined
      ? {}
      : {
          usageMetadata: {
            promptTokenCount: usage.input_tokens,
            candidatesTokenCount: usage.output_tokens,
            totalTokenCount: usage.input_tokens + usage.output_tokens,
          },
        }),
    modelVersion: model ?? "scripted-model",
    responseId: hex(8),
  };
}

/** Google's frames end their lines with CRLF. */
const sse = (data: unknown): string => sseFrame(data, "\r\n");

function writeReply(res: ServerResponse, reply: ReplyTurn, ctx: ReplyContext): void {
  const usage = reply.usage ?? DEFAULT_USAGE;
  const tools = reply.tools ?? [];
  const text = reply.text ?? (tools.length === 0 ? "" : undefined);
  const calls: GeminiPart[] = tools.map((tool) => ({ functionCall: { name: tool.name, args: tool.input } }));
  if (!ctx.streaming) {
    writeJson(res, 200, response([...(text === undefined ? [] : [{ text }]), ...calls], usage, ctx.model, true));
    return;
  }
  // Text in two chunks (the CLI prints each as a delta), then the calls, the finish reason and the usage.
  const pieces = text === undefined ? [] : chunks(text);
  const head = pieces.slice(0, -1);
  const lastPiece = pieces.at(-1);
  const frames = head.map((piece) => sse(response([{ text: piece }], undefined, ctx.model, false)));
  frames.push(sse(response([...(lastPiece === undefined ? [] : [{ text: lastPiece }]), ...calls], usage, ctx.model, true)));
  writeEventStream(res, frames);
}

type GoogleStatus = "RESOURCE_EXHAUSTED" | "UNAVAILABLE" | "INTERNAL" | "UNAUTHENTICATED" | "INVALID_ARGUMENT" | "UNKNOWN";

function writeError(
  res: ServerResponse,
  code: number,
  status: GoogleStatus,
  message: string,
  details: unknown[] = [],
  headers: Record<string, string> = {},
): void {
  const body = { error: { code, message, status, ...(details.length > 0 ? { details } : {}) } };
  writeJson(res, code, body, { "content-type": "application/json; charset=UTF-8", ...headers });
}

function writeFault(res: ServerResponse, fault: ProtocolFault, ctx: ReplyContext): void {
  switch (fault.fault) {
    case "rate_limit": {
      // Google states the wait in a RetryInfo detail, which is what the CLI reads; the header is for others.
      const seconds = fault.retryAfterSeconds;
      const details =
        seconds === undefined ? [] : [{ "@type": "type.googleapis.com/google.rpc.RetryInfo", retryDelay: `${seconds}s` }];
      writeError(res, 429, "RESOURCE_EXHAUSTED", "Resource has been exhausted (e.g. check quota).", details, retryAfter(seconds));
      return;
    }
    case "overloaded":
      // What Google sends when a model is overloaded (Anthropic's 529 has no Gemini counterpart).
      writeError(res, 503, "UNAVAILABLE", "The model is overloaded. Please try again later.", [], retryAfter(fault.retryAfterSeconds));
      return;
    case "server_error": {
      const message = "An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting";
      writeError(res, fault.status ?? 500, "INTERNAL", message, [], retryAfter(fault.retryAfterSeconds));
      return;
    }
    case "unauthorized":
      writeError(res, 401, "UNAUTHENTICATED", "API key not valid. Please pass a valid API key.");
      return;
    case "context_too_long":
      writeError(res, 400, "INVALID_ARGUMENT", "The input token count (1500000) exceeds the maximum number of tokens allowed (1048576).");
      return;
    case "malformed":
      // No finish reason ever comes.
      writeMalformedStream(res, {
        first: sse(response([{ text: "partial " }], undefined, ctx.model, false)),
        cutOff: 'data: {"candidates":[{"content":{"role":"model","parts":[{"te',
        eol: "\r\n",
      });
      return;
    default:
      assertNever(fault, "fault");
  }
}

export const geminiProtocol: ProtocolModule = {
  name: "gemini-generate-content",
  route,
  writeReply,
  writeFault,
  writeHarnessError: (res, message) => writeError(res, 500, "INTERNAL", message),
};

// ---- Gemini CLI specifics -------------------------------------------------------------------------

/** A turn in which the model calls the CLI's write_file tool (a path relative to the workspace works). */
export function geminiWrite(filePath: string, content: string, text?: string): ReplyTurn {
  return toolTurn([{ name: "write_file", input: { file_path: filePath, content } }], text);
}

/** A turn in which the model calls the CLI's run_shell_command tool. */
export function geminiShell(command: string, description = "run a command", text?: string): ReplyTurn {
  return toolTurn([{ name: "run_shell_command", input: { command, description } }], text);
}

/** A turn in which the model calls the CLI's read_file tool. */
export function geminiRead(filePath: string, text?: string): ReplyTurn {
  return toolTurn([{ name: "read_file", input: { file_path: filePath } }], text);
}

/** `~/.gemini/settings.json` is written to `home`; the CLI writes gemini-client-error-*.json to `tmp` on API errors. */
export interface GeminiEnvOptions extends SandboxEnvOptions {
  /** The model server's base URL. */
  url: string;
  /** `general.maxAttempts`: requests per model call, retries included; 1 surfaces scripted faults at once. */
  maxAttempts?: number;
}

/**
 * Writes the settings the CLI needs to run offline into `home` (API-key auth, no usage statistics, no
 * telemetry, no update checks, bounded retries) and returns the complete environment that points it at the
 * scripted server.
 */
export function geminiEnv(options: GeminiEnvOptions): Record<string, string> {
  const settings = {
    // Without it the base-URL variable selects the "gateway" auth type and the CLI exits 41.
    security: { auth: { selectedType: "gemini-api-key" } },
    privacy: { usageStatisticsEnabled: false },
    telemetry: { enabled: false },
    general: {
      enableAutoUpdate: false,
      enableAutoUpdateNotification: false,
      maxAttempts: options.maxAttempts ?? 1,
    },
  };
  writeJsonFile(join(options.home, ".gemini", "settings.json"), settings);
  return {
    ...sandboxEnv(options),
    GEMINI_API_KEY: "fake-gemini-key",
    GOOGLE_GEMINI_BASE_URL: options.url,
    NO_BROWSER: "true",
  };
}
