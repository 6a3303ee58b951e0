// The normalized agent event: what every adapter turns its CLI's output stream into. The journal stores
// these, `orch logs` prints them, the status line shows the latest, and failure classification reads them.
import { z } from "zod";

export const TokenUsage = z.object({
  inputTokens: z.number().nonnegative(),
  outputTokens: z.number().nonnegative(),
  cacheReadTokens: z.number().nonnegative().optional(),
  cacheWriteTokens: z.number().nonnegative().optional(),
});
export type TokenUsage = z.infer<typeof TokenUsage>;

export const AgentEvent = z.discriminatedUnion("type", [
  z.object({ type: z.literal("session.started"), sessionId: z.string(), model: z.string().optional() }),
  z.object({ type: z.literal("text"), text: z.string() }),
  z.object({
    type: z.literal("tool.called"),
    id: z.string().optional(),
    name: z.string(),
    /** Short human summary of the input, e.g. the command or the file path. */
    summary: z.string(),
    input: z.unknown().optional(),
  }),
  z.object({
    type: z.literal("tool.returned"),
    id: z.string().optional(),
    isError: z.boolean(),
    exitCode: z.number().int().optional(),
    /** Trimmed output; the full text is in the raw transcript file. */
    output: z.string(),
  }),
  z.object({
    type: z.literal("usage"),
    usage: TokenUsage,
    /** Cumulative cost of the session so far, when the CLI reports it. */
    costUsd: z.number().nonnegative().optional(),
  }),
  z.object({
    type: z.literal("retry"),
    attempt: z.number().int(),
    delayMs: z.number().nonnegative().optional(),
    httpStatus: z.number().int().optional(),
    error: z.string().optional(),
  }),
  z.object({ type: z.literal("model.fallback"), from: z.string(), to: z.string(), reason: z.string().optional() }),
  z.object({
    type: z.literal("result"),
    ok: z.boolean(),
    text: z.string().optional(),
    sessionId: z.string().optional(),
    usage: TokenUsage.optional(),
    costUsd: z.number().nonnegative().optional(),
    turns: z.number().int().optional(),
    httpStatus: z.number().int().optional(),
    /** The CLI's own reason word (`success`, `error_max_turns`, `prompt_too_long`…). */
    reason: z.string().optional(),
    permissionDenials: z.number().int().optional(),
    /** The tools the CLI refused the agent, by name, where it says which. */
    deniedTools: z.array(z.string()).optional(),
  }),
  z.object({ type: z.literal("unknown"), raw: z.string() }),
]);
export type AgentEvent = z.infer<typeof AgentEvent>;
export type AgentEventType = AgentEvent["type"];

/** Cap for text kept in a journal row; the raw transcript keeps everything. */
export const EVENT_TEXT_LIMIT = 4_000;

export function clip(text: string, limit = EVENT_TEXT_LIMIT): string {
  if (text.length <= limit) return text;
  const head = Math.floor(limit * 0.6);
  const tail = limit - head;
  return `${text.slice(0, head)}\n… [${text.length - limit} characters cut] …\n${text.slice(text.length - tail)}`;
}

/** One line describing what the agent is doing, for the live status line and `orch logs`. */
export function describeAgentEvent(event: AgentEvent): string {
  switch (event.type) {
    case "session.started":
      return `session ${event.sessionId}${event.model ? ` (${event.model})` : ""}`;
    case "text":
      return event.text;
    case "tool.called":
      return `${event.name} ${event.summary}`.trim();
    case "tool.returned":
      return `${event.isError ? "error" : "ok"}${event.exitCode !== undefined ? ` (exit ${event.exitCode})` : ""}: ${event.output}`;
    case "usage":
      return `tokens in ${event.usage.inputTokens} out ${event.usage.outputTokens}${event.costUsd !== undefined ? ` $${event.costUsd.toFixed(4)}` : ""}`;
    case "retry":
      return `API retry ${event.attempt}${event.httpStatus ? ` after HTTP ${event.httpStatus}` : ""}${event.error ? `: ${event.error}` : ""}`;
    case "model.fallback":
      return `model ${event.from} → ${event.to}${event.reason ? ` (${event.reason})` : ""}`;
    case "result":
      return `${event.ok ? "finished" : "failed"}${event.reason ? ` [${event.reason}]` : ""}${event.text ? `: ${event.text}` : ""}`;
    case "unknown":
      return event.raw;
  }
}
