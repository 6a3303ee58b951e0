// The live journal over SSE, kept gap-free: the history after the last known seq is read in bounded pages, then
// the stream is opened with `?after=` that seq, so the server replays what came since and goes live without a gap
// (its cursor says every event up to it was sent). Only the last event of a journal row carries the SSE `id`, so
// EventSource's own reconnects (with Last-Event-ID) resume at a row's end. A `refetch` notice (the server dropped
// us as too slow) closes the stream and does the same again from the last whole row.
import { getJson } from "./client.js";
import { EventPage, readJournalEvent, RefetchNotice, type JournalEvent } from "./schemas.js";

export interface LiveJournalOptions {
  /** The SSE endpoint. */
  stream: string;
  /** The events endpoint for the same events (`after` and `limit` are added); null: no history, live from now. */
  pages: string | null;
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
  // Every event up to `floor` has been delivered (whole rows).
  let floor = 0;
  let source: EventSource | null = null;
  let closed = false;

  const readPages = async (): Promise<void> => {
    if (options.pages === null) return;
    const sep = options.pages.includes("?") ? "&" : "?";
    for (;;) {
      const page = await getJson(`${options.pages}${sep}after=${floor}&limit=${options.pageSize ?? 5000}`, EventPage);
      if (closed) return;
      const fresh = page.events.filter((e) => e.seq > floor);
      if (fresh.length > 0) options.onEvents(fresh);
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
    const sep = options.stream.includes("?") ? "&" : "?";
    const es = new EventSource(options.pages === null ? options.stream : `${options.stream}${sep}after=${floor}`, { withCredentials: true });
    source = es;
    es.addEventListener("open", () => options.onLive(true));
    es.addEventListener("error", () => options.onLive(es.readyState === EventSource.OPEN));
    es.addEventListener("journal", (message) => {
      // One event a message, or several (an array): the browser's cost is per message, so a server may batch.
      const parsed = parse(message.data);
      const events = (Array.isArray(parsed) ? parsed : [parsed]).map(readJournalEvent).filter((e): e is JournalEvent => e !== null && e.seq > floor);
      const last = events[events.length - 1];
      if (last === undefined) return;
      options.onEvents(events);
      // A row's last event carries the id: every row up to it is whole now.
      const id = Number(message.lastEventId);
      if (Number.isFinite(id) && id >= last.seq) floor = id;
    });
    es.addEventListener("refetch", (message) => {
      const notice = RefetchNotice.safeParse(parse(message.data));
      es.close();
      options.onLive(false);
      if (notice.success) floor = Math.max(floor, notice.data.afterSeq);
      void sync();
    });
  };

  const sync = async (): Promise<void> => {
    try {
      await readPages();
    } catch (error) {
      options.onError(error);
    }
    if (!closed) open();
  };

  void sync();
  return {
    close() {
      closed = true;
      source?.close();
    },
  };
}
