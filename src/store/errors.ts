// The typed failures of the journal port, the same for every backend: a write refused because its writer no
// longer holds the run's lease, and a journal that cannot be read or opened at all.
import type { StopMode } from "../core/run.js";

/** Whose writes a store takes: only a writer whose fence is still the run's current lease fence. */
export interface WriteFence {
  runId: string;
  /** The fence the writer's lease claim returned (`acquireLease`). */
  fence: number;
}

/**
 * An append refused inside its transaction because the run's lease fence moved on (another supervisor took the
 * run over) or the run is gone: nothing of the batch was written, and the writer must stop writing.
 */
export class StaleWriterError extends Error {
  override readonly name = "StaleWriterError";
  readonly runId: string;
  /** The fence the writer presented. */
  readonly fence: number;
  /** The run's fence now; undefined when the run is not in the journal. */
  readonly current: number | undefined;

  constructor(fence: WriteFence, current: number | undefined) {
    super(
      current === undefined
        ? `run ${fence.runId} is not in the journal; a write under lease fence ${fence.fence} was refused`
        : `run ${fence.runId} was taken over (lease fence ${current}, this writer holds ${fence.fence}); its write was refused`,
    );
    this.runId = fence.runId;
    this.fence = fence.fence;
    this.current = current;
  }
}

/** An append refused inside its transaction because the run has a stop, pause or abort request: nothing was written. */
export class StopRequestedError extends Error {
  override readonly name = "StopRequestedError";
  constructor(
    readonly runId: string,
    readonly mode: StopMode,
  ) {
    super(`run ${runId} has a ${mode} request; the write was refused`);
  }
}

/**
 * "damaged": the file is there but is not a sound journal (corrupt pages, a truncated file, a header that is
 * not SQLite's); "inaccessible": it cannot be opened or written at all (its directory is a file, no access,
 * an I/O error).
 */
export type JournalProblem = "damaged" | "inaccessible";

/** The journal cannot be used: raised where the store opens or reads it, with the file and what was found. */
export class JournalDamagedError extends Error {
  override readonly name = "JournalDamagedError";
  readonly file: string;
  readonly problem: JournalProblem;
  /** What the database or the file system said, e.g. "database disk image is malformed". */
  readonly detail: string;

  constructor(file: string, problem: JournalProblem, detail: string, options: { cause?: unknown } = {}) {
    super(
      problem === "damaged" ? `the journal ${file} is damaged: ${detail}` : `the journal ${file} cannot be opened: ${detail}`,
      options.cause === undefined ? undefined : { cause: options.cause },
    );
    this.file = file;
    this.problem = problem;
    this.detail = detail;
  }
}
