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
  /** The frame as a message of its own. */
  text: string;
  /** The event's JSON, for a message that carries several (`messageOf`). */
  json: string;
  /** The last event of its seq: once it is written, every event up to `seq` has been. */
  end: boolean;
}

/** The frames of events in journal order, each group of one seq ending with its `id:`. */
export function framesOf(events: readonly StoredEvent[], redactor: Redactor): Frame[] {
  return events.map((event, i) => {
    const last = events[i + 1]?.seq !== event.seq;
    const data = JSON.stringify(liveEvent(event, redactor));
    return { seq: event.seq, runId: event.runId, text: `${last ? `id: ${event.seq}\n` : ""}event: journal\ndata: ${data}\n\n`, json: data, end: last };
  });
}

/**
 * The SSE text of frames written at once: whole rows go as one message whose data is the array of their events and
 * whose `id` is the last row's seq (a browser spends a task on each message, so 8,000 events a second as 8,000
 * messages are more than a page keeps up with); frames after the last row's end, if any, go as before (no `id`).
 * One frame alone is a message of its own, its data the event itself.
 */
export function messageOf(frames: readonly Frame[]): string {
  let whole = frames.length;
  while (whole > 0 && frames[whole - 1]?.end !== true) whole -= 1;
  if (whole <= 1) return frames.map((f) => f.text).join("");
  const rows = frames.slice(0, whole);
  const id = rows[rows.length - 1]?.seq ?? 0;
  // The id after the data (a message's fields may come in any order): whatever its size, a reader of the stream's
  // tail finds the last id at its end.
  return `event: journal\ndata: [${rows.map((f) => f.json).join(",")}]\nid: ${id}\n\n${frames
    .slice(whole)
    .map((f) => f.text)
    .join("")}`;
}

/**
 * Where a batch of whole rows that starts at `from` ends (exclusive): after the first row's end at which it holds
 * `maxChars` or more, else at the end of `frames`. A row is never split: its events share a seq and only its last
 * carries the `id`, so a client dropped mid-row would be sent its first events twice. A single row larger than
 * `maxChars` is a batch of its own.
 */
export function batchEnd(frames: readonly Frame[], from: number, maxChars: number): number {
  let chars = 0;
  for (let i = from; i < frames.length; i++) {
    const frame = frames[i];
    if (frame === undefined) break;
    chars += frame.text.length;
    if (frame.end && chars >= maxChars) return i + 1;
  }
  return frames.length;
}

/** Frames cut into batches of whole rows of about `maxChars` each (`batchEnd`): a replay page's messages. */
export function rowBatches(frames: readonly Frame[], maxChars: number): Frame[][] {
  const batches: Frame[][] = [];
  for (let from = 0; from < frames.length; ) {
    const end = batchEnd(frames, from, maxChars);
    batches.push(frames.slice(from, end));
    from = end;
  }
  return batches;
}
