// Classifies a finished Gemini CLI process: `undefined` when its turn ended cleanly (verification decides),
// else one Failure. The result line is read first: the exit code alone misleads (an HTTP error exits with
// its status mod 256, and an empty model response exits 0 with `status: "error"`).
import type { AgentExit, ResultEvent } from "../agent.js";
import type { Failure, FailureKind } from "../../core/failure.js";
import { clipDetail, firstTextLine, httpStatusIn, lastTelling, NAMED_STATUS, stderrLines } from "../classify-text.js";
import {
  exitFallback,
  inOrderOfTrust,
  OVERLOAD_STATUSES,
  stderrNote,
  toFailure,
  type ApiFailureKind,
  type ExitWords,
  type Finding,
  type FindingWords,
} from "../finding.js";
import { parseJson } from "../parse-line.js";
import { GOOGLE_ERROR_CODE } from "./normalize.js";

/** Beyond the API kinds, Gemini CLI tells an untrusted folder and an unusable model stream apart. */
type GeminiFailureKind = ApiFailureKind | "permission_denied" | "bad_output";

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

/** The CLI colours fatal messages red. */
const COLOUR = /\u001b\[[0-9;]*m/g;

const WORDS: FindingWords<GeminiFailureKind> = {
  labels: {
    rate_limited: "Gemini API rate limit",
    overloaded: "Gemini API overloaded or failing",
    quota_exhausted: "Gemini quota or capacity exhausted",
    context_exceeded: "Context window exceeded",
    auth_failed: "Gemini API rejected the credentials",
    permission_denied: "Gemini CLI refused to run here",
    bad_output: "Gemini API sent an unusable response",
  },
  unreachable: "Could not reach the Gemini API",
  // Google's own wording of the wait, not the phrases readResetTime knows.
  resetAt: (text, exit) => readRetryDelay(text, exit.endedAt),
};

const EXIT_WORDS: ExitWords = {
  agent: "Gemini CLI",
  noResult: "printed no result line",
  silent: "without a result line or any stderr",
};

export function classifyGeminiExit(exit: AgentExit): Failure | undefined {
  // Using up the turns the user's settings allow is the budget working, not a fault.
  if (isTurnLimit(exit.result, exit.exitCode)) return undefined;
  // A killed process's stderr and exit code say nothing of the API: only the signal is told.
  const along = exit.signal === null ? [fromCliExit, fromStderr, fromExitStatus] : [];
  return inOrderOfTrust(exit, { result: fromResult, along, exit: fromExit });
}

function isTurnLimit(result: ResultEvent | undefined, exitCode: number | null): boolean {
  if (result === undefined) return false;
  return result.reason === "FatalTurnLimitedError" || (!result.ok && exitCode === TURN_LIMIT_EXIT);
}

function fromResult(result: ResultEvent, exit: AgentExit): Failure | undefined {
  const text = result.text ?? "";
  const status = result.httpStatus ?? statusInText(text) ?? statusOfExit(exit);
  const finding = recognize(status, text);
  return finding === undefined ? undefined : toFailure(finding, cleanMessage(text), text, exit, WORDS);
}

function fromStderr(exit: AgentExit): Failure | undefined {
  return lastTelling(geminiStderr(exit), (line) => {
    const finding = recognize(statusInText(line), line);
    return finding === undefined ? undefined : toFailure(finding, clipDetail(line), line, exit, WORDS);
  });
}

function fromCliExit(exit: AgentExit): Failure | undefined {
  const known = exit.exitCode === null ? undefined : CLI_EXITS[exit.exitCode];
  if (known === undefined) return undefined;
  const lines = geminiStderr(exit);
  const why = lines.find((line) => known.line.test(line)) ?? lines.at(-1);
  return { kind: known.kind, detail: why === undefined ? known.what : `${known.what}: ${clipDetail(why)}` };
}

/** An HTTP status with no message to go with it (the result line was lost): the status alone decides. */
function fromExitStatus(exit: AgentExit): Failure | undefined {
  const status = statusOfExit(exit);
  const finding = status === undefined ? undefined : recognize(status, "");
  return finding === undefined ? undefined : toFailure(finding, `exit code ${exit.exitCode}`, "", exit, WORDS);
}

function fromExit(exit: AgentExit): Failure {
  const { result, exitCode } = exit;
  const lastLine = geminiStderr(exit).at(-1);
  if (exit.signal !== null || result === undefined) return exitFallback(exit, lastLine, EXIT_WORDS);
  if (result.ok) return { kind: "crashed", detail: `Gemini CLI reported success but exited with code ${String(exitCode)}${stderrNote(lastLine)}` };
  const why = result.text ? `: ${cleanMessage(result.text)}` : "";
  const failure: Failure = { kind: "crashed", detail: `Gemini CLI ended with an error (${result.reason ?? "error"})${why}` };
  if (result.httpStatus !== undefined) failure.httpStatus = result.httpStatus;
  return failure;
}

/**
 * What a status and a message say. The specific words go first (a 429 about a daily quota is a quota, a 400
 * about the token count is the context), then the status, then the general words. The common ladder
 * (`recognizeApi`) with two rungs of Gemini's own: an untrusted folder before auth, a bad stream before overload.
 */
function recognize(status: number | undefined, text: string): Finding<GeminiFailureKind> | undefined {
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
  const code = httpStatusIn(text, GOOGLE_ERROR_CODE, NAMED_STATUS);
  if (code !== undefined) return code;
  const name = /(?:\(Status: |"status"\s*:\s*")([A-Z_]+)/.exec(text)?.[1];
  return name === undefined ? undefined : GOOGLE_STATUS[name];
}

function statusOfExit(exit: AgentExit): number | undefined {
  return exit.exitCode === null ? undefined : STATUS_BY_EXIT.get(exit.exitCode);
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
    if (unescaped !== "") return clipDetail(unescaped);
  }
  const first = firstTextLine(text);
  const inner = /^\[API Error:\s*(.*?)\]?$/.exec(first)?.[1]?.trim();
  return clipDetail(inner !== undefined && inner !== "" ? inner : first);
}

function safeJsonString(escaped: string): string {
  const json = parseJson(`"${escaped}"`);
  return json !== undefined && typeof json.value === "string" ? json.value : escaped;
}

function geminiStderr(exit: AgentExit): string[] {
  return stderrLines(exit.stderrTail.replace(COLOUR, ""));
}
