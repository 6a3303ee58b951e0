// The typed failures of the journal port, the same for every backend: a write refused because its writer no
// longer holds the run's lease, and a journal that cannot be read or opened at all.

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
