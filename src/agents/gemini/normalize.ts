// Turns Gemini CLI stream-json lines into normalized AgentEvents. Invariant: whatever a line holds, the
// parser returns valid events and never throws; a line it cannot read becomes `{ type: "unknown", raw }`.
import type { AgentParser } from "../agent.js";
import { clip, type AgentEvent, type TokenUsage } from "../../core/agent-event.js";
import { httpStatusIn } from "../classify-text.js";
import { neverThrowing, readJsonLine, unknownEvent } from "../parse-line.js";
import { clipInput, summarizeToolInput, type SummaryFields } from "../tool-input.js";
import {
  ErrorLine,
  InitLine,
  LineHead,
  MessageLine,
  ResultLine,
  ToolResultLine,
  ToolUseLine,
  type StreamStats,
} from "./schema.js";

/**
 * Per-attempt memory. The CLI prints the model's answer as many small `delta` messages; they are joined and
 * emitted as one `text` event when the next other line arrives, so the journal holds sentences, not shards.
 */
export interface ParserState {
  sessionId: string | undefined;
  /** tool_id → tool name, to read a shell exit code from its result. */
  toolNames: Map<string, string>;
  /** Assistant text not yet emitted. */
  pending: string;
  /** Assistant text since the last tool call: the final answer once the result line comes. */
  answer: string;
  /** The last `error` line's message: the only reason given when a result says `error` without one. */
  lastError: string | undefined;
  /** Tool calls the CLI refused because the tool was not offered or a policy denied it. */
  denials: number;
}

/** The status in a Google error body the CLI quotes: `[API Error: {"error":{"code":401,…}}]`. */
export const GOOGLE_ERROR_CODE = /"code"\s*:\s*(\d{3})\b/;
const SHELL_TOOL = "run_shell_command";
/** Tool error types that mean "not allowed" rather than "tried and failed". */
const DENIAL_TYPES = new Set(["tool_not_registered", "policy_violation"]);

/** The one input field that says what a call does, for the tools where one does. */
const SUMMARY_FIELDS: SummaryFields = {
  run_shell_command: "command",
  write_file: "file_path",
  read_file: "file_path",
  replace: "file_path",
  google_web_search: "query",
  web_fetch: "prompt",
};

export function createGeminiParser(): AgentParser {
  const state = createParserState();
  return neverThrowing((line) => normalizeLine(line, state));
}

export function createParserState(): ParserState {
  return { sessionId: undefined, toolNames: new Map(), pending: "", answer: "", lastError: undefined, denials: 0 };
}

/** The mapping itself, without the safety net, so that tests see any throw. */
export function normalizeLine(line: string, state: ParserState): AgentEvent[] {
  if (line.trim() === "") return [];
  const read = readJsonLine(line, LineHead);
  if (read === undefined) return [...flush(state), unknownEvent(line)];

  if (read.head.type === "message") {
    const message = MessageLine.safeParse(read.value);
    if (!message.success) return [...flush(state), unknownEvent(line)];
    // The prompt is orch's own text; only the model's words are news.
    if (message.data.role !== "assistant") return [];
    state.pending += message.data.content;
    state.answer += message.data.content;
    return [];
  }
  const before = flush(state);
  switch (read.head.type) {
    case "init":
      return [...before, ...normalizeInit(line, read.value, state)];
    case "tool_use":
      return [...before, ...normalizeToolUse(line, read.value, state)];
    case "tool_result":
      return [...before, ...normalizeToolResult(line, read.value, state)];
    case "error": {
      const error = ErrorLine.safeParse(read.value);
      if (error.success) state.lastError = error.data.message;
      // No normalized event says "the CLI warns": the line stays visible as it was printed.
      return [...before, unknownEvent(line)];
    }
    case "result":
      return [...before, ...normalizeResult(line, read.value, state)];
    default:
      // Types newer than this adapter: kept so the journal shows them and a later version can map them.
      return [...before, unknownEvent(line)];
  }
}

function flush(state: ParserState): AgentEvent[] {
  const text = state.pending;
  state.pending = "";
  return text.trim() === "" ? [] : [{ type: "text", text: clip(text) }];
}

