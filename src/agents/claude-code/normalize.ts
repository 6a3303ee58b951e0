// Turns Claude Code stream-json lines into normalized AgentEvents. Invariant: whatever a line holds, the
// parser returns valid events and never throws; a line it cannot read becomes `{ type: "unknown", raw }`.
import type { AgentParser } from "../agent.js";
import { clip, type AgentEvent, type TokenUsage } from "../../core/agent-event.js";
import { isRecord, neverThrowing, readJsonLine, unknownEvent } from "../parse-line.js";
import { clipInput, summarizeToolInput, type SummaryFields } from "../tool-input.js";
import {
  AssistantLine,
  LineHead,
  ResultLine,
  SystemApiRetry,
  SystemInit,
  SystemModelFallback,
  TextBlock,
  TextPart,
  ThinkingBlock,
  ToolResultBlock,
  ToolUseBlock,
  TypedPart,
  UserLine,
  type ResultUsage,
} from "./schema.js";

/** Per-attempt memory: which tool each tool_use id named, to read a Bash exit code from its result. */
export interface ParserState {
  toolNames: Map<string, string>;
}

/** The one input field that says what a call does, for the tools where one does. */
const SUMMARY_FIELDS: SummaryFields = {
  Bash: "command",
  Write: "file_path",
  Edit: "file_path",
  MultiEdit: "file_path",
  Read: "file_path",
  NotebookEdit: "notebook_path",
};

export function createClaudeParser(): AgentParser {
  const state = createParserState();
  return neverThrowing((line) => normalizeLine(line, state));
}

export function createParserState(): ParserState {
  return { toolNames: new Map() };
}

/** The mapping itself, without the safety net, so that tests see any throw. */
export function normalizeLine(line: string, state: ParserState): AgentEvent[] {
  if (line.trim() === "") return [];
  const read = readJsonLine(line, LineHead);
  if (read === undefined) return [unknownEvent(line)];

  switch (read.head.type) {
    case "system":
      return normalizeSystem(line, read.value, read.head.subtype);
    case "assistant":
      return normalizeAssistant(line, read.value, state);
    case "user":
      return normalizeUser(line, read.value, state);
    case "result":
      return normalizeResult(line, read.value);
    case "stream_event":
      // Partial-message deltas, printed only with --include-partial-messages (which orch does not pass).
      // They repeat what the complete `assistant` lines carry, so journaling them would only add noise.
      return [];
    default:
      // rate_limit_event, tool_progress, auth_status and types newer than this adapter: kept as `unknown`
      // so the journal shows them and a later adapter version can map them from the record.
      return [unknownEvent(line)];
  }
}

function normalizeSystem(line: string, value: unknown, subtype: string | undefined): AgentEvent[] {
  switch (subtype) {
    case "init": {
      const init = SystemInit.safeParse(value);
      if (!init.success) return [unknownEvent(line)];
      return [{ type: "session.started", sessionId: init.data.session_id, model: init.data.model }];
    }
    case "api_retry": {
      const retry = SystemApiRetry.safeParse(value);
      if (!retry.success) return [unknownEvent(line)];
      const { attempt, retry_delay_ms: delay, error_status: httpStatus, error } = retry.data;
      return [
        {
          type: "retry",
          attempt,
          delayMs: delay === undefined ? undefined : Math.round(delay),
          httpStatus,
          error,
        },
      ];
    }
    case "model_fallback": {
      const fallback = SystemModelFallback.safeParse(value);
      if (!fallback.success) return [unknownEvent(line)];
      const { original_model: from, fallback_model: to, trigger, content } = fallback.data;
      return [{ type: "model.fallback", from, to, reason: trigger ?? content }];
    }
    default:
      // compact_boundary, hook_*, status, task_*…: rare and sometimes telling (a compaction explains a
      // changed context), so they stay visible as `unknown` rather than vanish.
      return [unknownEvent(line)];
  }
}

