// The recovery figures of a run: failures by kind, how many were recovered without a human and how many
// ended their task, the time spent waiting on limits and the model calls spent on retries. Pure: the callers
// read the journal and hand the facts in.
import type { FailureKind } from "./failure.js";

export interface AttemptFacts {
  taskId: string;
  number: number;
  /** How the attempt failed; undefined when it succeeded (or has not ended). */
  failure: FailureKind | undefined;
  /** Retries the agent CLI made inside the attempt (its own API retries, as it reported them). */
  apiRetries: number;
  /** How long the CLI waited before them, as it reported. */
  apiRetryWaitMs?: number;
  /** Stopped from outside (Ctrl-C, `orch abort`, a drain's grace, the time limit): no failure of the agent's. */
  interrupted?: boolean;
}

export interface WaitFacts {
  delayMs: number;
  reason: string;
}

export interface RecoveryFigures {
  /** Failures of the agent or of verification; attempts stopped from outside are `interrupted`, not failures. */
  failuresByKind: Partial<Record<FailureKind, number>>;
  /** Attempts stopped from outside: a person's Ctrl-C or request, a drain, the time limit. */
  interrupted: number;
  /** Agent failures (anything but a failed verification) after which a later attempt of the task got its work done
   * by the agent (it finished its turn, whatever verification then said). */
  recovered: number;
  /** Agent failures never followed by such an attempt: escalated, or the limits ran out first. */
  escalated: number;
  /** recovered / (recovered + escalated); null when no agent failure happened. */
  recoveryRate: number | null;
  /** Time spent waiting for rate limits, quotas and backoff, by orch between attempts and by the CLIs before
   * their own retries (not the `--interval` between attempts). */
  waitedMs: number;
  /** Model calls spent on retries: the CLIs' own retries plus attempts run again after an agent failure. */
  retryCalls: number;
}

/** The reason orch journals for its own pacing (`--interval`), which is no wait on a failure. */
export const PACING_REASON = "interval between attempts";

export function recoveryFigures(attempts: readonly AttemptFacts[], waits: readonly WaitFacts[]): RecoveryFigures {
  const failuresByKind: Partial<Record<FailureKind, number>> = {};
  // The last attempt of each task in which the agent finished its turn (no failure, or only verification's).
  const lastAnswered = new Map<string, number>();
  for (const a of attempts) {
    if (a.failure === undefined || a.failure === "verify_failed") lastAnswered.set(a.taskId, Math.max(lastAnswered.get(a.taskId) ?? 0, a.number));
  }
  let recovered = 0;
  let escalated = 0;
  let apiRetries = 0;
  let interrupted = 0;
  for (const a of attempts) {
    apiRetries += a.apiRetries;
    if (a.interrupted === true) {
      interrupted += 1;
      continue;
    }
    if (a.failure === undefined) continue;
    failuresByKind[a.failure] = (failuresByKind[a.failure] ?? 0) + 1;
    if (a.failure === "verify_failed") continue;
    if (a.number < (lastAnswered.get(a.taskId) ?? 0)) recovered += 1;
    else escalated += 1;
  }
  const cliWaitedMs = attempts.reduce((sum, a) => sum + (a.apiRetryWaitMs ?? 0), 0);
  const waitedMs = cliWaitedMs + waits.filter((w) => w.reason !== PACING_REASON).reduce((sum, w) => sum + w.delayMs, 0);
  return {
    failuresByKind,
    interrupted,
    recovered,
    escalated,
    recoveryRate: recovered + escalated === 0 ? null : recovered / (recovered + escalated),
    waitedMs,
    retryCalls: apiRetries + recovered,
  };
}

/** `rate_limited 2, hung 1 · recovered 3 of 3 (100%) · waited 12s on limits · 4 retry calls` */
export function describeFigures(f: RecoveryFigures, formatMs: (ms: number) => string): string {
  const kinds = Object.entries(f.failuresByKind)
    .map(([kind, n]) => `${kind} ${n}`)
    .join(", ");
  const parts = [kinds === "" ? "no failures" : kinds];
  if (f.interrupted > 0) parts.push(`${f.interrupted} interrupted`);
  if (f.recoveryRate !== null) parts.push(`recovered ${f.recovered} of ${f.recovered + f.escalated} (${Math.round(f.recoveryRate * 100)}%)`);
  if (f.waitedMs > 0) parts.push(`waited ${formatMs(f.waitedMs)} on limits and backoff`);
  if (f.retryCalls > 0) parts.push(`${f.retryCalls} retry call${f.retryCalls === 1 ? "" : "s"}`);
  return parts.join(" · ");
}
