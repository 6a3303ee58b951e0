// Following the journal live: the events of a query from a sequence number on, page by page, waking when the
// journal changes (the store says so, for this process and, with SQLite, for any other) rather than on a fixed
// poll. A slow timer stays underneath, so a follower never hangs on a change notice that did not come.
import type { StoredEvent } from "../core/journal.js";
import type { EventQuery, JournalReader } from "../store/store.js";
import { readTranscriptPage } from "./transcript.js";

export interface FollowOptions {
  store: JournalReader;
  query: EventQuery;
  /** Events after this sequence number are followed (0: from the start). */
  afterSeq: number;
  /** Whether the follow is over (the run ended, say); checked before each read, so the last events are still read. */
  done(): Promise<boolean>;
  signal?: AbortSignal | undefined;
  /** The longest wait without a change notice before reading anyway. */
  fallbackMs?: number;
}

/** Yields each page of new events as it is written, until `done()` holds and nothing new is left, or the signal aborts. */
export async function* followJournal(options: FollowOptions): AsyncGenerator<StoredEvent[], void, undefined> {
  const { store, query, signal } = options;
  const fallbackMs = options.fallbackMs ?? 1_000;
  let changed = true;
  let wake: (() => void) | undefined;
  const notice = () => {
    changed = true;
    wake?.();
  };
  const stopWatching = store.onChange(notice);
  signal?.addEventListener("abort", notice);
  let afterSeq = options.afterSeq;
  try {
    for (;;) {
      if (signal?.aborted === true) return;
      changed = false;
      const finished = await options.done();
      for (;;) {
        const page = await readTranscriptPage(store, query, afterSeq);
        afterSeq = page.nextSeq;
        if (page.events.length > 0) yield page.events;
        if (!page.more) break;
      }
      if (finished) return;
      if (!changed) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, fallbackMs);
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        wake = undefined;
      }
    }
  } finally {
    stopWatching();
    signal?.removeEventListener("abort", notice);
  }
}
