// Turns `codex exec --json` lines into normalized AgentEvents. Invariant: whatever a line holds, the parser
// returns valid events and never throws; a line it cannot read becomes `{ type: "unknown", raw }`.
import type { AgentParser } from "../agent.js";
import { clip, type AgentEvent, type TokenUsage } from "../../core/agent-event.js";
import { httpStatusIn } from "../classify-text.js";
import { neverThrowing, readJsonLine, unknownEvent } from "../parse-line.js";
import { clipInput, safeStringify, shorten } from "../tool-input.js";
import {
  AgentMessageItem,
  CommandItem,
  ErrorItem,
  FileChangeItem,
  ItemLine,
  LineHead,
  McpToolCallItem,
  SilentItem,
  TextPart,
  ThreadError,
  ThreadStarted,
  TurnCompleted,
  TurnFailed,
  WebSearchItem,
  type Usage,
} from "./schema.js";

export interface CodexParserOptions {
  /**
   * The thread's token totals before this process started, for a resumed thread: Codex reports the whole
   * thread's totals, and orch counts each attempt's own.
   */
  baseline?: TokenUsage | undefined;
}

/** Per-attempt memory. */
export interface ParserState {
  threadId: string | undefined;
  /** The last agent message: the turn's answer, which `turn.completed` does not repeat. */
  lastMessage: string | undefined;
  /** Items whose `tool.called` was emitted at `item.started`, so `item.completed` only adds the return. */
  started: Set<string>;
  /** The message of the last fatal `error` line, which `turn.failed` then repeats. */
  fatalError: string | undefined;
  retries: number;
  baseline: TokenUsage | undefined;
}

export function createCodexParser(options: CodexParserOptions = {}): AgentParser {
  const state = createParserState(options);
  return neverThrowing((line) => normalizeLine(line, state));
}

export function createParserState(options: CodexParserOptions = {}): ParserState {
  return {
    threadId: undefined,
    lastMessage: undefined,
    started: new Set(),
    fatalError: undefined,
    retries: 0,
    baseline: options.baseline,
  };
}

/** The mapping itself, without the safety net, so that tests see any throw. */
export function normalizeLine(line: string, state: ParserState): AgentEvent[] {
  if (line.trim() === "") return [];
  const read = readJsonLine(line, LineHead);
  if (read === undefined) return [unknownEvent(line)];

  switch (read.head.type) {
    case "thread.started": {
      const parsed = ThreadStarted.safeParse(read.value);
      if (!parsed.success) return [unknownEvent(line)];
      state.threadId = parsed.data.thread_id;
      return [{ type: "session.started", sessionId: parsed.data.thread_id }];
    }
    case "turn.started":
      return [];
    case "item.started":
    case "item.updated":
    case "item.completed":
      return normalizeItem(line, read.value, state);
    case "turn.completed":
      return normalizeTurnCompleted(line, read.value, state);
    case "turn.failed":
      return normalizeTurnFailed(line, read.value, state);
    case "error":
      return normalizeError(line, read.value, state);
    default:
      // request_user_input, item.plan.delta and types newer than this adapter: kept as `unknown` so the journal
      // shows them and a later adapter version can map them from the record.
      return [unknownEvent(line)];
  }
}

function normalizeItem(line: string, value: unknown, state: ParserState): AgentEvent[] {
  const parsed = ItemLine.safeParse(value);
  if (!parsed.success) return [unknownEvent(line)];
  const { type: phase, item } = parsed.data;
  const id = item.id;

  const message = AgentMessageItem.safeParse(item);
  if (message.success) {
    if (phase !== "item.completed" || message.data.text.trim() === "") return [];
    state.lastMessage = message.data.text;
    return [{ type: "text", text: clip(message.data.text) }];
  }
  if (SilentItem.safeParse(item).success) return [];

  const call = toolCall(item);
  if (call !== undefined) {
    // Progress updates repeat what the start said; the completion carries the outcome.
    if (phase === "item.updated") return [];
    const calledAlready = id !== undefined && state.started.has(id);
    const called: AgentEvent[] = calledAlready ? [] : [{ type: "tool.called", id, ...call }];
    if (phase === "item.started") {
      if (id !== undefined) state.started.add(id);
      return called;
    }
    if (id !== undefined) state.started.delete(id);
    const returned = toolReturn(item);
    return returned === undefined ? called : [...called, { type: "tool.returned", id, ...returned }];
  }

  const warning = ErrorItem.safeParse(item);
  if (warning.success) return phase === "item.completed" ? [unknownEvent(line)] : [];
  return [unknownEvent(line)];
}

