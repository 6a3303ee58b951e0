// Turns `opencode run --format json` lines into normalized AgentEvents. Invariant: whatever a line holds, the
// parser returns valid events and never throws; a line it cannot read becomes `{ type: "unknown", raw }`.
// OpenCode prints no final result line: a step that ends for any reason but tool calls is the result, an
// error line is a failed one, and the last of them is what the attempt ended with.
import type { AgentInvocation, AgentParser } from "../agent.js";
import { clip, type AgentEvent, type TokenUsage } from "../../core/agent-event.js";
import { asHttpStatus } from "../classify-text.js";
import { neverThrowing, readJsonLine, unknownEvent } from "../parse-line.js";
import { clipInput, summarizeToolInput, type SummaryFields } from "../tool-input.js";
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

/** The one input field that says what a call does, for the tools where one does. */
const SUMMARY_FIELDS: SummaryFields = {
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

export function createOpenCodeParser(invocation?: AgentInvocation): AgentParser {
  const state = createParserState(invocation?.model);
  return neverThrowing((line) => normalizeLine(line, state));
}

export function createParserState(model?: string): ParserState {
  return { model: model === "" ? undefined : model, sessionId: undefined, usage: undefined, costUsd: undefined, steps: 0, stepText: [] };
}

/** The mapping itself, without the safety net, so that tests see any throw. */
export function normalizeLine(line: string, state: ParserState): AgentEvent[] {
  if (line.trim() === "") return [];
  const read = readJsonLine(line, LineHead);
  if (read === undefined) return [unknownEvent(line)];

  // No line announces the session; the first one that names it does.
  const events: AgentEvent[] = [];
  const sessionId = read.head.sessionID;
  if (state.sessionId === undefined && sessionId !== undefined) {
    state.sessionId = sessionId;
    events.push(state.model === undefined ? { type: "session.started", sessionId } : { type: "session.started", sessionId, model: state.model });
  }
  events.push(...normalizeBody(line, read.value, read.head.type, state));
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
    { type: "tool.called", id, name: tool, summary: summarizeToolInput(SUMMARY_FIELDS, tool, state.input), input: clipInput(state.input) },
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
      httpStatus: asHttpStatus(data?.statusCode),
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
