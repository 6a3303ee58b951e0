// A transcript's lines from the journal: events become rows (transcript/format.ts) in a LineStore, and the full
// event behind a row is fetched again by its seq when the row is opened. Shared by the run's whole transcript and
// an attempt's own.
import { getJson, runPath } from "../api/client.js";
import { EventPage, type JournalEvent } from "../api/schemas.js";
import { eventDetail, eventRow } from "../transcript/format.js";
import { LineStore } from "../transcript/line-store.js";

/** `run.task.3` → `task#3`; the run's own events have no source. */
export function sourceOf(runId: string, event: JournalEvent): string {
  if (event.attemptId !== null && event.attemptId !== undefined) {
    const short = event.attemptId.startsWith(`${runId}.`) ? event.attemptId.slice(runId.length + 1) : event.attemptId;
    const dot = short.lastIndexOf(".");
    return dot > 0 ? `${short.slice(0, dot)}#${short.slice(dot + 1)}` : short;
  }
  return event.taskId ?? "";
}

export class TranscriptFeed {
  readonly store = new LineStore();
  readonly #listeners = new Set<() => void>();

  constructor(
    readonly runId: string,
    readonly attemptId: string | null,
  ) {}

  add(events: readonly JournalEvent[]): void {
    const before = this.store.version;
    for (const event of events) {
      if (this.attemptId !== null && event.attemptId !== this.attemptId) continue;
      const row = eventRow(event.type, event.data);
      if (row !== null) this.store.push(event.seq, row.kind, this.attemptId !== null ? "" : sourceOf(this.runId, event), row.text);
    }
    if (this.store.version !== before) for (const listener of this.#listeners) listener();
  }

  /** Calls `listener` after each change of the lines, until the returned function is called. */
  onChange(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** The whole text of the event behind line `index`, read back from the journal by its seq. */
  async detail(index: number): Promise<string> {
    const line = this.store.line(index);
    if (line === undefined) return "";
    // Packed output shares one seq among several lines: which of them is this one?
    let nth = 0;
    for (let i = index - 1; this.store.line(i)?.seq === line.seq; i -= 1) nth += 1;
    const filter = this.attemptId !== null ? `&attempt=${encodeURIComponent(this.attemptId)}` : "";
    const page = await getJson(`${runPath(this.runId)}/events?after=${line.seq - 1}&limit=1${filter}`, EventPage);
    const shown = page.events.filter((e) => e.seq === line.seq && eventRow(e.type, e.data) !== null);
    const event = shown[nth] ?? shown[0];
    if (event === undefined) return line.text;
    return `${event.type} · seq ${event.seq} · ${new Date(typeof event.at === "number" ? event.at : Date.parse(event.at)).toISOString()}${event.attemptId ? ` · ${event.attemptId}` : ""}\n\n${eventDetail(event.type, event.data)}`;
  }
}
