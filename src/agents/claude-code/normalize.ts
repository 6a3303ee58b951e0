// Turns Claude Code stream-json lines into normalized AgentEvents. Invariant: whatever a line holds, the
// parser returns valid events and never throws; a line it cannot read becomes `{ type: "unknown", raw }`.
import type { AgentParser } from "../agent.js";
import { clip, type AgentEvent, type TokenUsage } from "../../core/agent-event.js";
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

const SUMMARY_LIMIT = 200;
/** Cap for each string inside a tool input (a Write's content); the raw transcript keeps everything. */
const INPUT_STRING_LIMIT = 1_000;
const INPUT_DEPTH_LIMIT = 8;

export function createClaudeParser(): AgentParser {
  const state = createParserState();
  return {
    parseLine(line: string): AgentEvent[] {
      try {
        return normalizeLine(line, state);
      } catch {
        // The schemas make this unreachable for any input we know of; a mapping bug must still cost one
        // line of transcript, not the attempt.
        return [unknownEvent(line)];
      }
    },
  };
}

export function createParserState(): ParserState {
  return { toolNames: new Map() };
}

/** The mapping itself, without the safety net, so that tests see any throw. */
export function normalizeLine(line: string, state: ParserState): AgentEvent[] {
  if (line.trim() === "") return [];
  const json = parseJson(line);
  if (json === undefined) return [unknownEvent(line)];
  const head = LineHead.safeParse(json.value);
  if (!head.success) return [unknownEvent(line)];

  switch (head.data.type) {
    case "system":
      return normalizeSystem(line, json.value, head.data.subtype);
    case "assistant":
      return normalizeAssistant(line, json.value, state);
    case "user":
      return normalizeUser(line, json.value, state);
    case "result":
      return normalizeResult(line, json.value);
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
      events.push({ type: "tool.called", id, name, summary: summarizeToolInput(name, input), input: clipInput(input) });
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

function summarizeToolInput(name: string, input: unknown): string {
  const field = SUMMARY_FIELDS[name];
  if (field !== undefined && isRecord(input)) {
    const value = input[field];
    if (typeof value === "string") return shorten(value);
  }
  if (input === undefined) return "";
  return shorten(safeStringify(input));
}

/** The one input field that says what a call does, for the tools where one does. */
const SUMMARY_FIELDS: Partial<Record<string, string>> = {
  Bash: "command",
  Write: "file_path",
  Edit: "file_path",
  MultiEdit: "file_path",
  Read: "file_path",
  NotebookEdit: "notebook_path",
};

/** One line, at most SUMMARY_LIMIT characters: the status line has room for nothing more. */
function shorten(text: string): string {
  const oneLine = text.replace(/\s+/g, " ").trim();
  return oneLine.length <= SUMMARY_LIMIT ? oneLine : `${oneLine.slice(0, SUMMARY_LIMIT - 1)}…`;
}

/** Keeps the input's shape but clips long strings, so a large Write does not land whole in a journal row. */
function clipInput(value: unknown, depth = 0): unknown {
  if (typeof value === "string") return clip(value, INPUT_STRING_LIMIT);
  if (depth >= INPUT_DEPTH_LIMIT) return Array.isArray(value) || isRecord(value) ? "[…]" : value;
  if (Array.isArray(value)) return value.map((item) => clipInput(item, depth + 1));
  if (isRecord(value)) {
    // fromEntries defines own properties, so a `__proto__` key in the JSON stays a plain key.
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, clipInput(item, depth + 1)]));
  }
  return value;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function safeStringify(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

function parseJson(line: string): { value: unknown } | undefined {
  try {
    const value: unknown = JSON.parse(line);
    return { value };
  } catch {
    return undefined;
  }
}

function unknownEvent(line: string): AgentEvent {
  return { type: "unknown", raw: clip(line) };
}
