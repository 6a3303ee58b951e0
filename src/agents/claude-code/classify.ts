// Classifies a finished Claude Code process: `undefined` when its turn ended cleanly (verification decides),
// else one Failure. Evidence is read in order of trust: the result line, the CLI's own retries, stderr, the exit.
import type { AgentExit } from "../agent.js";
import type { AgentEvent } from "../../core/agent-event.js";
import type { Failure, FailureKind } from "../../core/failure.js";
import { readResetTime } from "../reset-time.js";

type ResultEvent = Extract<AgentEvent, { type: "result" }>;

/** The kinds a message or status can show; the others come from the exit itself or from elsewhere in orch. */
type ApiFailureKind = Extract<
  FailureKind,
  "rate_limited" | "overloaded" | "quota_exhausted" | "context_exceeded" | "auth_failed"
>;

/** What one piece of evidence says, before it is put into words. */
interface Finding {
  kind: ApiFailureKind;
  httpStatus?: number | undefined;
  /** Set when the finding came from a network error rather than an HTTP answer. */
  network?: boolean;
}

const CONTEXT = /prompt is too long|prompt_too_long|context window|context length|context limit|maximum context/i;
// Subscription and billing limits: waiting minutes does not help, another model or account might.
const QUOTA =
  /credit balance|usage limit|usage credits|out of (?:extra )?usage|quota|billing|spend(?:ing)? (?:cap|limit)|you've hit your [\w' ]*limit/i;
const AUTH =
  /invalid api key|authentication|unauthori[sz]ed|forbidden|not logged in|please run \/login|oauth token|invalid x-api-key|permission_error/i;
const RATE = /rate[ _-]?limit|too many requests/i;
const OVERLOADED = /overloaded|internal server error|server[ _]error|service unavailable|bad gateway|gateway timeout/i;
// No answer at all from the API. Usually passing (a restarting gateway, a network blip), so it is treated
// as `overloaded`: worth a retry and then a fallback, never blocking the task on the first occurrence.
const NETWORK =
  /request timed out|timed out|unable to connect|connection (?:error|refused|reset)|econnrefused|econnreset|etimedout|enotfound|eai_again|fetch failed|socket hang up/i;

const OVERLOAD_STATUSES = new Set([500, 502, 503, 504, 529]);
const STATUS_WITH_PHRASE =
  /\b(\d{3}) (?:Unauthorized|Forbidden|Too Many Requests|Internal Server Error|Bad Gateway|Service Unavailable|Gateway Timeout|Overloaded)\b/i;
const MESSAGE_LIMIT = 300;

const LABELS: Record<ApiFailureKind, string> = {
  rate_limited: "Claude API rate limit",
  overloaded: "Claude API overloaded or failing",
  quota_exhausted: "Claude usage or credit limit reached",
  context_exceeded: "Context window exceeded",
  auth_failed: "Claude API rejected the credentials",
};

export function classifyClaudeExit(exit: AgentExit): Failure | undefined {
  const { result } = exit;
  // Using up the turns orch allowed is the budget working, not a fault: verification judges what was done.
  if (result !== undefined && isMaxTurns(result.reason)) return undefined;
  if (result?.ok === true && exit.exitCode === 0 && exit.signal === null) return undefined;

  if (result !== undefined && !result.ok) {
    const failure = fromResult(result, exit);
    if (failure !== undefined) return failure;
  }
  // After a successful result the CLI's earlier retries and its stderr are old news.
  if (result?.ok !== true) {
    const failure = fromRetries(exit) ?? fromStderr(exit);
    if (failure !== undefined) return failure;
  }
  return fromExit(exit);
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
  if (finding === undefined) return undefined;
  return toFailure(finding, cleanMessage(text), text, exit);
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
  if (finding === undefined) return undefined;
  return toFailure(finding, message, "", exit);
}

function fromStderr(exit: AgentExit): Failure | undefined {
  const lines = stderrLines(exit.stderrTail);
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = lines[i];
    if (line === undefined) continue;
    const finding = recognize(undefined, line, undefined);
    if (finding !== undefined) return toFailure(finding, cleanMessage(line), line, exit);
  }
  return undefined;
}

