// One follower of the whole journal for all of the server's live streams: it reads each new page once, makes its
// frames once (redacted and cut, server/wire.ts) and offers them to every subscriber. It holds no history: a
// subscriber that falls behind reads the journal itself or is told to refetch (server/sse.ts). Invariant: `head`
// is the last seq offered, and frames are offered in seq order, each journal row whole.
import type { Redactor } from "../core/redact.js";
import { toError } from "../core/errors.js";
import { followJournal } from "../read/feed.js";
import type { Store } from "../store/store.js";
import { framesOf, type Frame } from "./wire.js";

/** Events offered at once; between two offers the event loop runs (sockets drain). */
const OFFER_EVENTS = 256;

export type FrameListener = (frames: readonly Frame[]) => void;

export interface HubDeps {
  store: Store;
  redactor: Redactor;
  log: (message: string, error?: Error) => void;
  /** The longest wait without a change notice before reading anyway. */
  fallbackMs?: number;
}

export class JournalHub {
  readonly #deps: HubDeps;
  readonly #listeners = new Set<FrameListener>();
  readonly #abort = new AbortController();
  #head = 0;
  #loop: Promise<void> | undefined;

  constructor(deps: HubDeps) {
    this.#deps = deps;
  }

  /** The last seq offered to subscribers (the journal's newest when the hub started, at first). */
  get head(): number {
    return this.#head;
  }

  get subscribers(): number {
    return this.#listeners.size;
  }

  /** Starts following from the journal's newest event. */
  async start(): Promise<void> {
    const [newest] = await this.#deps.store.readEvents({ descending: true, limit: 1 });
    this.#head = newest?.seq ?? 0;
    this.#loop = this.#follow();
  }

  /** Calls `listener` with each new group of frames, in order, until the returned function is called. */
  subscribe(listener: FrameListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  async stop(): Promise<void> {
    this.#abort.abort();
    await this.#loop;
  }

  async #follow(): Promise<void> {
    const signal = this.#abort.signal;
    while (!signal.aborted) {
      try {
        for await (const page of followJournal({ store: this.#deps.store, query: {}, afterSeq: this.#head, done: async () => false, signal, fallbackMs: this.#deps.fallbackMs })) {
          // A page may hold tens of thousands of events (a burst of agent output): offered a slice at a time, with
          // the event loop let through in between, so that the sockets drain as they go and a client that reads is
          // not mistaken for one that does not.
          let start = 0;
          while (start < page.length) {
            let end = Math.min(page.length, start + OFFER_EVENTS);
            // Never a row split between two offers: the events of one seq go together.
            while (end < page.length && page[end]?.seq === page[end - 1]?.seq) end++;
            const slice = page.slice(start, end);
            this.#head = slice[slice.length - 1]?.seq ?? this.#head;
            if (this.#listeners.size > 0) {
              const frames = framesOf(slice, this.#deps.redactor);
              for (const listener of this.#listeners) listener(frames);
              if (end < page.length) await new Promise((resolve) => setImmediate(resolve));
            }
            start = end;
          }
        }
      } catch (thrown) {
        // The journal could not be read this time (busy, say): say so, and go on from where the hub stood.
        this.#deps.log("the live feed could not read the journal; retrying in a second", toError(thrown));
        await new Promise((resolve) => setTimeout(resolve, 1_000));
      }
    }
  }
}
