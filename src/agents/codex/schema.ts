// Zod schemas for the JSON lines of `codex exec --json` (0.169): thread and turn events, and the items
// (messages, commands, patches, MCP calls…) they carry. A field a line means nothing without is required; any
// other field is `lenient`: a bad value is dropped, not the line.
import { z } from "zod";
import { lenient } from "../parse-line.js";

const count = z.number().nonnegative();

/** Enough of a line to choose the schema that reads the rest. */
export const LineHead = z.object({ type: z.string() });

export const ThreadStarted = z.object({ type: z.literal("thread.started"), thread_id: z.string().min(1) });

/**
 * Token figures of the whole thread so far (a resumed thread's include the earlier turns). `input_tokens`
 * includes the cached part; `output_tokens` includes the reasoning part.
 */
export const Usage = z.object({
  input_tokens: count,
  output_tokens: count,
  cached_input_tokens: lenient(count),
  cache_write_input_tokens: lenient(count),
  reasoning_output_tokens: lenient(count),
});

export const TurnCompleted = z.object({ type: z.literal("turn.completed"), usage: lenient(Usage) });
export const TurnFailed = z.object({
  type: z.literal("turn.failed"),
  error: lenient(z.object({ message: z.string() })),
});

/** Top-level `error`: a retry (`Reconnecting... 2/5 (…)`) or the fatal error that ends the turn. */
export const ThreadError = z.object({ type: z.literal("error"), message: z.string() });

export const ItemLine = z.object({
  type: z.enum(["item.started", "item.updated", "item.completed"]),
  item: z.object({ id: lenient(z.string()), type: z.string() }).loose(),
});

export const AgentMessageItem = z.object({ type: z.enum(["agent_message", "plan"]), text: z.string() });

export const CommandItem = z.object({
  type: z.literal("command_execution"),
  command: z.string(),
  aggregated_output: lenient(z.string()),
  /** Set once the command has exited. */
  exit_code: lenient(z.number().int()),
  status: lenient(z.string()),
});

export const FileChangeItem = z.object({
  type: z.literal("file_change"),
  changes: z.array(z.object({ path: z.string(), kind: z.string() })),
  status: lenient(z.string()),
});

export const McpToolCallItem = z.object({
  type: z.literal("mcp_tool_call"),
  server: z.string(),
  tool: z.string(),
  arguments: z.unknown(),
  result: lenient(z.object({ content: z.array(z.unknown()) }).loose()),
  error: lenient(z.object({ message: z.string() })),
  status: lenient(z.string()),
});

export const WebSearchItem = z.object({ type: z.literal("web_search"), query: lenient(z.string()) });

/** A non-fatal warning the CLI surfaced as an item (e.g. unknown model metadata). */
export const ErrorItem = z.object({ type: z.literal("error"), message: z.string() });

/** Items that carry nothing orch shows: private reasoning and the running to-do list. */
export const SilentItem = z.object({ type: z.enum(["reasoning", "todo_list"]) });

export const TextPart = z.object({ type: z.literal("text"), text: z.string() });

export type Usage = z.infer<typeof Usage>;
