// Classifies a finished Gemini CLI process: `undefined` when its turn ended cleanly (verification decides),
// else one Failure. The result line is read first: the exit code alone misleads (an HTTP error exits with
// its status mod 256, and an empty model response exits 0 with `status: "error"`).
import type { AgentExit } from "../agent.js";
import type { AgentEvent } from "../../core/agent-event.js";
import type { Failure, FailureKind } from "../../core/failure.js";

type ResultEvent = Extract<AgentEvent, { type: "result" }>;

/** The kinds a message or status can show; the others come from the exit itself or from elsewhere in orch. */
type ApiFailureKind = Extract<
  FailureKind,
  "rate_limited" | "overloaded" | "quota_exhausted" | "context_exceeded" | "auth_failed" | "permission_denied" | "bad_output"
>;

interface Finding {
  kind: ApiFailureKind;
  httpStatus?: number | undefined;
  /** Set when no HTTP answer came back at all. */
  network?: boolean;
}

/**
 * The CLI exits with `error.status` when an API call failed, so the process exit code is the HTTP status
 * mod 256. Only statuses a model API sends are mapped back; the CLI's own exit codes (41, 42, 52…) differ.
 */
const STATUS_BY_EXIT = new Map<number, number>(
  [400, 401, 403, 404, 408, 413, 429, 499, 500, 502, 503, 504, 529].map((status) => [status % 256, status]),
);

/** The CLI's own fatal exits before any model call, each with the stderr line that explains it. */
const CLI_EXITS: Partial<Record<number, { kind: FailureKind; what: string; line: RegExp }>> = {
  41: { kind: "auth_failed", what: "Gemini CLI found no usable credentials", line: /gemini_api_key|auth|credential|login/i },
  55: { kind: "permission_denied", what: "Gemini CLI refused to run in an untrusted folder", line: /trusted/i },
};
const TURN_LIMIT_EXIT = 53;

const CONTEXT =
  /exceeds the maximum number of tokens|input token count|context (?:window|length)|prompt is too long|too many tokens|token limit/i;
// Limits that waiting minutes does not lift: a daily quota, spent credits, a model out of capacity.
const QUOTA =
  /daily quota|exhausted your (?:daily )?quota|exhausted your capacity|capacity exceeded|model_capacity_exhausted|insufficient_g1_credits|credits? balance|check your plan and billing|\blimit: 0\b/i;
const AUTH =
  /api key not valid|api_key_invalid|unauthenticated|permission_denied|invalid api key|authenticat|must specify the gemini_api_key|invalid auth method|login required|please (?:re-?)?authenticate/i;
const RATE = /resource has been exhausted|resource_exhausted|rate[ _-]?limit|too many requests|quota exceeded for (?:quota )?metric/i;
// Not a bare "internal": the CLI's stack traces on stderr name `node:internal/…` frames.
const OVERLOADED = /overloaded|\bunavailable\b|internal error|bad gateway|gateway timeout|deadline_exceeded/i;
const NETWORK =
  /fetch failed|timed out|timeout|econnrefused|econnreset|etimedout|enotfound|eai_again|socket hang up|network error|connection (?:error|refused|reset)/i;
// A stream the CLI could not read, or a model turn with nothing in it: the API misbehaved, not the task.
const BAD_OUTPUT =
  /in JSON at position|Unterminated string|Unexpected (?:token|end of JSON)|is not valid JSON|empty response|no text or thoughts|malformed|invalid stream/i;
const UNTRUSTED = /not running in a trusted directory/i;

const GOOGLE_STATUS: Partial<Record<string, number>> = {
  INVALID_ARGUMENT: 400,
  UNAUTHENTICATED: 401,
  PERMISSION_DENIED: 403,
  NOT_FOUND: 404,
  RESOURCE_EXHAUSTED: 429,
  INTERNAL: 500,
  UNAVAILABLE: 503,
  DEADLINE_EXCEEDED: 504,
};

const OVERLOAD_STATUSES = new Set([500, 502, 503, 504, 529]);
const MESSAGE_LIMIT = 300;

const LABELS: Record<ApiFailureKind, string> = {
  rate_limited: "Gemini API rate limit",
  overloaded: "Gemini API overloaded or failing",
  quota_exhausted: "Gemini quota or capacity exhausted",
  context_exceeded: "Context window exceeded",
  auth_failed: "Gemini API rejected the credentials",
  permission_denied: "Gemini CLI refused to run here",
  bad_output: "Gemini API sent an unusable response",
};

