// Turns Gemini CLI stream-json lines into normalized AgentEvents. Invariant: whatever a line holds, the
// parser returns valid events and never throws; a line it cannot read becomes `{ type: "unknown", raw }`.
import type { AgentParser } from "../agent.js";
import { clip, type AgentEvent, type TokenUsage } from "../../core/agent-event.js";
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

const SUMMARY_LIMIT = 200;
/** Cap for each string inside a tool input (a write_file's content); the raw transcript keeps everything. */
const INPUT_STRING_LIMIT = 1_000;
const INPUT_DEPTH_LIMIT = 8;
const SHELL_TOOL = "run_shell_command";
/** Tool error types that mean "not allowed" rather than "tried and failed". */
const DENIAL_TYPES = new Set(["tool_not_registered", "policy_violation"]);

export function createGeminiParser(): AgentParser {
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
  return { sessionId: undefined, toolNames: new Map(), pending: "", answer: "", lastError: undefined, denials: 0 };
}

/** The mapping itself, without the safety net, so that tests see any throw. */
export function normalizeLine(line: string, state: ParserState): AgentEvent[] {
  if (line.trim() === "") return [];
  const json = parseJson(line);
  const head = json === undefined ? undefined : LineHead.safeParse(json.value);
  if (json === undefined || head === undefined || !head.success) return [...flush(state), unknownEvent(line)];

  if (head.data.type === "message") {
    const message = MessageLine.safeParse(json.value);
    if (!message.success) return [...flush(state), unknownEvent(line)];
    // The prompt is orch's own text; only the model's words are news.
    if (message.data.role !== "assistant") return [];
    state.pending += message.data.content;
    state.answer += message.data.content;
    return [];
  }
  const before = flush(state);
  switch (head.data.type) {
    case "init":
      return [...before, ...normalizeInit(line, json.value, state)];
    case "tool_use":
      return [...before, ...normalizeToolUse(line, json.value, state)];
    case "tool_result":
      return [...before, ...normalizeToolResult(line, json.value, state)];
    case "error": {
      const error = ErrorLine.safeParse(json.value);
      if (error.success) state.lastError = error.data.message;
      // No normalized event says "the CLI warns": the line stays visible as it was printed.
      return [...before, unknownEvent(line)];
    }
    case "result":
      return [...before, ...normalizeResult(line, json.value, state)];
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
  return [{ type: "tool.called", id, name, summary: summarizeToolInput(name, parameters), input: clipInput(parameters) }];
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
    httpStatus: text === undefined || ok ? undefined : embeddedStatus(text),
    reason: ok ? "success" : resultReason(r.error?.type),
    permissionDenials: state.denials,
  });
  return events;
}

/** `unknown` (every API error) says nothing; a Fatal…Error name says which of the CLI's exits this was. */
function resultReason(type: string | undefined): string {
  return type === undefined || type === "unknown" ? "error" : type;
}

/** The status of a Google error body the CLI quotes: `[API Error: {"error":{"code":401,…}}]`. */
function embeddedStatus(text: string): number | undefined {
  const match = /"code"\s*:\s*(\d{3})\b/.exec(text);
  if (match?.[1] === undefined) return undefined;
  const n = Number(match[1]);
  return n >= 100 && n <= 599 ? n : undefined;
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
  run_shell_command: "command",
  write_file: "file_path",
  read_file: "file_path",
  replace: "file_path",
  google_web_search: "query",
  web_fetch: "prompt",
};

/** One line, at most SUMMARY_LIMIT characters: the status line has room for nothing more. */
function shorten(text: string): string {
  const oneLine = text.replace(/\s+/g, " ").trim();
  return oneLine.length <= SUMMARY_LIMIT ? oneLine : `${oneLine.slice(0, SUMMARY_LIMIT - 1)}…`;
}

/** Keeps the input's shape but clips long strings, so a large write does not land whole in a journal row. */
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