function normalizeInit(line: string, value: unknown, state: ParserState): AgentEvent[] {
  const init = InitLine.safeParse(value);
  if (!init.success) return [unknownEvent(line)];
  state.sessionId = init.data.session_id;
  return [{ type: "session.started", sessionId: init.data.session_id, model: init.data.model }];
}

function normalizeToolUse(line: string, value: unknown, state: ParserState): AgentEvent[] {
  const parsed = ToolUseLine.safeParse(value);
  if (!parsed.success) return [unknownEvent(line)];
  const { tool_name: name, tool_id: id, parameters } = parsed.data;
  if (id !== undefined) state.toolNames.set(id, name);
  // Text before a tool call is narration; the answer is what the model says after its last call.
  state.answer = "";
  return [{ type: "tool.called", id, name, summary: summarizeToolInput(SUMMARY_FIELDS, name, parameters), input: clipInput(parameters) }];
}

function normalizeToolResult(line: string, value: unknown, state: ParserState): AgentEvent[] {
  const parsed = ToolResultLine.safeParse(value);
  if (!parsed.success) return [unknownEvent(line)];
  const { tool_id: id, status, output, error } = parsed.data;
  const isError = status !== "success";
  if (isError && error?.type !== undefined && DENIAL_TYPES.has(error.type)) state.denials += 1;
  const text = output !== undefined && output !== "" ? output : (error?.message ?? output ?? "");
  const shell = id !== undefined && state.toolNames.get(id) === SHELL_TOOL;
  const exitCode = shell ? shellExitCode(isError, output, error?.message) : undefined;
  state.answer = "";
  return [{ type: "tool.returned", id, isError, exitCode, output: clip(text) }];
}

/**
 * The shell tool prints the exit code only when the command printed nothing (`Command exited with code: N`);
 * a successful result with no output at all is exit 0. Output plus a failure hides the code.
 */
function shellExitCode(isError: boolean, output: string | undefined, errorMessage: string | undefined): number | undefined {
  for (const text of [output, errorMessage]) {
    const match = text === undefined ? null : /(?:^Command exited with code: |\bExit Code: )(-?\d{1,6})\b/m.exec(text);
    if (match?.[1] !== undefined) return Number.parseInt(match[1], 10);
  }
  if (!isError && (output === undefined || output === "")) return 0;
  return undefined;
}

function normalizeResult(line: string, value: unknown, state: ParserState): AgentEvent[] {
  const parsed = ResultLine.safeParse(value);
  if (!parsed.success) return [unknownEvent(line)];
  const r = parsed.data;
  const ok = r.status === "success";
  const usage = r.stats === undefined ? undefined : toTokenUsage(r.stats);
  const text = ok ? nonEmpty(state.answer) : (r.error?.message ?? state.lastError);
  const events: AgentEvent[] = [];
  if (usage !== undefined) events.push({ type: "usage", usage });
  events.push({
    type: "result",
    ok,
    text: text === undefined ? undefined : clip(text),
    sessionId: state.sessionId,
    usage,
    httpStatus: text === undefined || ok ? undefined : httpStatusIn(text, GOOGLE_ERROR_CODE),
    reason: ok ? "success" : resultReason(r.error?.type),
    permissionDenials: state.denials,
  });
  return events;
}

/** `unknown` (every API error) says nothing; a Fatal…Error name says which of the CLI's exits this was. */
function resultReason(type: string | undefined): string {
  return type === undefined || type === "unknown" ? "error" : type;
}

/** Gemini counts cached tokens inside `input_tokens`; orch, like Anthropic, counts them apart. */
function toTokenUsage(stats: StreamStats): TokenUsage {
  const cached = stats.cached ?? 0;
  return {
    inputTokens: stats.input ?? Math.max(0, stats.input_tokens - cached),
    outputTokens: stats.output_tokens,
    cacheReadTokens: cached,
  };
}

function nonEmpty(text: string): string | undefined {
  return text.trim() === "" ? undefined : text;
}