function normalizeAssistant(line: string, value: unknown, state: ParserState): AgentEvent[] {
  const parsed = AssistantLine.safeParse(value);
  if (!parsed.success) return [unknownEvent(line)];
  // The per-message `usage` is deliberately ignored: with one line per content block the same message's
  // usage repeats on every line, and the result line carries the session's cumulative figures.
  const events: AgentEvent[] = [];
  let unreadBlock = false;
  for (const block of parsed.data.message.content) {
    const text = TextBlock.safeParse(block);
    if (text.success) {
      if (text.data.text.trim() !== "") events.push({ type: "text", text: clip(text.data.text) });
      continue;
    }
    const tool = ToolUseBlock.safeParse(block);
    if (tool.success) {
      const { id, name, input } = tool.data;
      state.toolNames.set(id, name);
      events.push({ type: "tool.called", id, name, summary: summarizeToolInput(SUMMARY_FIELDS, name, input), input: clipInput(input) });
      continue;
    }
    if (ThinkingBlock.safeParse(block).success) continue;
    unreadBlock = true;
  }
  // A block of a kind this adapter does not know (server tools, a new type) keeps the line visible.
  if (unreadBlock) events.push(unknownEvent(line));
  return events;
}

function normalizeUser(line: string, value: unknown, state: ParserState): AgentEvent[] {
  const parsed = UserLine.safeParse(value);
  if (!parsed.success) return [unknownEvent(line)];
  const { content } = parsed.data.message;
  // A plain user message is the prompt or a CLI note ("[Request interrupted…]"): orch wrote the prompt
  // itself, so only tool results are news.
  if (typeof content === "string") return [];
  const events: AgentEvent[] = [];
  for (const block of content) {
    const result = ToolResultBlock.safeParse(block);
    if (!result.success) continue;
    const { tool_use_id: id, content: resultContent, is_error: isError = false } = result.data;
    const output = toolResultText(resultContent);
    const exitCode = id !== undefined && state.toolNames.get(id) === "Bash" ? bashExitCode(output) : undefined;
    events.push({ type: "tool.returned", id, isError, exitCode, output: clip(output) });
  }
  return events;
}

/** The distinct tool names in Claude's `permission_denials` ({tool_name, tool_use_id, tool_input}). */
function deniedTools(denials: readonly unknown[] | undefined): string[] | undefined {
  const names = new Set<string>();
  for (const denial of denials ?? []) {
    if (isRecord(denial) && typeof denial["tool_name"] === "string" && denial["tool_name"] !== "") names.add(denial["tool_name"]);
  }
  return names.size === 0 ? undefined : [...names];
}

function normalizeResult(line: string, value: unknown): AgentEvent[] {
  const parsed = ResultLine.safeParse(value);
  if (!parsed.success) return [unknownEvent(line)];
  const r = parsed.data;
  const usage = r.usage === undefined ? undefined : toTokenUsage(r.usage);
  const text = r.result ?? r.errors?.join("\n");
  const events: AgentEvent[] = [];
  if (usage !== undefined) events.push({ type: "usage", usage, costUsd: r.total_cost_usd });
  events.push({
    type: "result",
    ok: !r.is_error && r.subtype === "success",
    text: text === undefined ? undefined : clip(text),
    sessionId: r.session_id,
    usage,
    costUsd: r.total_cost_usd,
    turns: r.num_turns,
    httpStatus: r.api_error_status,
    reason: resultReason(r.subtype, r.terminal_reason),
    permissionDenials: r.permission_denials?.length,
    deniedTools: deniedTools(r.permission_denials),
  });
  return events;
}

/**
 * An error subtype (`error_max_turns`) says most; `success` says little when `is_error` is set (an API error
 * ends "successfully"), and then a terminal reason such as `prompt_too_long` is the telling word.
 */
function resultReason(subtype: string, terminalReason: string | undefined): string {
  if (subtype === "success" && terminalReason !== undefined && terminalReason !== "completed") return terminalReason;
  return subtype;
}

function toTokenUsage(usage: ResultUsage): TokenUsage {
  return {
    inputTokens: usage.input_tokens,
    outputTokens: usage.output_tokens,
    cacheReadTokens: usage.cache_read_input_tokens,
    cacheWriteTokens: usage.cache_creation_input_tokens,
  };
}

function toolResultText(content: string | unknown[] | undefined): string {
  if (content === undefined) return "";
  if (typeof content === "string") return content;
  const parts: string[] = [];
  for (const part of content) {
    const text = TextPart.safeParse(part);
    if (text.success) {
      parts.push(text.data.text);
      continue;
    }
    const typed = TypedPart.safeParse(part);
    parts.push(typed.success ? `[${typed.data.type}]` : "[?]");
  }
  return parts.join("\n");
}

/** Claude's Bash tool reports a failing command as `Exit code N` on the first line of an error result. */
function bashExitCode(output: string): number | undefined {
  const match = /^Exit code (-?\d{1,6})\b/.exec(output);
  if (match?.[1] === undefined) return undefined;
  return Number.parseInt(match[1], 10);
}
