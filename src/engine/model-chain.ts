// The chain of agents and models one task's attempts run on: which link the next attempt uses, how a failed
// attempt counts against its link (a circuit breaker per link), and how a stall moves the chain on for good.
// Pure bookkeeping: the loop journals what it says and does the waiting.
import type { AgentAdapter } from "../agents/agent.js";
import { allows, atStart, CLOSED, countsAgainstModel, recordFailure, recordSuccess, type Breaker, type BreakerOptions } from "../core/circuit.js";
import type { Failure } from "../core/failure.js";

export interface ChainLink {
  adapter: AgentAdapter;
  /** Undefined: the CLI's own default model. */
  model: string | undefined;
}

/** What the next attempt does: run on a link (saying why it changed, when it did), or wait for a circuit. */
export type NextLink = { waitUntil: number; reason: string } | { index: number; switched: string | undefined };

/** After a failed attempt: try another link now, wait for this one's circuit, or retry it after a backoff. */
export type AfterFailure = "fallback" | "circuit_open" | "retry";

export class ModelChain {
  private breakers: Breaker[];
  /** Where the chain starts: stalls move it on for good; breakers only skip links for a while. */
  private start = 0;
  private current: number;
  /** Why the next attempt changes link, said in the journal when it does. */
  private switchReason: string | undefined;
  private readonly primary: string | undefined;

  constructor(
    private readonly links: readonly ChainLink[],
    private readonly options: BreakerOptions,
    /** The link a restored loop was on. */
    restoredIndex = 0,
  ) {
    this.breakers = links.map(() => CLOSED);
    this.current = Math.min(restoredIndex, Math.max(0, links.length - 1));
    this.primary = links[0]?.adapter.name;
  }

  /** The link the current (or next) attempt runs on. */
  get index(): number {
    return this.current;
  }

  link(): ChainLink {
    const link = this.links[this.current];
    if (link === undefined) throw new Error(`no agent at position ${this.current} of the chain`);
    return link;
  }

  /** A link as the journal names it: the model alone on the run's own agent, `agent:model` on another. */
  label(index = this.current): string {
    const link = this.links[index];
    if (link === undefined) return "(none)";
    const model = link.model ?? "(default)";
    return link.adapter.name === this.primary ? model : `${link.adapter.name}:${model}`;
  }

  /** Picks the link for the next attempt and marks its start (a half-open circuit lets one probe through). */
  next(now: number): NextLink {
    const pick = firstAllowed(this.breakers, this.start, now);
    if ("waitUntil" in pick) {
      const names = this.links.slice(this.start).map((_, i) => this.label(this.start + i)).join(", ");
      return { waitUntil: pick.waitUntil, reason: `circuit open for every model: ${names}; probing again after the cool-down` };
    }
    let switched: string | undefined;
    if (pick.index !== this.current) {
      const why = this.breakers[this.current]?.state === "open" ? `its circuit is open${this.switchReason ? ` after ${this.switchReason}` : ""}` : "probing it again after its cool-down";
      switched = `switching to model ${this.label(pick.index)} from ${this.label()}: ${why}`;
      this.current = pick.index;
      this.switchReason = undefined;
    }
    this.breakers = this.breakers.map((b, i) => (i === this.current ? atStart(b, now) : b));
    return { index: this.current, switched };
  }

  /** The model answered: whatever verification says next, its API is healthy. */
  succeeded(): void {
    this.breakers = this.breakers.map((b, i) => (i === this.current ? recordSuccess() : b));
  }

  /**
   * A failed attempt on the current link, which the recovery policy answered with `action`. A failure that says
   * when the model is usable again (`reopenAt`, asked only when the failure counts against the link) keeps it out
   * until then, not for the whole cool-down.
   */
  failed(failure: Failure, action: "retry" | "fallback", now: number, reopenAt: () => number | undefined): AfterFailure {
    const other = firstAllowed(this.breakers.map((b, i) => (i === this.current ? { state: "open" as const, until: Infinity } : b)), this.start, now);
    const fallBack = action === "fallback" && "index" in other;
    this.switchReason = `${failure.kind}: ${failure.detail}`;
    if (countsAgainstModel(failure.kind) || fallBack) {
      this.breakers = this.breakers.map((b, i) => (i === this.current ? recordFailure(b, now, this.options, fallBack, reopenAt()) : b));
    }
    if (fallBack) return "fallback";
    // With nowhere to fall back to, a fallback is a retry; a circuit that opened makes the next pick wait.
    return this.breakers[this.current]?.state === "open" ? "circuit_open" : "retry";
  }

  /** No progress for too long: the chain moves on to its next link for good. False when there is none. */
  moveOn(): boolean {
    if (this.start + 1 >= this.links.length) return false;
    this.start += 1;
    this.current = this.start;
    return true;
  }
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
