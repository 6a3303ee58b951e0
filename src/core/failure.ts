// The closed union of ways an attempt can fail, and the recovery tier each one belongs to.
// Pure: the engine decides what to do with a tier; this module only names and orders things.
import { assertNever } from "./assert.js";

export type FailureKind =
  | "rate_limited"
  | "overloaded"
  | "quota_exhausted"
  | "context_exceeded"
  | "auth_failed"
  | "permission_denied"
  | "hung"
  | "crashed"
  | "bad_output"
  | "verify_failed"
  | "verify_error"
  | "budget_exceeded"
  | "timeout"
  | "cannot_start";

export const FAILURE_KINDS: readonly FailureKind[] = [
  "rate_limited",
  "overloaded",
  "quota_exhausted",
  "context_exceeded",
  "auth_failed",
  "permission_denied",
  "hung",
  "crashed",
  "bad_output",
  "verify_failed",
  "verify_error",
  "budget_exceeded",
  "timeout",
  "cannot_start",
];

/** A failure with what is known about it: `resetAt` only where the CLI reported when a limit lifts. */
export interface Failure {
  kind: FailureKind;
  /** Plain words for the report and the handoff. */
  detail: string;
  /** Epoch milliseconds at which a rate limit lifts, when the agent said so. */
  resetAt?: number;
  /** The HTTP status the agent saw from its model API, when it said. */
  httpStatus?: number;
}

export type RecoveryTier = "retry" | "fallback" | "escalate";

/**
 * Which tier a failure kind belongs to. `verify_failed` is the ordinary loop (another attempt with the
 * failure in the handoff), so it counts as retry; limits and missing credentials escalate at once, and so does
 * an agent that cannot start at all (its executable missing or not executable, its worktree gone): no retry
 * mends that, and ten of them with growing waits only hide the fix for minutes.
 */
export function tierOf(kind: FailureKind): RecoveryTier {
  switch (kind) {
    case "rate_limited":
    case "hung":
    case "crashed":
    case "bad_output":
    case "timeout":
    case "verify_failed":
      return "retry";
    case "overloaded":
    case "quota_exhausted":
    case "context_exceeded":
      return "fallback";
    case "auth_failed":
    case "permission_denied":
    case "verify_error":
    case "budget_exceeded":
    case "cannot_start":
      return "escalate";
    default:
      return assertNever(kind, "failure kind");
  }
}

export interface BackoffOptions {
  baseMs: number;
  capMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 2_000, capMs: 5 * 60_000 };

/**
 * Delay before retry number `retry` (1-based): exponential from `baseMs`, capped, with "equal jitter"
 * (half fixed, half random) so that parallel tasks hitting one limit do not retry in lockstep.
 * `random` is injected to keep this pure and testable.
 */
export function backoffDelay(retry: number, random: number, options: BackoffOptions = DEFAULT_BACKOFF): number {
  const exp = Math.min(options.capMs, options.baseMs * 2 ** Math.max(0, retry - 1));
  const half = exp / 2;
  return Math.round(half + half * Math.min(1, Math.max(0, random)));
}

/**
 * How long to wait before the next attempt after `failure`, given that it is the `consecutive`-th failure
 * of a retryable kind in a row. A reported reset time is honoured (so that one rate-limit signal costs at most
 * one extra call); from the second failure in a row on, never less than the backoff curve, since a CLI's own
 * retry delay passed off as a reset time would otherwise pace orch at sub-second retries.
 */
export function retryDelay(failure: Failure, consecutive: number, now: number, random: number): number {
  if (failure.kind === "verify_failed") return 0;
  if (failure.resetAt !== undefined && failure.resetAt > now) {
    const reset = failure.resetAt - now;
    return consecutive > 1 ? Math.max(reset, backoffDelay(consecutive, random)) : reset;
  }
  return backoffDelay(consecutive, random);
}

/** Failures after which the agent's session is worth resuming (what it did is still good context). */
export function resumesAfter(kind: FailureKind): boolean {
  switch (kind) {
    case "hung":
    case "crashed":
    case "timeout":
    case "rate_limited":
    case "overloaded":
    case "quota_exhausted":
    case "budget_exceeded":
      return true;
    case "context_exceeded":
    case "bad_output":
    case "auth_failed":
    case "permission_denied":
    case "verify_failed":
    case "verify_error":
    case "cannot_start":
      return false;
  }
}