export function classifyGeminiExit(exit: AgentExit): Failure | undefined {
  const { result } = exit;
  // Using up the turns the user's settings allow is the budget working, not a fault.
  if (isTurnLimit(result, exit.exitCode)) return undefined;
  if (result?.ok === true && exit.exitCode === 0 && exit.signal === null) return undefined;

  if (result !== undefined && !result.ok) {
    const failure = fromResult(result, exit);
    if (failure !== undefined) return failure;
  }
  if (result?.ok !== true && exit.signal === null) {
    const failure = fromCliExit(exit) ?? fromStderr(exit) ?? fromExitStatus(exit);
    if (failure !== undefined) return failure;
  }
  return fromExit(exit);
}

function isTurnLimit(result: ResultEvent | undefined, exitCode: number | null): boolean {
  if (result === undefined) return false;
  return result.reason === "FatalTurnLimitedError" || (!result.ok && exitCode === TURN_LIMIT_EXIT);
}

function fromResult(result: ResultEvent, exit: AgentExit): Failure | undefined {
  const text = result.text ?? "";
  const status = result.httpStatus ?? statusInText(text) ?? statusOfExit(exit);
  const finding = recognize(status, text);
  if (finding === undefined) return undefined;
  return toFailure(finding, cleanMessage(text), text, exit);
}

function fromStderr(exit: AgentExit): Failure | undefined {
  const lines = stderrLines(exit.stderrTail);
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = lines[i];
    if (line === undefined) continue;
    const finding = recognize(statusInText(line), line);
    if (finding !== undefined) return toFailure(finding, truncate(line), line, exit);
  }
  return undefined;
}

function fromCliExit(exit: AgentExit): Failure | undefined {
  const known = exit.exitCode === null ? undefined : CLI_EXITS[exit.exitCode];
  if (known === undefined) return undefined;
  const lines = stderrLines(exit.stderrTail);
  const why = lines.find((line) => known.line.test(line)) ?? lines.at(-1);
  return { kind: known.kind, detail: why === undefined ? known.what : `${known.what}: ${truncate(why)}` };
}

/** An HTTP status with no message to go with it (the result line was lost): the status alone decides. */
function fromExitStatus(exit: AgentExit): Failure | undefined {
  const status = statusOfExit(exit);
  const finding = status === undefined ? undefined : recognize(status, "");
  return finding === undefined ? undefined : toFailure(finding, `exit code ${exit.exitCode}`, "", exit);
}

function fromExit(exit: AgentExit): Failure {
  const { result, exitCode, signal } = exit;
  const lastLine = stderrLines(exit.stderrTail).at(-1);
  const stderrNote = lastLine === undefined ? "" : `; last stderr line: ${truncate(lastLine)}`;
  if (signal !== null) return { kind: "crashed", detail: `Gemini CLI was killed by ${signal}${stderrNote}` };
  if (result !== undefined && !result.ok) {
    const why = result.text ? `: ${cleanMessage(result.text)}` : "";
    const failure: Failure = { kind: "crashed", detail: `Gemini CLI ended with an error (${result.reason ?? "error"})${why}` };
    if (result.httpStatus !== undefined) failure.httpStatus = result.httpStatus;
    return failure;
  }
  if (result !== undefined) {
    return { kind: "crashed", detail: `Gemini CLI reported success but exited with code ${String(exitCode)}${stderrNote}` };
  }
  if (exitCode === 0) return { kind: "bad_output", detail: "Gemini CLI exited with code 0 but printed no result line" };
  if (exitCode === null) return { kind: "crashed", detail: `Gemini CLI ended without an exit code or signal${stderrNote}` };
  return {
    kind: "crashed",
    detail:
      lastLine === undefined
        ? `Gemini CLI exited with code ${exitCode} without a result line or any stderr`
        : `Gemini CLI exited with code ${exitCode}: ${truncate(lastLine)}`,
  };
}

/**
 * What a status and a message say. The specific words go first (a 429 about a daily quota is a quota, a 400
 * about the token count is the context), then the status, then the general words.
 */
