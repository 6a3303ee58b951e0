// The live journal over SSE, kept gap-free: the stream is opened first and buffered while the history after the
// last known seq is read in bounded pages; then the buffer is drained, skipping what the pages already held. A
// `refetch` notice (the server dropped us as too slow) closes the stream and does the same again; EventSource's own
// reconnects replay from Last-Event-ID on the server's side. Events of one packed row share a seq, so a row read
// by a page is skipped whole.
import { getJson } from "./client.js";
import { EventPage, JournalEvent, RefetchNotice } from "./schemas.js";

export interface LiveJournalOptions {
  /** The SSE endpoint. */
  stream: string;
  /** The events endpoint for the same events (`?after=` and `&limit=` are added); null: no history. */
  pages: string | null;
  /** History before this seq is not wanted. */
  afterSeq: number;
  /** Each event once, in seq order. */
  onEvents(events: JournalEvent[]): void;
  /** Whether the stream is connected now. */
  onLive(live: boolean): void;
  onError(error: unknown): void;
  pageSize?: number;
}

export interface LiveJournal {
  close(): void;
}

export function liveJournal(options: LiveJournalOptions): LiveJournal {
  // Every event up to `floor` has been delivered (whole rows, from pages); `liveSeq` is the last one the stream gave.
  let floor = options.afterSeq;
  let liveSeq = 0;
  let source: EventSource | null = null;
  let buffer: JournalEvent[] | null = null;
  let closed = false;

  const deliver = (events: JournalEvent[]): void => {
    const fresh = events.filter((e) => e.seq > floor);
    if (fresh.length > 0) options.onEvents(fresh);
  };

  const readPages = async (): Promise<void> => {
    if (options.pages === null) return;
    const sep = options.pages.includes("?") ? "&" : "?";
    for (;;) {
      const page = await getJson(`${options.pages}${sep}after=${floor}&limit=${options.pageSize ?? 2000}`, EventPage);
      if (closed) return;
      deliver(page.events);
      const last = page.events[page.events.length - 1];
      if (last !== undefined) floor = Math.max(floor, last.seq);
      if (!page.more || page.events.length === 0) return;
    }
  };

  const parse = (text: string): unknown => {
    try {
      return JSON.parse(text);
    } catch {
      return null;
    }
  };

  const open = (): void => {
    buffer = [];
    const es = new EventSource(options.stream, { withCredentials: true });
    source = es;
    es.addEventListener("open", () => options.onLive(true));
    es.addEventListener("error", () => options.onLive(es.readyState === EventSource.OPEN));
    es.addEventListener("journal", (message) => {
      const result = JournalEvent.safeParse(parse(message.data));
      if (!result.success) return;
      if (buffer !== null) buffer.push(result.data);
      else if (result.data.seq > floor) {
        liveSeq = result.data.seq;
        options.onEvents([result.data]);
      }
    });
    es.addEventListener("refetch", (message) => {
      const notice = RefetchNotice.safeParse(parse(message.data));
      es.close();
      options.onLive(false);
      floor = Math.max(floor, liveSeq, notice.success ? notice.data.afterSeq : 0);
      void sync();
    });
  };

  const sync = async (): Promise<void> => {
    if (closed) return;
    open();
    try {
      await readPages();
    } catch (error) {
      options.onError(error);
    }
    const pending = buffer ?? [];
    buffer = null;
    deliver(pending);
    const last = pending[pending.length - 1];
    if (last !== undefined) liveSeq = Math.max(liveSeq, last.seq);
  };

  void sync();
  return {
    close() {
      closed = true;
      source?.close();
    },
  };
}
