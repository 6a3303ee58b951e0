// Classifies a finished OpenCode process: `undefined` when its turn ended cleanly (verification decides), else
// one Failure. Evidence in order of trust: the last result (a final step, or an error line), stderr, the exit.
import type { AgentExit } from "../agent.js";
import type { AgentEvent } from "../../core/agent-event.js";
import type { Failure, FailureKind } from "../../core/failure.js";
import { readResetTime } from "../reset-time.js";

type ResultEvent = Extract<AgentEvent, { type: "result" }>;

/** The kinds a message or status can show; the others come from the exit itself or from elsewhere in orch. */
type ApiFailureKind = Extract<FailureKind, "rate_limited" | "overloaded" | "quota_exhausted" | "context_exceeded" | "auth_failed">;

interface Finding {
  kind: ApiFailureKind;
  httpStatus?: number | undefined;
  /** Set when no HTTP answer came back at all. */
  network?: boolean;
}

// OpenCode talks to any provider, so these are the words of the major APIs, not one vendor's.
const CONTEXT =
  /context window|context length|context_length_exceeded|maximum context|prompt is too long|input is too long|too many tokens|reduce the length of the messages/i;
// Plan and billing limits: waiting minutes does not help, another model or account might.
const QUOTA = /insufficient[_ ]quota|exceeded your current quota|quota exceeded|credit balance|billing|usage limit/i;
const AUTH = /invalid api key|incorrect api key|invalid_api_key|authentication|unauthori[sz]ed|forbidden|api key (?:is )?missing|no api key/i;
const RATE = /rate[ _-]?limit|too many requests|resource has been exhausted/i;
const OVERLOADED = /overloaded|server[ _]error|internal server error|service unavailable|bad gateway|gateway timeout|not ready yet/i;
// No answer at all. Usually passing (a restarting gateway, a network blip): worth a retry, then a fallback.
const NETWORK =
  /timed out|cannot connect|unable to connect|connection (?:error|refused|reset)|econnrefused|econnreset|etimedout|enotfound|eai_again|fetch failed|socket hang up/i;
const OVERLOAD_STATUSES = new Set([500, 502, 503, 504, 529]);
/** Error names that end the model's turn without anything being wrong with the work: verification judges it. */
const CLEAN_ENDINGS = new Set(["MessageOutputLengthError"]);
const MESSAGE_LIMIT = 300;

const LABELS: Record<ApiFailureKind, string> = {
  rate_limited: "Model API rate limit",
  overloaded: "Model API overloaded or failing",
  quota_exhausted: "Model API quota or credit exhausted",
  context_exceeded: "Context window exceeded",
  auth_failed: "Model API rejected the credentials",
};

export function classifyOpenCodeExit(exit: AgentExit): Failure | undefined {
  const { result, exitCode, signal } = exit;
  if (result?.ok === true) {
    // OpenCode exits 1 whenever any error was printed during the session, even one it recovered from; the
    // last step ending the turn is what counts.
    if (signal === null && (exitCode === 0 || exitCode === 1)) return undefined;
    return { kind: "crashed", detail: `OpenCode finished its turn but ${signal !== null ? `was killed by ${signal}` : `exited with code ${exitCode}`}` };
  }
  if (result !== undefined) {
    if (result.reason !== undefined && CLEAN_ENDINGS.has(result.reason)) return undefined;
    const failure = fromResult(result, exit);
    if (failure !== undefined) return failure;
  }
  return fromStderr(exit) ?? fromExit(exit);
}

function fromResult(result: ResultEvent, exit: AgentExit): Failure | undefined {
  const text = result.text ?? "";
  const finding = recognize(result.httpStatus, text, result.reason);
  if (finding === undefined) return undefined;
  return toFailure(finding, firstLine(text), text, exit);
}

function fromStderr(exit: AgentExit): Failure | undefined {
  const lines = stderrLines(exit.stderrTail);
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = lines[i];
    if (line === undefined) continue;
    const finding = recognize(undefined, line, undefined);
    if (finding !== undefined) return toFailure(finding, truncate(line), line, exit);
  }
  return undefined;
}

function fromExit(exit: AgentExit): Failure {
  const { result, exitCode, signal } = exit;
  const lastLine = stderrLines(exit.stderrTail).at(-1);
  const stderrNote = lastLine === undefined ? "" : `; last stderr line: ${truncate(lastLine)}`;
  if (signal !== null) return { kind: "crashed", detail: `OpenCode was killed by ${signal}${stderrNote}` };
  if (result !== undefined) {
    const why = result.text ? `: ${firstLine(result.text)}` : "";
    const failure: Failure = { kind: "crashed", detail: `OpenCode ended with an error (${result.reason ?? "no reason given"})${why}` };
    if (result.httpStatus !== undefined) failure.httpStatus = result.httpStatus;
    return failure;
  }
  if (exitCode === 0) return { kind: "bad_output", detail: `OpenCode exited with code 0 but printed no finished step${stderrNote}` };
  return {
    kind: "crashed",
    detail: lastLine === undefined ? `OpenCode exited with code ${exitCode} without a finished step or any stderr` : `OpenCode exited with code ${exitCode}: ${truncate(lastLine)}`,
  };
}

/**
 * What a message says, most specific first: OpenCode's own error names, then the size of the context (a 400
 * that says the input is too long is the context), then quota before rate (OpenAI sends insufficient_quota
 * as a 429), then the status, then the general words.
 */
function recognize(status: number | undefined, text: string, name: string | undefined): Finding | undefined {
  if (name === "ContextOverflowError" || status === 413 || CONTEXT.test(text)) return { kind: "context_exceeded", httpStatus: status };
  if (name === "ProviderAuthError") return { kind: "auth_failed", httpStatus: status };
  if (QUOTA.test(text)) return { kind: "quota_exhausted", httpStatus: status };
  if (status === 401 || status === 403 || AUTH.test(text)) return { kind: "auth_failed", httpStatus: status };
  if (status === 429 || RATE.test(text)) return { kind: "rate_limited", httpStatus: status };
  if ((status !== undefined && OVERLOAD_STATUSES.has(status)) || OVERLOADED.test(text)) return { kind: "overloaded", httpStatus: status };
  if (status === undefined && NETWORK.test(text)) return { kind: "overloaded", network: true };
  return undefined;
}

function toFailure(finding: Finding, message: string, text: string, exit: AgentExit): Failure {
  const label = finding.network === true ? "Could not reach the model API" : LABELS[finding.kind];
  const status = finding.httpStatus === undefined ? "" : ` (HTTP ${finding.httpStatus})`;
  const failure: Failure = { kind: finding.kind, detail: message ? `${label}${status}: ${message}` : `${label}${status}` };
  if (finding.httpStatus !== undefined) failure.httpStatus = finding.httpStatus;
  // Only what the message says: OpenCode prints neither its retries nor the retry-after header it honoured.
  if (finding.kind === "rate_limited" || finding.kind === "quota_exhausted") {
    const resetAt = readResetTime(text, exit.endedAt);
    if (resetAt !== undefined) failure.resetAt = resetAt;
  }
  return failure;
}

function firstLine(text: string): string {
  return truncate((text.split("\n").find((line) => line.trim() !== "") ?? "").trim());
}

function truncate(text: string): string {
  return text.length <= MESSAGE_LIMIT ? text : `${text.slice(0, MESSAGE_LIMIT - 1)}…`;
}

function stderrLines(tail: string): string[] {
  return tail
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== "");
}
