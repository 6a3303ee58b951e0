// The chain of agents and models one task's attempts run on, as a value: which link the next attempt uses, how a
// failed attempt counts against its link (a circuit breaker per link), and how a stall moves the chain on for
// good. Pure: every function returns a new chain, so that the task loop's fold keeps it like any other state.
import { allows, atStart, CLOSED, countsAgainstModel, recordFailure, recordSuccess, type Breaker, type BreakerOptions } from "./circuit.js";
import type { Failure } from "./failure.js";

export interface Chain {
  readonly breakers: readonly Breaker[];
  /** Where the chain starts: stalls move it on for good; breakers only skip links for a while. */
  readonly start: number;
  /** The link the current (or next) attempt runs on. */
  readonly current: number;
  /** Why the next attempt changes link, said in the journal when it does. */
  readonly switchReason?: string | undefined;
}

/** What the next attempt does: run on a link (saying why it changed, when it did), or wait for a circuit. */
export type NextLink = { waitUntil: number; reason: string } | { index: number; switched: string | undefined };

/** After a failed attempt: try another link now, wait for this one's circuit, or retry it after a backoff. */
export type AfterFailure = "fallback" | "circuit_open" | "retry";

export function newChain(length: number): Chain {
  return { breakers: Array.from({ length: Math.max(1, length) }, () => CLOSED), start: 0, current: 0 };
}

/** `labels[i]` names link i in the journal's words. */
export function labelOf(labels: readonly string[], index: number): string {
  return labels[index] ?? "(none)";
}

/** The link for the next attempt, or when one will let an attempt through; the chain itself is not changed. */
export function nextLink(chain: Chain, labels: readonly string[], now: number): NextLink {
  const pick = firstAllowed(chain.breakers, chain.start, now);
  if ("waitUntil" in pick) {
    const names = chain.breakers
      .slice(chain.start)
      .map((_, i) => labelOf(labels, chain.start + i))
      .join(", ");
    return { waitUntil: pick.waitUntil, reason: `circuit open for every model: ${names}; probing again after the cool-down` };
  }
  if (pick.index === chain.current) return { index: pick.index, switched: undefined };
  const why =
    chain.breakers[chain.current]?.state === "open" ? `its circuit is open${chain.switchReason ? ` after ${chain.switchReason}` : ""}` : "probing it again after its cool-down";
  return { index: pick.index, switched: `switching to model ${labelOf(labels, pick.index)} from ${labelOf(labels, chain.current)}: ${why}` };
}

/** An attempt starts on link `index` at `now` (a half-open circuit lets this one probe through). */
export function startOn(chain: Chain, index: number, now: number): Chain {
  const current = Math.min(Math.max(0, index), chain.breakers.length - 1);
  const changed = current !== chain.current;
  return {
    ...chain,
    current,
    switchReason: changed ? undefined : chain.switchReason,
    breakers: chain.breakers.map((b, i) => (i === current ? atStart(b, now) : b)),
  };
}

/** The model answered: whatever verification says next, its API is healthy. */
export function linkAnswered(chain: Chain): Chain {
  return { ...chain, breakers: chain.breakers.map((b, i) => (i === chain.current ? recordSuccess() : b)) };
}

/**
 * A failed attempt on the current link, which the recovery policy answered with `action`. A failure that says
 * when the model is usable again (`reopenAt`) keeps it out until then, not for the whole cool-down.
 */
export function linkFailed(
  chain: Chain,
  failure: Failure,
  action: "retry" | "fallback",
  now: number,
  options: BreakerOptions,
  reopenAt: number | undefined,
): { chain: Chain; after: AfterFailure } {
  const others = chain.breakers.map((b, i): Breaker => (i === chain.current ? { state: "open", until: Infinity } : b));
  const fallBack = action === "fallback" && "index" in firstAllowed(others, chain.start, now);
  const counted = countsAgainstModel(failure.kind) || fallBack;
  const breakers = counted ? chain.breakers.map((b, i) => (i === chain.current ? recordFailure(b, now, options, fallBack, reopenAt) : b)) : chain.breakers;
  const next: Chain = { ...chain, breakers, switchReason: `${failure.kind}: ${failure.detail}` };
  if (fallBack) return { chain: next, after: "fallback" };
  // With nowhere to fall back to, a fallback is a retry; a circuit that opened makes the next pick wait.
  return { chain: next, after: breakers[chain.current]?.state === "open" ? "circuit_open" : "retry" };
}

/** No progress for too long: the chain moves on to its next link for good; undefined when there is none. */
export function moveOn(chain: Chain): Chain | undefined {
  if (chain.start + 1 >= chain.breakers.length) return undefined;
  return { ...chain, start: chain.start + 1, current: chain.start + 1 };
}

/** The first link from `start` on whose circuit lets an attempt through now, or when the first one will. */
function firstAllowed(breakers: readonly Breaker[], start: number, now: number): { index: number } | { waitUntil: number } {
  let waitUntil = Infinity;
  for (let i = start; i < breakers.length; i++) {
    const breaker = breakers[i];
    if (breaker === undefined || allows(breaker, now)) return { index: i };
    if (breaker.state === "open") waitUntil = Math.min(waitUntil, breaker.until);
  }
  return { waitUntil };
}
