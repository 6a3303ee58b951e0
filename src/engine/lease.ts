// One supervisor per run: the process that drives a run holds a lease in the journal and renews it while it
// lives. A lease whose holder is gone (on this host: its pid no longer runs, or runs another program) or whose
// time ran out (on any host) may be taken over; of two claimants the store lets exactly one win.
import { hostname } from "node:os";
import { isTerminalRun } from "../core/run.js";
import { processStartTime, processStat } from "../process/tree.js";
import type { Lease, RunRecord, Store } from "../store/store.js";
import type { Logger } from "./logger.js";

/** How long a lease holds without renewal; the holder renews it every third of that. */
export const LEASE_TTL_MS = 15_000;

/** A supervisor as the lease names it. */
export interface Supervisor {
  host: string;
  pid: number;
  /** The process's start time from /proc: tells the process from a later one that reused its pid. */
  startTime: string | undefined;
}

export function currentSupervisor(): Supervisor {
  return { host: hostname(), pid: process.pid, startTime: processStartTime(process.pid) };
}

/** The lease owner string: `host/pid/start-time`. */
export function ownerOf(s: Supervisor): string {
  return `${s.host}/${s.pid}/${s.startTime ?? "?"}`;
}

export function parseOwner(owner: string): Supervisor | undefined {
  const match = /^(.*)\/(\d+)\/([^/]+)$/.exec(owner);
  if (match === null) return undefined;
  const [, host = "", pid = "", startTime = "?"] = match;
  return { host, pid: Number(pid), startTime: startTime === "?" ? undefined : startTime };
}

export type Liveness = "alive" | "dead" | "unknown";

/** Whether a process still runs, as far as this host can tell (another host's processes are "unknown"). */
export function processLiveness(p: Supervisor, localHost = hostname()): Liveness {
  if (p.host !== localHost) return "unknown";
  const stat = processStat(p.pid);
  // A zombie has exited; only nobody has reaped it (a killed detached supervisor's parent is long gone).
  if (stat === undefined || stat.state === "Z") return "dead";
  return p.startTime === undefined || p.startTime === stat.startTime ? "alive" : "dead";
}

/** Whether the lease's holder still drives the run: by its process on this host, by the lease's time elsewhere. */
export function leaseLiveness(lease: Lease, now: number, localHost = hostname()): Exclude<Liveness, "unknown"> {
  const holder = parseOwner(lease.owner);
  const liveness = holder === undefined ? "unknown" : processLiveness(holder, localHost);
  if (liveness !== "unknown") return liveness;
  return lease.until >= now ? "alive" : "dead";
}

/**
 * Whether a live process drives the run: null when none should (the run is pending, paused, waiting for a
 * human, or over), otherwise from its lease, or for a run journaled before leases existed from its pid.
 */
export function supervisorAlive(run: RunRecord, now = Date.now()): boolean | null {
  if (isTerminalRun(run.status) || run.status === "pending" || run.status === "paused" || run.status === "waiting") return null;
  if (run.lease !== undefined) return leaseLiveness(run.lease, now) === "alive";
  if (run.pid === undefined || run.host === undefined) return false;
  return processLiveness({ host: run.host, pid: run.pid, startTime: run.pidStartTime }, run.host) !== "dead";
}

export type Claim = { won: true; fence: number; replaced: string | undefined } | { won: false; why: string };

/** Claims the run for `me`: free, expired, already mine, or held by a supervisor found dead. */
export async function claimRun(store: Store, runId: string, me: Supervisor, now: number, ttlMs = LEASE_TTL_MS): Promise<Claim> {
  const run = await store.getRun(runId);
  if (run === undefined) return { won: false, why: `no run ${runId}` };
  const owner = ownerOf(me);
  const held = run.lease;
  const replacing = held !== undefined && held.owner !== owner && leaseLiveness(held, now) === "dead" ? held.owner : undefined;
  const result = await store.acquireLease(runId, { owner, until: now + ttlMs, now, replacing });
  if (result.acquired) return { won: true, fence: result.fence, replaced: replacing };
  return { won: false, why: describeHolder(runId, result.holder, now) };
}

export function describeHolder(runId: string, holder: Lease | undefined, now: number): string {
  if (holder === undefined) return `run ${runId} could not be claimed`;
  const who = parseOwner(holder.owner);
  const where = who === undefined ? holder.owner : `process ${who.pid} on ${who.host}`;
  const left = Math.max(0, Math.round((holder.until - now) / 1000));
  return `run ${runId} is already driven by ${where} (its lease runs ${left} s more unless renewed)`;
}

/**
 * Renews a held lease every third of its time. A renewal that finds the lease taken, or a write the journal
 * refused under the lease's fence (`lose`), means another supervisor drives the run now: `onLost` is called
 * once and this one must stop writing. `release` gives it up.
 */
export class LeaseKeeper {
  readonly #timer: NodeJS.Timeout;
  #lost = false;
  #busy = false;
  readonly #logger: Logger;
  readonly #onLost: () => void;

  constructor(
    private readonly store: Store,
    private readonly runId: string,
    private readonly owner: string,
    options: { ttlMs?: number; now: () => number; logger: Logger; onLost(): void },
  ) {
    const ttlMs = options.ttlMs ?? LEASE_TTL_MS;
    this.#logger = options.logger;
    this.#onLost = options.onLost;
    this.#timer = setInterval(() => {
      if (this.#busy || this.#lost) return;
      this.#busy = true;
      store
        .renewLease(runId, owner, options.now() + ttlMs)
        .then((held) => {
          if (!held) this.lose("a renewal found the lease taken");
        })
        // A journal that cannot be written for a moment is not a lost lease; the next tick tries again.
        .catch((error: unknown) => options.logger.warn("could not renew the lease", { error: String(error) }))
        .finally(() => {
          this.#busy = false;
        });
    }, Math.max(50, Math.floor(ttlMs / 3)));
    this.#timer.unref();
  }

  get lost(): boolean {
    return this.#lost;
  }

  /** Another supervisor drives the run now (a renewal found the lease taken, or a fenced write was refused). */
  lose(why: string): void {
    if (this.#lost) return;
    this.#lost = true;
    this.#logger.warn("lease lost: another supervisor drives this run now", { runId: this.runId, why });
    this.#onLost();
  }

  async release(): Promise<void> {
    clearInterval(this.#timer);
    if (!this.#lost) await this.store.releaseLease(this.runId, this.owner);
  }
}