function fromExit(exit: AgentExit): Failure {
  const { result, exitCode, signal } = exit;
  const lastLine = stderrLines(exit.stderrTail).at(-1);
  const stderrNote = lastLine === undefined ? "" : `; last stderr line: ${truncate(lastLine)}`;
  if (signal !== null) return { kind: "crashed", detail: `Claude Code was killed by ${signal}${stderrNote}` };
  if (result !== undefined && !result.ok) {
    const why = result.text ? `: ${cleanMessage(result.text)}` : "";
    const failure: Failure = {
      kind: "crashed",
      detail: `Claude Code ended with an error (${result.reason ?? "no reason given"})${why}`,
    };
    if (result.httpStatus !== undefined) failure.httpStatus = result.httpStatus;
    return failure;
  }
  if (result !== undefined) {
    const detail = `Claude Code reported success but exited with code ${String(exitCode)}${stderrNote}`;
    return { kind: "crashed", detail };
  }
  if (exitCode === 0) {
    return { kind: "bad_output", detail: "Claude Code exited with code 0 but printed no result line" };
  }
  if (exitCode === null) {
    return { kind: "crashed", detail: `Claude Code ended without an exit code or signal${stderrNote}` };
  }
  return {
    kind: "crashed",
    detail:
      lastLine === undefined
        ? `Claude Code exited with code ${exitCode} without a result line or any stderr`
        : `Claude Code exited with code ${exitCode}: ${truncate(lastLine)}`,
  };
}

/**
 * What a status and a message say. The specific words go first (a 429 that talks about a usage limit is a
 * quota, a 400 that says the prompt is too long is the context), then the status, then the general words.
 */
function recognize(status: number | undefined, text: string, reason: string | undefined): Finding | undefined {
  const httpStatus = status ?? statusInText(text);
  if (reason === "prompt_too_long" || httpStatus === 413 || CONTEXT.test(text)) {
    return { kind: "context_exceeded", httpStatus };
  }
  if (QUOTA.test(text)) return { kind: "quota_exhausted", httpStatus };
  if (httpStatus === 401 || httpStatus === 403 || AUTH.test(text)) return { kind: "auth_failed", httpStatus };
  if (httpStatus === 429 || RATE.test(text)) return { kind: "rate_limited", httpStatus };
  if ((httpStatus !== undefined && OVERLOAD_STATUSES.has(httpStatus)) || OVERLOADED.test(text)) {
    return { kind: "overloaded", httpStatus };
  }
  if (NETWORK.test(text)) return { kind: "overloaded", httpStatus, network: true };
  return undefined;
}

/** `API Error: 529 Overloaded…`, `Request rejected (429)`, `HTTP 503`, `status code 401`. */
function statusInText(text: string): number | undefined {
  const match =
    /API Error:?\s*(\d{3})\b/i.exec(text) ??
    /rejected \((\d{3})\)/i.exec(text) ??
    STATUS_WITH_PHRASE.exec(text) ??
    /\b(?:HTTP|status(?: code)?)[\s:=]*(\d{3})\b/i.exec(text);
  if (match?.[1] === undefined) return undefined;
  const n = Number(match[1]);
  return n >= 100 && n <= 599 ? n : undefined;
}

function toFailure(finding: Finding, message: string, text: string, exit: AgentExit): Failure {
  const label = finding.network ? "Could not reach the Claude API" : LABELS[finding.kind];
  const status = finding.httpStatus === undefined ? "" : ` (HTTP ${finding.httpStatus})`;
  const detail = message ? `${label}${status}: ${message}` : `${label}${status}`;
  const failure: Failure = { kind: finding.kind, detail };
  if (finding.httpStatus !== undefined) failure.httpStatus = finding.httpStatus;
  const resetAt = resetTime(finding.kind, text, exit);
  if (resetAt !== undefined) failure.resetAt = resetAt;
  return failure;
}

/**
 * A reset time the message names wins. For a rate limit without one, the CLI's last backoff delay (which
 * already honours `retry-after`) is the best figure there is: retrying sooner would hit the same limit.
 */
function resetTime(kind: ApiFailureKind, text: string, exit: AgentExit): number | undefined {
  if (kind !== "rate_limited" && kind !== "quota_exhausted") return undefined;
  const fromText = readResetTime(text, exit.endedAt);
  if (fromText !== undefined) return fromText;
  if (kind !== "rate_limited") return undefined;
  const last = exit.retries.at(-1);
  if (last?.httpStatus !== 429 || last.delayMs === undefined) return undefined;
  return exit.endedAt + last.delayMs;
}

/** `API Error: Request rejected (429) · Number of…` → `Number of…`: the label already says the rest. */
function cleanMessage(text: string): string {
  let message = (text.split("\n").find((line) => line.trim() !== "") ?? "").trim();
  for (const prefix of [/^API Error:?\s*/i, /^Request rejected \(\d{3}\)\s*·\s*/i, /^\d{3}\s+(?=\S)/]) {
    const shorter = message.replace(prefix, "");
    // A message that is nothing but the prefix keeps it.
    if (shorter !== "") message = shorter;
  }
  return truncate(message);
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
