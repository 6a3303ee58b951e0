// Classifies a finished Claude Code process: `undefined` when its turn ended cleanly (verification decides),
// else one Failure. Evidence is read in order of trust: the result line, the CLI's own retries, stderr, the exit.
import type { AgentExit, ResultEvent } from "../agent.js";
import type { Failure } from "../../core/failure.js";
import { httpStatusIn, lastTelling, messageLine, NAMED_STATUS, stderrLines } from "../classify-text.js";
import {
  exitFallback,
  inOrderOfTrust,
  recognizeApi,
  stderrNote,
  toFailure,
  type ApiFailureKind,
  type ApiPatterns,
  type ExitWords,
  type Finding,
  type FindingWords,
} from "../finding.js";
import { readResetTime } from "../reset-time.js";

const PATTERNS: ApiPatterns = {
  context: /prompt is too long|prompt_too_long|context window|context length|context limit|maximum context/i,
  quota:
    /credit balance|usage limit|usage credits|out of (?:extra )?usage|quota|billing|spend(?:ing)? (?:cap|limit)|you've hit your [\w' ]*limit/i,
  auth: /invalid api key|authentication|unauthori[sz]ed|forbidden|not logged in|please run \/login|oauth token|invalid x-api-key|permission_error/i,
  rate: /rate[ _-]?limit|too many requests/i,
  overloaded: /overloaded|internal server error|server[ _]error|service unavailable|bad gateway|gateway timeout/i,
  // Treated as `overloaded`: worth a retry and then a fallback, never blocking the task on the first occurrence.
  network:
    /request timed out|timed out|unable to connect|connection (?:error|refused|reset)|econnrefused|econnreset|etimedout|enotfound|eai_again|fetch failed|socket hang up/i,
};

const STATUS_WITH_PHRASE =
  /\b(\d{3}) (?:Unauthorized|Forbidden|Too Many Requests|Internal Server Error|Bad Gateway|Service Unavailable|Gateway Timeout|Overloaded)\b/i;
/** `API Error: Request rejected (429) · Number of…` → `Number of…`: the label already says the rest. */
const API_NOISE = [/^API Error:?\s*/i, /^Request rejected \(\d{3}\)\s*·\s*/i, /^\d{3}\s+(?=\S)/];

const WORDS: FindingWords<ApiFailureKind> = {
  labels: {
    rate_limited: "Claude API rate limit",
    overloaded: "Claude API overloaded or failing",
    quota_exhausted: "Claude usage or credit limit reached",
    context_exceeded: "Context window exceeded",
    auth_failed: "Claude API rejected the credentials",
  },
  unreachable: "Could not reach the Claude API",
  resetAt: resetTime,
};

const EXIT_WORDS: ExitWords = {
  agent: "Claude Code",
  noResult: "printed no result line",
  silent: "without a result line or any stderr",
};

export function classifyClaudeExit(exit: AgentExit): Failure | undefined {
  // Using up the turns orch allowed is the budget working, not a fault: verification judges what was done.
  if (exit.result !== undefined && isMaxTurns(exit.result.reason)) return undefined;
  return inOrderOfTrust(exit, { result: fromResult, along: [fromRetries, fromStderr], exit: fromExit });
}

function isMaxTurns(reason: string | undefined): boolean {
  return reason === "error_max_turns" || reason === "max_turns";
}

function fromResult(result: ResultEvent, exit: AgentExit): Failure | undefined {
  const text = result.text ?? "";
  if (result.reason === "error_max_budget_usd") {
    return { kind: "budget_exceeded", detail: "Claude Code stopped at its own spending limit (--max-budget-usd)" };
  }
  const finding = recognize(result.httpStatus, text, result.reason);
  return finding === undefined ? undefined : toFailure(finding, messageLine(text, API_NOISE), text, exit, WORDS);
}

function fromRetries(exit: AgentExit): Failure | undefined {
  const last = exit.retries.at(-1);
  if (last === undefined) return undefined;
  const known = last.error !== undefined && last.error !== "unknown";
  const what = known ? `attempt ${last.attempt}, ${last.error}` : `attempt ${last.attempt}`;
  const message = `still retrying (${what}) when Claude Code stopped`;
  // The CLI reports `error_status: null` only when no HTTP answer came back at all.
  const finding: Finding | undefined =
    last.httpStatus === undefined && (last.error === undefined || last.error === "unknown")
      ? { kind: "overloaded", network: true }
      : recognize(last.httpStatus, last.error ?? "", undefined);
  return finding === undefined ? undefined : toFailure(finding, message, "", exit, WORDS);
}

function fromStderr(exit: AgentExit): Failure | undefined {
  return lastTelling(stderrLines(exit.stderrTail), (line) => {
    const finding = recognize(undefined, line, undefined);
    return finding === undefined ? undefined : toFailure(finding, messageLine(line, API_NOISE), line, exit, WORDS);
  });
}

function fromExit(exit: AgentExit): Failure {
  const { result, exitCode } = exit;
  const lastLine = stderrLines(exit.stderrTail).at(-1);
  if (exit.signal !== null || result === undefined) return exitFallback(exit, lastLine, EXIT_WORDS);
  if (result.ok) {
    return { kind: "crashed", detail: `Claude Code reported success but exited with code ${String(exitCode)}${stderrNote(lastLine)}` };
  }
  const why = result.text ? `: ${messageLine(result.text, API_NOISE)}` : "";
  const failure: Failure = { kind: "crashed", detail: `Claude Code ended with an error (${result.reason ?? "no reason given"})${why}` };
  if (result.httpStatus !== undefined) failure.httpStatus = result.httpStatus;
  return failure;
}

/** The common ladder, after Claude's own word for an overlong prompt. */
function recognize(status: number | undefined, text: string, reason: string | undefined): Finding | undefined {
  const httpStatus = status ?? statusInText(text);
  if (reason === "prompt_too_long") return { kind: "context_exceeded", httpStatus };
  return recognizeApi(httpStatus, text, PATTERNS);
}

/** `API Error: 529 Overloaded…`, `Request rejected (429)`, `HTTP 503`, `status code 401`. */
function statusInText(text: string): number | undefined {
  return httpStatusIn(text, /API Error:?\s*(\d{3})\b/i, /rejected \((\d{3})\)/i, STATUS_WITH_PHRASE, NAMED_STATUS);
}

/**
 * A reset time the message names wins. For a rate limit without one, the CLI's last backoff delay (which
 * already honours `retry-after`) is the best figure there is: retrying sooner would hit the same limit.
 */
function resetTime(text: string, exit: AgentExit, kind: ApiFailureKind): number | undefined {
  const fromText = readResetTime(text, exit.endedAt);
  if (fromText !== undefined) return fromText;
  if (kind !== "rate_limited") return undefined;
  const last = exit.retries.at(-1);
  if (last?.httpStatus !== 429 || last.delayMs === undefined) return undefined;
  return exit.endedAt + last.delayMs;
}
