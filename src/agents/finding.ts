// What the CLI adapters' classifiers share: the order in which evidence is trusted, a finding (what one piece of
// it says, before it is put into words), the common ladder that reads one from a status and a message, and the
// words for an exit nothing explains.
import type { Failure, FailureKind } from "../core/failure.js";
import type { AgentExit, ResultEvent } from "./agent.js";
import { clipDetail } from "./classify-text.js";
import { readResetTime } from "./reset-time.js";
import { cliCannotStart } from "./start-failure.js";

/** One CLI's readers of each kind of evidence; each says `undefined` when its evidence tells nothing. */
export interface EvidenceReaders {
  /** A failed result: the CLI's own account of the turn. */
  result: (result: ResultEvent, exit: AgentExit) => Failure | undefined;
  /** What the CLI said along the way (its retries, stderr…), most trusted first. */
  along: readonly ((exit: AgentExit) => Failure | undefined)[];
  /** The exit itself: the last word, always a failure. */
  exit: (exit: AgentExit) => Failure;
}

/**
 * `undefined` when the turn ended well and the process cleanly (verification decides), else the first thing the
 * evidence says, in order of trust. After a turn that ended well, what the CLI said along the way is old news.
 */
export function inOrderOfTrust(exit: AgentExit, readers: EvidenceReaders): Failure | undefined {
  const { result } = exit;
  if (result?.ok === true && exit.exitCode === 0 && exit.signal === null) return undefined;
  if (result !== undefined && !result.ok) {
    const failure = readers.result(result, exit);
    if (failure !== undefined) return failure;
  }
  if (result?.ok !== true) {
    for (const read of readers.along) {
      const failure = read(exit);
      if (failure !== undefined) return failure;
    }
  }
  return readers.exit(exit);
}

/** The kinds a message or status can show; the others come from the exit itself or from elsewhere in orch. */
export type ApiFailureKind = Extract<FailureKind, "rate_limited" | "overloaded" | "quota_exhausted" | "context_exceeded" | "auth_failed">;

export interface Finding<K extends FailureKind = ApiFailureKind> {
  kind: K;
  httpStatus?: number | undefined;
  /** Set when no HTTP answer came back at all. */
  network?: boolean;
}

/** Statuses of a server that failed or is too busy: worth a retry, then a fallback. */
export const OVERLOAD_STATUSES: ReadonlySet<number> = new Set([500, 502, 503, 504, 529]);

/** The words one CLI's messages use for each rung of the common ladder. */
export interface ApiPatterns {
  context: RegExp;
  /** Plan and billing limits: waiting minutes does not help, another model or account might. */
  quota: RegExp;
  auth: RegExp;
  rate: RegExp;
  overloaded: RegExp;
  /** No answer at all. Usually passing (a restarting gateway, a network blip), so it counts as `overloaded`. */
  network: RegExp;
}

/**
 * The common ladder. The specific words go first (a 429 that talks about a usage limit is a quota, a 400 that
 * says the prompt is too long is the context), then the status, then the general words.
 */
export function recognizeApi(status: number | undefined, text: string, patterns: ApiPatterns): Finding | undefined {
  if (status === 413 || patterns.context.test(text)) return { kind: "context_exceeded", httpStatus: status };
  if (patterns.quota.test(text)) return { kind: "quota_exhausted", httpStatus: status };
  if (status === 401 || status === 403 || patterns.auth.test(text)) return { kind: "auth_failed", httpStatus: status };
  if (status === 429 || patterns.rate.test(text)) return { kind: "rate_limited", httpStatus: status };
  if ((status !== undefined && OVERLOAD_STATUSES.has(status)) || patterns.overloaded.test(text)) {
    return { kind: "overloaded", httpStatus: status };
  }
  if (patterns.network.test(text)) return { kind: "overloaded", httpStatus: status, network: true };
  return undefined;
}

/** How one CLI puts its findings into words. */
export interface FindingWords<K extends FailureKind> {
  labels: Record<K, string>;
  /** The label of a network finding. */
  unreachable: string;
  /**
   * When a rate or quota limit lifts. By default only a time the message names (`readResetTime`): orch's own
   * backoff covers the rest.
   */
  resetAt?: (text: string, exit: AgentExit, kind: K) => number | undefined;
}

/** `Label (HTTP 429): message`, with the status and the reset time as fields too. */
export function toFailure<K extends FailureKind>(
  finding: Finding<K>,
  message: string,
  text: string,
  exit: AgentExit,
  words: FindingWords<K>,
): Failure {
  const label = finding.network === true ? words.unreachable : words.labels[finding.kind];
  const status = finding.httpStatus === undefined ? "" : ` (HTTP ${finding.httpStatus})`;
  const failure: Failure = { kind: finding.kind, detail: message ? `${label}${status}: ${message}` : `${label}${status}` };
  if (finding.httpStatus !== undefined) failure.httpStatus = finding.httpStatus;
  if (finding.kind === "rate_limited" || finding.kind === "quota_exhausted") {
    const resetAt = words.resetAt === undefined ? readResetTime(text, exit.endedAt) : words.resetAt(text, exit, finding.kind);
    if (resetAt !== undefined) failure.resetAt = resetAt;
  }
  return failure;
}

/** `; last stderr line: …`, or nothing when stderr was empty. */
export function stderrNote(lastLine: string | undefined): string {
  return lastLine === undefined ? "" : `; last stderr line: ${clipDetail(lastLine)}`;
}

/** How one CLI's exit is told when nothing it printed explains it. */
export interface ExitWords {
  /** The CLI's name in a sentence: `Claude Code`. */
  agent: string;
  /** Said of an exit 0 without the line that ends a turn: `printed no result line`. */
  noResult: string;
  /** Said of a failing exit that printed nothing either: `without a result line or any stderr`. */
  silent: string;
}

/** The exit itself, when no result or stderr line told why: the signal, else the code and stderr's last line. */
export function exitFallback(exit: Pick<AgentExit, "exitCode" | "signal">, lastLine: string | undefined, words: ExitWords): Failure {
  const { exitCode, signal } = exit;
  if (signal !== null) return killedBy(signal, lastLine, words);
  if (exitCode === 0) return { kind: "bad_output", detail: `${words.agent} exited with code 0 but ${words.noResult}` };
  if (exitCode === null) return { kind: "crashed", detail: `${words.agent} ended without an exit code or signal${stderrNote(lastLine)}` };
  return exitedWithCode(exitCode, lastLine, words);
}

/** The shell's codes for a program that could not run (127 not found, 126 not executable): no retry mends them. */
function cannotRun(exitCode: number | null): exitCode is 126 | 127 {
  return exitCode === 126 || exitCode === 127;
}

/** `… was killed by SIGTERM`, with stderr's last line. */
export function killedBy(signal: string, lastLine: string | undefined, words: Pick<ExitWords, "agent">): Failure {
  return { kind: "crashed", detail: `${words.agent} was killed by ${signal}${stderrNote(lastLine)}` };
}

/** `… exited with code 1: <stderr's last line>`, or, with nothing on stderr, what it did not print either. */
export function exitedWithCode(exitCode: number | null, lastLine: string | undefined, words: Pick<ExitWords, "agent" | "silent">): Failure {
  const { agent } = words;
  if (cannotRun(exitCode)) return cliCannotStart(agent, exitCode, lastLine);
  return {
    kind: "crashed",
    detail: lastLine === undefined ? `${agent} exited with code ${exitCode} ${words.silent}` : `${agent} exited with code ${exitCode}: ${clipDetail(lastLine)}`,
  };
}
