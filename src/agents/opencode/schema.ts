// Zod schemas for the lines of `opencode run --format json` (1.18.x): `{type, timestamp, sessionID, part|error}`.
// A field a line means nothing without is required; any other field is `lenient`: a bad value is dropped, not the line.
import { z } from "zod";
import { lenient } from "../parse-line.js";

const amount = z.number().nonnegative();

/** Enough of a line to choose the schema that reads the rest; every event names its session. */
export const LineHead = z.object({ type: z.string(), sessionID: lenient(z.string().min(1)) });

export const TextLine = z.object({
  type: z.literal("text"),
  part: z.object({
    text: z.string(),
    /** Text OpenCode wrote itself (e.g. the note after compacting an overflowing context), not the model's. */
    synthetic: lenient(z.boolean()),
  }),
});

/** A finished tool call: only `completed` and `error` states are printed. */
export const ToolUseLine = z.object({
  type: z.literal("tool_use"),
  part: z.object({
    tool: z.string(),
    callID: lenient(z.string()),
    state: z.object({
      status: z.string(),
      input: z.unknown(),
      output: lenient(z.string()),
      error: lenient(z.string()),
      /** `exit` is the bash tool's exit code. */
      metadata: lenient(z.object({ exit: lenient(z.number().int()) })),
    }),
  }),
});

export const StepTokens = z.object({
  input: amount,
  output: amount,
  reasoning: lenient(amount),
  cache: lenient(z.object({ read: lenient(amount), write: lenient(amount) })),
});
export type StepTokens = z.infer<typeof StepTokens>;

/** The end of one model call: `reason` is the AI SDK's finish reason (`tool-calls`, `stop`, `length`…). */
export const StepFinishLine = z.object({
  type: z.literal("step_finish"),
  part: z.object({
    reason: lenient(z.string()),
    tokens: lenient(StepTokens),
    /** This step's cost in USD, from the model's price table (0 when the config gives none). */
    cost: lenient(amount),
  }),
});

/**
 * A session error. `name` is OpenCode's (`APIError`, `ContextOverflowError`, `ProviderAuthError`,
 * `UnknownError`…); an HTTP failure carries the status and whether OpenCode would retry it.
 */
export const ErrorLine = z.object({
  type: z.literal("error"),
  error: z.object({
    name: z.string(),
    data: lenient(
      z.object({
        message: lenient(z.string()),
        statusCode: lenient(z.number().int()),
        isRetryable: lenient(z.boolean()),
        responseBody: lenient(z.string()),
      }),
    ),
  }),
});

export type ToolUseLine = z.infer<typeof ToolUseLine>;
export type StepFinishLine = z.infer<typeof StepFinishLine>;
export type ErrorLine = z.infer<typeof ErrorLine>;