interface Call {
  name: string;
  summary: string;
  input?: unknown;
}

/** The names are the tools the model called: `exec_command`, `apply_patch`, MCP tools as `server.tool`. */
function toolCall(item: unknown): Call | undefined {
  const command = CommandItem.safeParse(item);
  if (command.success) {
    const cmd = unwrapShell(command.data.command);
    return { name: "exec_command", summary: shorten(cmd), input: { command: clipInput(cmd) } };
  }
  const patch = FileChangeItem.safeParse(item);
  if (patch.success) {
    const changes = patch.data.changes.map((c) => ({ path: c.path, kind: c.kind }));
    return { name: "apply_patch", summary: shorten(changes.map((c) => `${c.kind} ${c.path}`).join(", ")), input: { changes } };
  }
  const mcp = McpToolCallItem.safeParse(item);
  if (mcp.success) {
    const args = safeStringify(mcp.data.arguments);
    return { name: `${mcp.data.server}.${mcp.data.tool}`, summary: shorten(args), input: { arguments: clipInput(args) } };
  }
  const search = WebSearchItem.safeParse(item);
  if (search.success) return { name: "web_search", summary: shorten(search.data.query ?? "") };
  return undefined;
}

function toolReturn(item: unknown): { isError: boolean; exitCode?: number; output: string } | undefined {
  const command = CommandItem.safeParse(item);
  if (command.success) {
    const { exit_code: exitCode, status, aggregated_output: output = "" } = command.data;
    const isError = status === "failed" || status === "declined" || (exitCode !== undefined && exitCode !== 0);
    return { isError, ...(exitCode !== undefined ? { exitCode } : {}), output: clip(output) };
  }
  const patch = FileChangeItem.safeParse(item);
  if (patch.success) {
    const isError = patch.data.status === "failed";
    const listed = patch.data.changes.map((c) => `${c.kind} ${c.path}`).join("\n");
    return { isError, output: clip(isError ? `patch failed:\n${listed}` : listed) };
  }
  const mcp = McpToolCallItem.safeParse(item);
  if (mcp.success) {
    const { error, result, status } = mcp.data;
    if (error !== undefined) return { isError: true, output: clip(error.message) };
    const text = (result?.content ?? []).flatMap((part) => {
      const parsed = TextPart.safeParse(part);
      return parsed.success ? [parsed.data.text] : [];
    });
    return { isError: status === "failed", output: clip(text.join("\n")) };
  }
  if (WebSearchItem.safeParse(item).success) return { isError: false, output: "" };
  return undefined;
}

function normalizeTurnCompleted(line: string, value: unknown, state: ParserState): AgentEvent[] {
  const parsed = TurnCompleted.safeParse(value);
  if (!parsed.success) return [unknownEvent(line)];
  const usage = parsed.data.usage === undefined ? undefined : ownUsage(parsed.data.usage, state.baseline);
  const events: AgentEvent[] = [];
  if (usage !== undefined) events.push({ type: "usage", usage });
  events.push({
    type: "result",
    ok: true,
    ...(state.lastMessage !== undefined ? { text: clip(state.lastMessage) } : {}),
    ...(state.threadId !== undefined ? { sessionId: state.threadId } : {}),
    ...(usage !== undefined ? { usage } : {}),
    reason: "completed",
  });
  return events;
}

