// Turns `opencode run --format json` lines into normalized AgentEvents. Invariant: whatever a line holds, the
// parser returns valid events and never throws; a line it cannot read becomes `{ type: "unknown", raw }`.
// OpenCode prints no final result line: a step that ends for any reason but tool calls is the result, an
// error line is a failed one, and the last of them is what the attempt ended with.
import type { AgentInvocation, AgentParser } from "../agent.js";
import { clip, type AgentEvent, type TokenUsage } from "../../core/agent-event.js";
import { ErrorLine, LineHead, StepFinishLine, TextLine, ToolUseLine, type StepTokens } from "./schema.js";

/** Per-attempt memory: the session, the running token and cost totals, and the current step's text. */
export interface ParserState {
  /** The model orch asked for (`-m`): OpenCode prints none, and uses exactly this one when it is given. */
  model: string | undefined;
  sessionId: string | undefined;
  usage: TokenUsage | undefined;
  costUsd: number | undefined;
  steps: number;
  /** The model's text in the step under way: a stop step's text is the answer. */
  stepText: string[];
}

const SUMMARY_LIMIT = 200;
/** Cap for each string inside a tool input (a write's content); the raw transcript keeps everything. */
const INPUT_STRING_LIMIT = 1_000;
const INPUT_DEPTH_LIMIT = 8;

export function createOpenCodeParser(invocation?: AgentInvocation): AgentParser {
  const state = createParserState(invocation?.model);
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

export function createParserState(model?: string): ParserState {
  return { model: model === "" ? undefined : model, sessionId: undefined, usage: undefined, costUsd: undefined, steps: 0, stepText: [] };
}

/** The mapping itself, without the safety net, so that tests see any throw. */
export function normalizeLine(line: string, state: ParserState): AgentEvent[] {
  if (line.trim() === "") return [];
  const json = parseJson(line);
  if (json === undefined) return [unknownEvent(line)];
  const head = LineHead.safeParse(json.value);
  if (!head.success) return [unknownEvent(line)];

  // No line announces the session; the first one that names it does.
  const events: AgentEvent[] = [];
  const sessionId = head.data.sessionID;
  if (state.sessionId === undefined && sessionId !== undefined) {
    state.sessionId = sessionId;
    events.push(state.model === undefined ? { type: "session.started", sessionId } : { type: "session.started", sessionId, model: state.model });
  }
  events.push(...normalizeBody(line, json.value, head.data.type, state));
  return events;
}

function normalizeBody(line: string, value: unknown, type: string, state: ParserState): AgentEvent[] {
  switch (type) {
    case "step_start":
      state.stepText = [];
      return [];
    case "text":
      return normalizeText(line, value, state);
    case "reasoning":
      // The model's private reasoning, printed only with --thinking: like Claude's thinking, not shown.
      return [];
    case "tool_use":
      return normalizeToolUse(line, value);
    case "step_finish":
      return normalizeStepFinish(line, value, state);
    case "error":
      return normalizeError(line, value, state);
    default:
      // Types newer than this adapter stay visible, so a later version can map them from the record.
      return [unknownEvent(line)];
  }
}

function normalizeText(line: string, value: unknown, state: ParserState): AgentEvent[] {
  const parsed = TextLine.safeParse(value);
  if (!parsed.success) return [unknownEvent(line)];
  // OpenCode's own notes (after compacting an overflowing context) are not the model speaking.
  if (parsed.data.part.synthetic === true) return [unknownEvent(line)];
  const text = parsed.data.part.text;
  if (text.trim() === "") return [];
  state.stepText.push(text);
  return [{ type: "text", text: clip(text) }];
}

function normalizeToolUse(line: string, value: unknown): AgentEvent[] {
  const parsed = ToolUseLine.safeParse(value);
  if (!parsed.success) return [unknownEvent(line)];
  const { tool, callID: id, state } = parsed.data.part;
  const exitCode = state.metadata?.exit;
  // `invalid` is OpenCode's stand-in for a call to a tool it does not offer (or denied outright): it
  // "completes" with the complaint as its output.
  const failed = state.status === "error" || tool === "invalid" || (exitCode !== undefined && exitCode !== 0);
  const output = state.output ?? state.error ?? "";
  return [
    { type: "tool.called", id, name: tool, summary: summarizeToolInput(tool, state.input), input: clipInput(state.input) },
    { type: "tool.returned", id, isError: failed, exitCode, output: clip(output) },
  ];
}

function normalizeStepFinish(line: string, value: unknown, state: ParserState): AgentEvent[] {
  const parsed = StepFinishLine.safeParse(value);
  if (!parsed.success) return [unknownEvent(line)];
  const { reason, tokens, cost } = parsed.data.part;
  state.steps += 1;
  const events: AgentEvent[] = [];
  if (tokens !== undefined) {
    state.usage = addTokens(state.usage, tokens);
    if (cost !== undefined) state.costUsd = (state.costUsd ?? 0) + cost;
    events.push({ type: "usage", usage: state.usage, costUsd: state.costUsd });
  } else if (cost !== undefined) {
    state.costUsd = (state.costUsd ?? 0) + cost;
  }
  // Tool calls mean another step follows; any other reason ends the model's turn.
  if (reason === undefined || reason === "tool-calls") return events;
  const text = state.stepText.join("\n");
  events.push({
    type: "result",
    ok: reason !== "error",
    text: text === "" ? undefined : clip(text),
    sessionId: state.sessionId,
    usage: state.usage,
    costUsd: state.costUsd,
    turns: state.steps,
    reason,
  });
  return events;
}

function normalizeError(line: string, value: unknown, state: ParserState): AgentEvent[] {
  const parsed = ErrorLine.safeParse(value);
  if (!parsed.success) return [unknownEvent(line)];
  const { name, data } = parsed.data.error;
  const message = data?.message;
  return [
    {
      type: "result",
      ok: false,
      text: clip(message === undefined || message.trim() === "" ? name : message),
      sessionId: state.sessionId,
      usage: state.usage,
      costUsd: state.costUsd,
      turns: state.steps,
      httpStatus: data?.statusCode !== undefined && data.statusCode >= 100 && data.statusCode <= 599 ? data.statusCode : undefined,
      reason: name,
    },
  ];
}

function addTokens(total: TokenUsage | undefined, step: StepTokens): TokenUsage {
  // Reasoning tokens are billed as output; OpenCode counts them apart from `output`.
  return {
    inputTokens: (total?.inputTokens ?? 0) + step.input,
    outputTokens: (total?.outputTokens ?? 0) + step.output + (step.reasoning ?? 0),
    cacheReadTokens: (total?.cacheReadTokens ?? 0) + (step.cache?.read ?? 0),
    cacheWriteTokens: (total?.cacheWriteTokens ?? 0) + (step.cache?.write ?? 0),
  };
}

/** The one input field that says what a call does, for the tools where one does. */
const SUMMARY_FIELDS: Partial<Record<string, string>> = {
  bash: "command",
  write: "filePath",
  edit: "filePath",
  read: "filePath",
  glob: "pattern",
  grep: "pattern",
  list: "path",
  webfetch: "url",
  task: "description",
  invalid: "tool",
};

function summarizeToolInput(name: string, input: unknown): string {
  const field = SUMMARY_FIELDS[name];
  if (field !== undefined && isRecord(input)) {
    const value = input[field];
    if (typeof value === "string") return shorten(value);
  }
  if (input === undefined) return "";
  return shorten(safeStringify(input));
}

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
