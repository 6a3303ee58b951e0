// Classifies a finished Codex process: `undefined` when its turn completed (verification decides), else one
// Failure. Evidence is read in order of trust: the failed turn's message, the CLI's own retries, stderr, the exit.
import type { AgentExit } from "../agent.js";
import type { AgentEvent } from "../../core/agent-event.js";
import type { Failure, FailureKind } from "../../core/failure.js";
import { readResetTime } from "../reset-time.js";
import { statusIn } from "./normalize.js";

type ResultEvent = Extract<AgentEvent, { type: "result" }>;

type ApiFailureKind = Extract<FailureKind, "rate_limited" | "overloaded" | "quota_exhausted" | "context_exceeded" | "auth_failed">;

interface Finding {
  kind: ApiFailureKind;
  httpStatus?: number | undefined;
  /** Set when no HTTP answer came back at all. */
  network?: boolean;
}

const CONTEXT = /out of room in the model's context window|context window|context_length_exceeded|maximum context length|prompt is too long/i;
// Plan and billing limits: waiting minutes does not help, another model or account might.
const QUOTA = /quota exceeded|insufficient_quota|usage limit|billing|credits? (?:balance|exhausted)|upgrade to (?:plus|pro)/i;
const AUTH =
  /unauthori[sz]ed|incorrect api key|invalid[_ ]api[_ ]key|invalid authentication|not logged in|please (?:log ?in|run `?codex login)|token (?:has )?expired|forbidden|missing (?:api key|environment variable)/i;
const RATE = /too many requests|rate[ _-]?limit/i;
// Codex replaces a 500's message with its own "high demand" words.
const OVERLOADED = /high demand|overloaded|service unavailable|bad gateway|gateway timeout|internal server error|server_error|server had an error/i;
const NETWORK =
  /connection failed|error sending request|stream disconnected|idle timeout|timed out|connection (?:refused|reset|closed)|dns error|waiting for network/i;

const OVERLOAD_STATUSES = new Set([500, 502, 503, 504, 529]);
const MESSAGE_LIMIT = 300;

const LABELS: Record<ApiFailureKind, string> = {
  rate_limited: "OpenAI API rate limit",
  overloaded: "OpenAI API overloaded or failing",
  quota_exhausted: "OpenAI usage or quota limit reached",
  context_exceeded: "Context window exceeded",
  auth_failed: "OpenAI API rejected the credentials",
};

export function classifyCodexExit(exit: AgentExit): Failure | undefined {
  const { result } = exit;
  if (result?.ok === true && exit.exitCode === 0 && exit.signal === null) return undefined;
  if (result !== undefined && !result.ok) {
    const failure = fromResult(result, exit);
    if (failure !== undefined) return failure;
  }
  // After a completed turn the CLI's earlier retries and its stderr are old news.
  if (result?.ok !== true) {
    const failure = fromRetries(exit) ?? fromStderr(exit);
    if (failure !== undefined) return failure;
  }
  return fromExit(exit);
}

function fromResult(result: ResultEvent, exit: AgentExit): Failure | undefined {
  const text = result.text ?? "";
  const finding = recognize(result.httpStatus, text);
  if (finding === undefined) return undefined;
  return toFailure(finding, cleanMessage(text), text, exit);
}

function fromRetries(exit: AgentExit): Failure | undefined {
  const last = exit.retries.at(-1);
  if (last === undefined) return undefined;
  const finding = recognize(last.httpStatus, last.error ?? "");
  if (finding === undefined) return undefined;
  const what = last.error === undefined ? `attempt ${last.attempt}` : `attempt ${last.attempt}, ${cleanMessage(last.error)}`;
  return toFailure(finding, `still retrying (${what}) when Codex stopped`, last.error ?? "", exit);
}

function fromStderr(exit: AgentExit): Failure | undefined {
  const lines = stderrLines(exit.stderrTail);
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = lines[i];
    if (line === undefined) continue;
    const finding = recognize(undefined, line);
    if (finding !== undefined) return toFailure(finding, cleanMessage(line), line, exit);
  }
  return undefined;
}

function fromExit(exit: AgentExit): Failure {
  const { result, exitCode, signal } = exit;
  const lastLine = stderrLines(exit.stderrTail).at(-1);
  const stderrNote = lastLine === undefined ? "" : `; last stderr line: ${truncate(lastLine)}`;
  if (signal !== null) return { kind: "crashed", detail: `Codex was killed by ${signal}${stderrNote}` };
  if (result !== undefined && !result.ok) {
    const failure: Failure = { kind: "crashed", detail: `Codex ended the turn with an error: ${cleanMessage(result.text ?? "no message")}` };
    if (result.httpStatus !== undefined) failure.httpStatus = result.httpStatus;
    return failure;
  }
  if (result !== undefined) {
    return { kind: "crashed", detail: `Codex completed the turn but exited with code ${String(exitCode)}${stderrNote}` };
  }
  if (exitCode === 0) return { kind: "bad_output", detail: "Codex exited with code 0 but printed no turn.completed line" };
  if (exitCode === null) return { kind: "crashed", detail: `Codex ended without an exit code or signal${stderrNote}` };
  return {
    kind: "crashed",
    detail:
      lastLine === undefined
        ? `Codex exited with code ${exitCode} without finishing a turn or printing anything to stderr`
        : `Codex exited with code ${exitCode}: ${truncate(lastLine)}`,
  };
}

/** The specific words first (a 429 about a usage limit is a quota), then the status, then the general words. */
function recognize(status: number | undefined, text: string): Finding | undefined {
  const httpStatus = status ?? statusIn(text);
  if (httpStatus === 413 || CONTEXT.test(text)) return { kind: "context_exceeded", httpStatus };
  if (QUOTA.test(text)) return { kind: "quota_exhausted", httpStatus };
  if (httpStatus === 401 || httpStatus === 403 || AUTH.test(text)) return { kind: "auth_failed", httpStatus };
  if (httpStatus === 429 || RATE.test(text)) return { kind: "rate_limited", httpStatus };
  if ((httpStatus !== undefined && OVERLOAD_STATUSES.has(httpStatus)) || OVERLOADED.test(text)) return { kind: "overloaded", httpStatus };
  if (NETWORK.test(text)) return { kind: "overloaded", httpStatus, network: true };
  return undefined;
}

function toFailure(finding: Finding, message: string, text: string, exit: AgentExit): Failure {
  const label = finding.network ? "Could not reach the model API" : LABELS[finding.kind];
  const status = finding.httpStatus === undefined ? "" : ` (HTTP ${finding.httpStatus})`;
  const failure: Failure = { kind: finding.kind, detail: message ? `${label}${status}: ${message}` : `${label}${status}` };
  if (finding.httpStatus !== undefined) failure.httpStatus = finding.httpStatus;
  // Only a time the message names; Codex prints no backoff delay, and orch's own backoff covers the rest.
  if (finding.kind === "rate_limited" || finding.kind === "quota_exhausted") {
    const resetAt = readResetTime(text, exit.endedAt);
    if (resetAt !== undefined) failure.resetAt = resetAt;
  }
  return failure;
}

/**
 * `unexpected status 401 Unauthorized: Incorrect API key…, url: http://…, request id: req_…` → `Incorrect API
 * key…`: the label already names the status, and the URL and request id only make the line long.
 */
function cleanMessage(text: string): string {
  let message = (text.split("\n").find((line) => line.trim() !== "") ?? "").trim();
  for (const pattern of [/^unexpected status \d{3}[^:]*:\s*/i, /,\s*url: [^,\s]+/i, /,\s*request id: [^,\s]+/i, /^Error:\s*/]) {
    const shorter = message.replace(pattern, "").trim();
    if (shorter !== "") message = shorter;
  }
  return truncate(message);
}

function truncate(text: string): string {
  return text.length <= MESSAGE_LIMIT ? text : `${text.slice(0, MESSAGE_LIMIT - 1)}…`;
}

/** stderr without the CLI's notice that it read the (closed) stdin. */
function stderrLines(tail: string): string[] {
  return tail
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== "" && !/^Reading (?:additional input|prompt) from stdin/i.test(line));
}