function recognize(status: number | undefined, text: string): Finding | undefined {
  if (status === 413 || CONTEXT.test(text)) return { kind: "context_exceeded", httpStatus: status };
  if (QUOTA.test(text)) return { kind: "quota_exhausted", httpStatus: status };
  if (UNTRUSTED.test(text)) return { kind: "permission_denied", httpStatus: status };
  if (status === 401 || status === 403 || AUTH.test(text)) return { kind: "auth_failed", httpStatus: status };
  if (status === 429 || RATE.test(text)) return { kind: "rate_limited", httpStatus: status };
  if (BAD_OUTPUT.test(text)) return { kind: "bad_output", httpStatus: status };
  if ((status !== undefined && OVERLOAD_STATUSES.has(status)) || OVERLOADED.test(text)) {
    return { kind: "overloaded", httpStatus: status };
  }
  if (NETWORK.test(text)) return { kind: "overloaded", httpStatus: status, network: true };
  return undefined;
}

/** `"code":401` of a quoted Google error body, or its `(Status: UNAVAILABLE)` / `"status":"UNAVAILABLE"`. */
function statusInText(text: string): number | undefined {
  const code = /"code"\s*:\s*(\d{3})\b/.exec(text) ?? /\b(?:HTTP|status(?: code)?)[\s:=]*(\d{3})\b/i.exec(text);
  if (code?.[1] !== undefined) {
    const n = Number(code[1]);
    if (n >= 100 && n <= 599) return n;
  }
  const name = /(?:\(Status: |"status"\s*:\s*")([A-Z_]+)/.exec(text)?.[1];
  return name === undefined ? undefined : GOOGLE_STATUS[name];
}

function statusOfExit(exit: AgentExit): number | undefined {
  return exit.exitCode === null ? undefined : STATUS_BY_EXIT.get(exit.exitCode);
}

function toFailure(finding: Finding, message: string, text: string, exit: AgentExit): Failure {
  const label = finding.network ? "Could not reach the Gemini API" : LABELS[finding.kind];
  const status = finding.httpStatus === undefined ? "" : ` (HTTP ${finding.httpStatus})`;
  const failure: Failure = { kind: finding.kind, detail: message ? `${label}${status}: ${message}` : `${label}${status}` };
  if (finding.httpStatus !== undefined) failure.httpStatus = finding.httpStatus;
  if (finding.kind === "rate_limited" || finding.kind === "quota_exhausted") {
    const resetAt = readRetryDelay(text, exit.endedAt);
    if (resetAt !== undefined) failure.resetAt = resetAt;
  }
  return failure;
}

/** Google's wait, as the CLI quotes it: `Suggested retry after 1s.` or the API's `Please retry in 33.2s.` */
export function readRetryDelay(text: string, now: number): number | undefined {
  const match = /\bretry (?:after|in) (\d+(?:\.\d+)?)(ms|s)\b/i.exec(text);
  if (match?.[1] === undefined || match[2] === undefined) return undefined;
  const ms = Number(match[1]) * (match[2].toLowerCase() === "ms" ? 1 : 1_000);
  return Number.isFinite(ms) ? now + Math.round(ms) : undefined;
}

/**
 * `[API Error: {"error":{"code":401,"message":"API key not valid…"}}]` → `API key not valid…`;
 * `[API Error: The model is overloaded…]` → `The model is overloaded…`: the label already says the rest.
 */
function cleanMessage(text: string): string {
  const quoted = /"message"\s*:\s*"((?:[^"\\]|\\.)*)"/.exec(text)?.[1];
  if (quoted !== undefined) {
    const unescaped = safeJsonString(quoted);
    if (unescaped !== "") return truncate(unescaped);
  }
  const first = (text.split("\n").find((line) => line.trim() !== "") ?? "").trim();
  const inner = /^\[API Error:\s*(.*?)\]?$/.exec(first)?.[1]?.trim();
  return truncate(inner !== undefined && inner !== "" ? inner : first);
}

function safeJsonString(escaped: string): string {
  try {
    const value: unknown = JSON.parse(`"${escaped}"`);
    return typeof value === "string" ? value : escaped;
  } catch {
    return escaped;
  }
}

function truncate(text: string): string {
  return text.length <= MESSAGE_LIMIT ? text : `${text.slice(0, MESSAGE_LIMIT - 1)}…`;
}

function stderrLines(tail: string): string[] {
  return tail
    .split(/\r?\n/)
    // The CLI colours fatal messages red.
    .map((line) => line.replace(/\u001b\[[0-9;]*m/g, "").trim())
    .filter((line) => line !== "");
}
