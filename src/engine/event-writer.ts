// Batches journal events: agent output is buffered and written many rows per transaction, while state
// changes are written at once, after everything buffered before them, so the journal keeps their order.
// The window is short (10 ms): a line reaches `orch logs -f` and the dashboard at once, and a burst of output
// still fills whole batches (a batch also goes as soon as 2,000 lines wait).
// Under a lease fence, a write the store refuses (another supervisor took the run over) ends all writing.
import type { NewEvent, StoredEvent } from "../core/journal.js";
import { toError } from "../core/errors.js";
import type { StopMode } from "../core/run.js";
import { StaleWriterError, StopRequestedError, type WriteFence } from "../store/errors.js";
import type { Store } from "../store/store.js";

export interface EventWriterOptions {
  /** Buffered events that trigger a write without waiting for the timer. */
  maxBatch?: number;
  /** Longest time a buffered event waits (default 10 ms). */
  flushMs?: number;
  /** Every write is checked against the run's lease fence (the supervisor's claim) in its transaction. */
  fence?: WriteFence;
  /** Called once when the store refuses a write because the fence moved on: the lease is lost. */
  onStale?: (error: StaleWriterError) => void;
  /** Shown every state change once it is in the journal (not buffered output): the supervisor's notices. Must not throw. */
  onWritten?: (events: readonly StoredEvent[]) => void;
}

/** What writes a loop's events: the journal's batching writer, or one that also folds what goes through it. */
export interface JournalWriter {
  /** Buffers an event (agent output); it reaches the journal within a few milliseconds. */
  push(event: NewEvent): void;
  /** Writes the buffer, then these events, and resolves when they are in the journal. */
  write(...events: NewEvent[]): Promise<StoredEvent[]>;
  /**
   * Writes the buffer, then these events unless the run has a stop, pause or abort request by then (checked in the
   * write's transaction); returns the request when it wrote nothing.
   */
  writeUnlessStopped(...events: NewEvent[]): Promise<StopMode | undefined>;
  flush(): Promise<void>;
}

export class EventWriter implements JournalWriter {
  private buffer: NewEvent[] = [];
  private chain: Promise<unknown> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private failure: Error | undefined;
  private readonly maxBatch: number;
  private readonly flushMs: number;
  private readonly fence: WriteFence | undefined;
  private readonly onStale: ((error: StaleWriterError) => void) | undefined;
  private readonly onWritten: ((events: readonly StoredEvent[]) => void) | undefined;
  private written = 0;

  constructor(
    private readonly store: Store,
    options: EventWriterOptions = {},
  ) {
    this.maxBatch = options.maxBatch ?? 2_000;
    this.flushMs = options.flushMs ?? 10;
    this.fence = options.fence;
    this.onStale = options.onStale;
    this.onWritten = options.onWritten;
  }

  /** Buffers an event; it is written within `flushMs` or as soon as a batch fills. */
  push(event: NewEvent): void {
    this.buffer.push(event);
    if (this.buffer.length >= this.maxBatch) this.enqueueFlush();
    else this.timer ??= setTimeout(() => this.enqueueFlush(), this.flushMs);
  }

  /** Writes the buffer, then these events, and resolves when they are in the journal. */
  async write(...events: NewEvent[]): Promise<StoredEvent[]> {
    this.enqueueFlush();
    const result = this.enqueue(events);
    const stored = await result;
    return stored;
  }

  async writeUnlessStopped(...events: NewEvent[]): Promise<StopMode | undefined> {
    this.enqueueFlush();
    try {
      await this.enqueue(events, true, true);
      return undefined;
    } catch (error) {
      if (error instanceof StopRequestedError) return error.mode;
      throw error;
    }
  }

  async flush(): Promise<void> {
    this.enqueueFlush();
    await this.chain;
    this.throwIfFailed();
  }

  /** Events written so far. */
  get count(): number {
    return this.written;
  }

  /** Events waiting in memory. */
  get pending(): number {
    return this.buffer.length;
  }

  private enqueueFlush(): void {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.buffer.length === 0) return;
    const batch = this.buffer;
    this.buffer = [];
    void this.enqueue(batch, false).catch(() => undefined);
  }

  /** Buffered output is ingested (nothing handed back); state changes are appended and returned. */
  private enqueue(events: NewEvent[], returning = true, unlessStopRequested = false): Promise<StoredEvent[]> {
    const next = this.chain.then(async () => {
      this.throwIfFailed();
      try {
        const options = { fence: this.fence, unlessStopRequested };
        const stored = returning ? await this.store.append(events, options) : (await this.store.ingest(events, options), []);
        this.written += events.length;
        if (stored.length > 0) this.onWritten?.(stored);
        return stored;
      } catch (error) {
        // A write refused for a stop request wrote nothing and is no failure of the journal.
        if (error instanceof StopRequestedError) throw error;
        // A failed batch poisons the writer: later writes would journal a history with a hole in it.
        this.failure ??= toError(error);
        if (error instanceof StaleWriterError && this.failure === error) this.onStale?.(error);
        throw this.failure;
      }
    });
    this.chain = next.catch(() => undefined);
    return next;
  }

  private throwIfFailed(): void {
    if (this.failure !== undefined) throw this.failure;
  }
}
