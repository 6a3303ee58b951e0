// Zod schemas for the lines of `gemini -p … --output-format stream-json` (0.61.x). A field a line means
// nothing without is required; any other field is `lenient`: a bad value is dropped, not the line.
import { z } from "zod";
import { lenient } from "../parse-line.js";

const count = z.number().int().nonnegative();

/** Enough of a line to choose the schema that reads the rest. */
export const LineHead = z.object({ type: z.string() });

export const InitLine = z.object({
  type: z.literal("init"),
  session_id: z.string().min(1),
  model: lenient(z.string()),
});

/** The prompt (`role: "user"`) or a piece of the model's answer (`role: "assistant"`, `delta: true`). */
export const MessageLine = z.object({
  type: z.literal("message"),
  role: z.string(),
  content: z.string(),
  delta: lenient(z.boolean()),
});

export const ToolUseLine = z.object({
  type: z.literal("tool_use"),
  tool_name: z.string(),
  tool_id: lenient(z.string()),
  parameters: z.unknown().optional(),
});

const ErrorDetail = z.object({ type: lenient(z.string()), message: lenient(z.string()) });

/** `status` is `success` even for a shell command that exited non-zero; `error` only for tool errors. */
export const ToolResultLine = z.object({
  type: z.literal("tool_result"),
  tool_id: lenient(z.string()),
  status: z.string(),
  output: lenient(z.string()),
  error: lenient(ErrorDetail),
});

/** A warning or error the CLI reports mid-session (an empty model response, a loop, a blocked agent). */
export const ErrorLine = z.object({
  type: z.literal("error"),
  severity: lenient(z.string()),
  message: z.string(),
});

export const StreamStats = z.object({
  input_tokens: count,
  output_tokens: count,
  /** The part of `input_tokens` served from the cache. */
  cached: lenient(count),
  /** `input_tokens - cached`: the prompt tokens not served from the cache. */
  input: lenient(count),
  total_tokens: lenient(count),
  duration_ms: lenient(count),
  tool_calls: lenient(count),
});

/**
 * The final line. API errors carry `error.message` with the CLI's `[API Error: …]` text; an invalid model
 * stream ends `status: "error"` without `error`, after an `error` line that says why.
 */
export const ResultLine = z.object({
  type: z.literal("result"),
  status: z.string(),
  error: lenient(ErrorDetail),
  stats: lenient(StreamStats),
});

export type InitLine = z.infer<typeof InitLine>;
export type MessageLine = z.infer<typeof MessageLine>;
export type ToolUseLine = z.infer<typeof ToolUseLine>;
export type ToolResultLine = z.infer<typeof ToolResultLine>;
export type ErrorLine = z.infer<typeof ErrorLine>;
export type ResultLine = z.infer<typeof ResultLine>;
export type StreamStats = z.infer<typeof StreamStats>;