function normalizeTurnFailed(line: string, value: unknown, state: ParserState): AgentEvent[] {
  const parsed = TurnFailed.safeParse(value);
  if (!parsed.success) return [unknownEvent(line)];
  const message = parsed.data.error?.message;
  // The fatal `error` line just before said the same and was reported as the result already.
  if (message !== undefined && message === state.fatalError) return [];
  return [failedResult(message ?? "the turn failed without a message", "turn_failed", state)];
}

/**
 * `Reconnecting... 2/5 (…)` is the CLI retrying its model request; `Reconnecting... waiting for network (…)`
 * the same without a bound. Any other `error` line is fatal and ends the turn; it becomes the result at once,
 * so that a process that dies before `turn.failed` still says why.
 */
function normalizeError(line: string, value: unknown, state: ParserState): AgentEvent[] {
  const parsed = ThreadError.safeParse(value);
  if (!parsed.success) return [unknownEvent(line)];
  const message = parsed.data.message;
  const retry = /^Reconnecting\.\.\.\s*(?:(\d+)\/\d+|waiting for network)\s*\(([\s\S]*)\)\s*$/.exec(message);
  if (retry !== null) {
    state.retries += 1;
    const attempt = retry[1] === undefined ? state.retries : Number(retry[1]);
    const error = (retry[2] ?? "").trim();
    const httpStatus = statusIn(error);
    return [{ type: "retry", attempt, ...(httpStatus !== undefined ? { httpStatus } : {}), ...(error !== "" ? { error: clip(error, 1_000) } : {}) }];
  }
  state.fatalError = message;
  return [failedResult(message, "error", state)];
}

function failedResult(message: string, reason: string, state: ParserState): AgentEvent {
  const httpStatus = statusIn(message);
  return {
    type: "result",
    ok: false,
    text: clip(message),
    ...(state.threadId !== undefined ? { sessionId: state.threadId } : {}),
    ...(httpStatus !== undefined ? { httpStatus } : {}),
    reason,
  };
}

/** `unexpected status 503 Service Unavailable: …`, `last status: 429 Too Many Requests`. */
export function statusIn(text: string): number | undefined {
  return httpStatusIn(text, /\b(?:unexpected status|last status:?|status(?: code)?:?)\s*(\d{3})\b/i);
}

/** Input without the cached part (which `cacheReadTokens` holds), less what the thread had used before. */
function ownUsage(usage: Usage, baseline: TokenUsage | undefined): TokenUsage {
  const cached = usage.cached_input_tokens ?? 0;
  const total: TokenUsage = {
    inputTokens: Math.max(0, usage.input_tokens - cached),
    outputTokens: usage.output_tokens,
    cacheReadTokens: cached,
    ...(usage.cache_write_input_tokens !== undefined ? { cacheWriteTokens: usage.cache_write_input_tokens } : {}),
  };
  if (baseline === undefined) return total;
  const less = (a: number | undefined, b: number | undefined): number => Math.max(0, (a ?? 0) - (b ?? 0));
  return {
    inputTokens: less(total.inputTokens, baseline.inputTokens),
    outputTokens: less(total.outputTokens, baseline.outputTokens),
    cacheReadTokens: less(total.cacheReadTokens, baseline.cacheReadTokens),
    ...(total.cacheWriteTokens !== undefined ? { cacheWriteTokens: less(total.cacheWriteTokens, baseline.cacheWriteTokens) } : {}),
  };
}

/** Codex runs each command as `/bin/bash -lc '<cmd>'`; the summary shows `<cmd>`. */
export function unwrapShell(command: string): string {
  const match = /^(?:\/(?:usr\/)?bin\/)?(?:ba|z)?sh\s+-l?c\s+([\s\S]+)$/.exec(command);
  const quoted = match?.[1];
  if (quoted === undefined) return command;
  if (quoted.length >= 2 && quoted.startsWith("'") && quoted.endsWith("'")) {
    return quoted.slice(1, -1).replaceAll("'\\''", "'");
  }
  if (quoted.length >= 2 && quoted.startsWith('"') && quoted.endsWith('"')) {
    return quoted.slice(1, -1).replace(/\\(["\\$`])/g, "$1");
  }
  return quoted;
}
