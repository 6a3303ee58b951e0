// Zod schemas for the stream-json lines of `claude -p --output-format stream-json --verbose` (2.1.x).
// A field a line means nothing without is required; any other field is `lenient`: a bad value is dropped, not the line.
import { z } from "zod";
import { lenient } from "../parse-line.js";

const count = z.number().int().nonnegative();
const amount = z.number().nonnegative();

/** Enough of a line to choose the schema that reads the rest. */
export const LineHead = z.object({ type: z.string(), subtype: lenient(z.string()) });

export const SystemInit = z.object({
  type: z.literal("system"),
  subtype: z.literal("init"),
  session_id: z.string().min(1),
  model: lenient(z.string()),
});

/** The CLI's own retry of a failed API call: `error_status` is null for network errors and timeouts. */
export const SystemApiRetry = z.object({
  type: z.literal("system"),
  subtype: z.literal("api_retry"),
  attempt: z.number().int(),
  max_retries: lenient(z.number().int()),
  retry_delay_ms: lenient(amount),
  error_status: lenient(z.number().int()),
  error: lenient(z.string()),
});

export const SystemModelFallback = z.object({
  type: z.literal("system"),
  subtype: z.literal("model_fallback"),
  original_model: z.string(),
  fallback_model: z.string(),
  trigger: lenient(z.string()),
  content: lenient(z.string()),
});

export const TextBlock = z.object({ type: z.literal("text"), text: z.string() });
export const ToolUseBlock = z.object({
  type: z.literal("tool_use"),
  id: z.string(),
  name: z.string(),
  input: z.unknown(),
});
/** Blocks that carry nothing orch shows: the model's private reasoning. */
export const ThinkingBlock = z.object({ type: z.enum(["thinking", "redacted_thinking"]) });

/** One line per content block in practice, but the array may hold several. */
export const AssistantLine = z.object({
  type: z.literal("assistant"),
  message: z.object({ content: z.array(z.unknown()) }),
});

export const ToolResultBlock = z.object({
  type: z.literal("tool_result"),
  tool_use_id: lenient(z.string()),
  /** A string, or parts such as `{type:"text", text}` and images. */
  content: lenient(z.union([z.string(), z.array(z.unknown())])),
  is_error: lenient(z.boolean()),
});
export const TextPart = z.object({ type: z.literal("text"), text: z.string() });
export const TypedPart = z.object({ type: z.string() });

export const UserLine = z.object({
  type: z.literal("user"),
  message: z.object({ content: z.union([z.string(), z.array(z.unknown())]) }),
});

export const ResultUsage = z.object({
  input_tokens: amount,
  output_tokens: amount,
  cache_creation_input_tokens: lenient(amount),
  cache_read_input_tokens: lenient(amount),
});

/**
 * The final line. `subtype` is `success` even for API errors (then `is_error` is true and `result` holds the
 * message); error subtypes (`error_max_turns`, `error_during_execution`…) carry `errors` instead of `result`.
 */
export const ResultLine = z.object({
  type: z.literal("result"),
  subtype: z.string(),
  is_error: z.boolean(),
  result: lenient(z.string()),
  errors: lenient(z.array(z.string())),
  session_id: lenient(z.string()),
  num_turns: lenient(count),
  total_cost_usd: lenient(amount),
  api_error_status: lenient(z.number().int()),
  usage: lenient(ResultUsage),
  permission_denials: lenient(z.array(z.unknown())),
  terminal_reason: lenient(z.string()),
});

export type SystemInit = z.infer<typeof SystemInit>;
export type SystemApiRetry = z.infer<typeof SystemApiRetry>;
export type SystemModelFallback = z.infer<typeof SystemModelFallback>;
export type AssistantLine = z.infer<typeof AssistantLine>;
export type UserLine = z.infer<typeof UserLine>;
export type ResultLine = z.infer<typeof ResultLine>;
export type ResultUsage = z.infer<typeof ResultUsage>;
