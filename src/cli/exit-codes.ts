// The exit codes of the CLI contract (DESIGN.md): the one place that maps outcomes to numbers.
import type { RunStatus } from "../core/run.js";

/** `journal`: the journal (.orch/orch.db) is damaged or cannot be opened; nothing was done. */
export const EXIT = { ok: 0, notConverged: 1, usage: 2, waiting: 3, journal: 4, interrupted: 130 } as const;

export function exitCodeForRun(status: RunStatus, interrupted = false): number {
  if (interrupted) return EXIT.interrupted;
  switch (status) {
    case "succeeded":
      return EXIT.ok;
    case "waiting":
      return EXIT.waiting;
    case "pending":
    case "planning":
    case "running":
      return EXIT.ok;
    // Stopped short with its state kept: `orch resume` continues it.
    case "paused":
      return EXIT.interrupted;
    case "failed":
    case "stalled":
    case "stopped":
    case "aborted":
      return EXIT.notConverged;
  }
}
