// What orch does about each kind of failure: retry (back off, or sleep until the reset the agent reported),
// fall back to the next model in the chain, or escalate to a human. Defaults follow DESIGN.md's tiers; a run
// may choose otherwise per kind — for example, on a usage limit: wait for the reset, fall back, or stop.
import { z } from "zod";
import { DEFAULT_BREAKER } from "./circuit.js";
import { tierOf, type FailureKind, type RecoveryTier } from "./failure.js";

export type RecoveryPolicy = (kind: FailureKind) => RecoveryTier;

/**
 * Kinds whose handling is not a choice: the loop itself, missing credentials, a spent budget, a broken verify, an
 * agent that cannot start (no retry and no other model mends a missing executable).
 */
export const FIXED_KINDS: readonly FailureKind[] = ["verify_failed", "auth_failed", "budget_exceeded", "verify_error", "cannot_start"];

export function recoveryPolicy(overrides: Partial<Record<FailureKind, RecoveryTier>> = {}): RecoveryPolicy {
  return (kind) => {
    const chosen = overrides[kind];
    return chosen !== undefined && !FIXED_KINDS.includes(kind) ? chosen : tierOf(kind);
  };
}

const Tier = z.enum(["retry", "fallback", "escalate"]);

/** The choosable kinds; the others are FIXED_KINDS. */
export const OnFailure = z
  .object({
    rate_limited: Tier.optional(),
    overloaded: Tier.optional(),
    quota_exhausted: Tier.optional(),
    context_exceeded: Tier.optional(),
    permission_denied: Tier.optional(),
    hung: Tier.optional(),
    crashed: Tier.optional(),
    bad_output: Tier.optional(),
    timeout: Tier.optional(),
  })
  .strict();

/** A run's recovery settings as stored with the run. */
export const RecoverySettings = z.object({
  onFailure: OnFailure.default({}),
  circuitBreaker: z
    .object({ failures: z.number().int().positive(), cooldownMs: z.number().nonnegative() })
    .default({ failures: DEFAULT_BREAKER.failures, cooldownMs: DEFAULT_BREAKER.cooldownMs }),
});
export type RecoverySettings = z.infer<typeof RecoverySettings>;
