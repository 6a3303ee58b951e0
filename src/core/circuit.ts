// A circuit breaker per model: closed while the model answers; open (skipped) for a cool-down after repeated
// failures that say the model's API is unhealthy; then half-open, letting one attempt probe it. Pure: the
// caller passes the time and keeps the state.
import type { FailureKind } from "./failure.js";

export type Breaker =
  | { state: "closed"; failures: number }
  | { state: "open"; until: number }
  | { state: "half-open" };

export interface BreakerOptions {
  /** Consecutive unhealthy failures that open the circuit. */
  failures: number;
  /** How long an open circuit keeps the model out before one probe. */
  cooldownMs: number;
}

export const DEFAULT_BREAKER: BreakerOptions = { failures: 3, cooldownMs: 10 * 60_000 };

export const CLOSED: Breaker = { state: "closed", failures: 0 };

/** Failures that tell about the model's API, not about the task or the prompt. */
export function countsAgainstModel(kind: FailureKind): boolean {
  switch (kind) {
    case "rate_limited":
    case "overloaded":
    case "quota_exhausted":
    case "hung":
    case "timeout":
      return true;
    default:
      return false;
  }
}

/** Whether an attempt may use the model now; an open circuit whose cool-down is over lets one probe through. */
export function allows(breaker: Breaker, now: number): boolean {
  return breaker.state !== "open" || now >= breaker.until;
}

/** The model answered (the agent finished its turn, whatever verification then says). */
export function recordSuccess(): Breaker {
  return CLOSED;
}

/**
 * An unhealthy failure: a probe that fails opens the circuit again at once; a closed circuit opens after
 * `failures` in a row, or at once when `open` is set (the policy chose to fall back to another model). It stays
 * open for the cool-down, or until `reopenAt` when the failure said when the model is usable again (a rate
 * limit's reset): a known reset is not worth ten minutes of waiting.
 */
export function recordFailure(breaker: Breaker, now: number, options: BreakerOptions, open = false, reopenAt?: number): Breaker {
  const reopen: Breaker = { state: "open", until: reopenAt !== undefined && reopenAt > now ? reopenAt : now + options.cooldownMs };
  switch (breaker.state) {
    case "half-open":
    case "open":
      return reopen;
    case "closed": {
      const failures = breaker.failures + 1;
      return open || failures >= options.failures ? reopen : { state: "closed", failures };
    }
  }
}

/** The state to use for an attempt starting now: an open circuit past its cool-down becomes half-open. */
export function atStart(breaker: Breaker, now: number): Breaker {
  return breaker.state === "open" && now >= breaker.until ? { state: "half-open" } : breaker;
}
