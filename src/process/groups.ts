// The live process groups orch has started, so that none outlives orch by accident. Invariant: a group is
// in the registry from its spawn until its supervisor has seen every member gone (or given up and killed it).
import { listProcesses } from "./tree.js";

/**
 * Sends `signal` to every member of process group `pgid`. Returns false when there was no such group
 * (already gone) or it is not ours to signal; those are outcomes, not errors, for a caller tidying up.
 */
export function signalGroup(pgid: number, signal: NodeJS.Signals | 0): boolean {
  if (!Number.isInteger(pgid) || pgid <= 1) throw new RangeError(`not a process group id: ${pgid}`);
  try {
    process.kill(-pgid, signal);
    return true;
  } catch (error) {
    const code = error instanceof Error && "code" in error ? error.code : undefined;
    if (code === "ESRCH" || code === "EPERM") return false;
    throw error;
  }
}

/**
 * Whether any member of group `pgid` is still running. Zombies do not count: they hold nothing, cannot be
 * killed, and where PID 1 does not reap orphans they would otherwise look alive forever.
 */
export async function groupIsAlive(pgid: number): Promise<boolean> {
  if (!signalGroup(pgid, 0)) return false;
  const all = await listProcesses();
  // Without /proc the kill(0) probe above is all there is to go on.
  if (all.length === 0) return true;
  return all.some((stat) => stat.pgrp === pgid && stat.state !== "Z");
}

export class ProcessGroups {
  readonly #groups = new Set<number>();

  add(pgid: number): void {
    // Signalling -0 or -1 would reach our own group or every process we may signal.
    if (!Number.isInteger(pgid) || pgid <= 1) throw new RangeError(`not a process group id: ${pgid}`);
    this.#groups.add(pgid);
  }

  delete(pgid: number): void {
    this.#groups.delete(pgid);
  }

  has(pgid: number): boolean {
    return this.#groups.has(pgid);
  }

  get size(): number {
    return this.#groups.size;
  }

  list(): number[] {
    return [...this.#groups];
  }

  /** Signals every registered group; their supervisors notice the exits and deregister them. */
  killAll(signal: NodeJS.Signals = "SIGTERM"): void {
    for (const pgid of this.#groups) signalGroup(pgid, signal);
  }

  /**
   * On process exit, SIGKILLs every group still registered. Only synchronous work runs in an exit
   * handler, which is why this kills outright instead of SIGTERM and a grace period.
   * Returns a function that removes the handler.
   */
  installExitHandler(): () => void {
    const onExit = (): void => {
      for (const pgid of this.#groups) {
        try {
          signalGroup(pgid, "SIGKILL");
        } catch {
          // Exiting anyway: one group we cannot signal must not keep the others alive.
        }
      }
    };
    process.on("exit", onExit);
    return () => {
      process.off("exit", onExit);
    };
  }
}
