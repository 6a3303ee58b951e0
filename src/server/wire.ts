// Journal events as the server sends them: redacted once more (a journal written before redaction existed leaks
// nothing), and, on the live stream, small: every string longer than LIVE_TEXT_CHARS is cut with a marker, the
// whole text being one events page away. Invariant: nothing leaves the server as an event without passing here.
import type { StoredEvent } from "../core/journal.js";
import type { Redactor } from "../core/redact.js";

/** The longest string of a live event; the rest is fetched with the events page. */
export const LIVE_TEXT_CHARS = 2_048;

export interface WireEvent {
  seq: number;
  type: string;
  runId: string;
  taskId: string | null;
  attemptId: string | null;
  at: number;
  data: unknown;
}

/** An event as the API's pages give it: whole, redacted. */
export function wireEvent(event: StoredEvent, redactor: Redactor): WireEvent {
  return {
    seq: event.seq,
    type: event.type,
    runId: event.runId,
    taskId: event.taskId ?? null,
    attemptId: event.attemptId ?? null,
    at: event.at,
    data: redactor.redactDeep(event.data),
  };
}

/** An event as the live stream sends it: redacted, then each long string cut (after redaction, so no secret is cut in two and half shown). */
export function liveEvent(event: StoredEvent, redactor: Redactor): WireEvent {
  const whole = wireEvent(event, redactor);
  return { ...whole, data: cutStrings(whole.data) };
}

function cutStrings(value: unknown): unknown {
  if (typeof value === "string") {
    return value.length <= LIVE_TEXT_CHARS ? value : `${value.slice(0, LIVE_TEXT_CHARS)}… [cut: ${value.length - LIVE_TEXT_CHARS} more characters; the events page has the whole text]`;
  }
  if (Array.isArray(value)) return value.map(cutStrings);
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, cutStrings(inner)]));
  }
  return value;
}

/** One SSE frame: a group of events of one journal row shares a seq, and only its last carries the `id`, so a reconnect never resumes inside a row. */
export interface Frame {
  seq: number;
  runId: string;
  text: string;
  /** The last event of its seq: once it is written, every event up to `seq` has been. */
  end: boolean;
}

/** The frames of events in journal order, each group of one seq ending with its `id:`. */
export function framesOf(events: readonly StoredEvent[], redactor: Redactor): Frame[] {
  return events.map((event, i) => {
    const last = events[i + 1]?.seq !== event.seq;
    const data = JSON.stringify(liveEvent(event, redactor));
    return { seq: event.seq, runId: event.runId, text: `${last ? `id: ${event.seq}\n` : ""}event: journal\ndata: ${data}\n\n`, end: last };
  });
}
