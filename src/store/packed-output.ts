// Agent output in the journal, packed: consecutive text lines (or consecutive unparsed lines) of one attempt that
// arrive in one batch are stored as one `agent.emitted` row, `{"type":"text","text":first,"more":[…]}`, and read
// back as the same events, one per line. A row costs ~200 bytes of ids, type, time and index entries before its
// text; one per line made the database ~2.7× the agent's output for short lines, packed it is ~1.2×.
// Invariants: reading gives the events that were written, in order, each line whole; a row holds at most
// `PACK_MAX_CHARS` of text (a page of rows stays as bounded as a page of single events was); only output is packed.
import { z } from "zod";
import type { NewEvent } from "../core/journal.js";
import type { AgentEvent } from "../core/agent-event.js";

/** Text (UTF-16 units) in one packed row: about one clipped event's worth (`EVENT_TEXT_LIMIT`). */
export const PACK_MAX_CHARS = 4_096;

/** The agent events packed: text lines, and lines no parser understood. */
type PackedKind = "text" | "unknown";

/** An event with the time it is written at. */
export interface TimedEvent {
  event: NewEvent;
  at: number;
}

/** One row: the event that names it (the first of those packed), its data as stored, and its time. */
export interface PackedRow {
  event: NewEvent;
  /** The event's own data as JSON, or the packed lines' when several events share the row. */
  data: string;
  at: number;
}

/** `events` as rows: each run of packable events of one attempt and kind, up to the size bound, shares a row. */
export function packOutput(events: readonly TimedEvent[]): PackedRow[] {
  const rows: PackedRow[] = [];
  let pack: { first: TimedEvent; kind: PackedKind; lines: string[]; chars: number } | undefined;
  const close = () => {
    if (pack === undefined) return;
    const { first, kind, lines } = pack;
    const [head, ...more] = lines;
    const data = more.length === 0 ? JSON.stringify(first.event.data) : JSON.stringify(kind === "text" ? { type: kind, text: head, more } : { type: kind, raw: head, more });
    rows.push({ event: first.event, data, at: first.at });
    pack = undefined;
  };
  for (const timed of events) {
    const { event } = timed;
    const found = packable(event);
    if (found === undefined) {
      close();
      rows.push({ event, data: JSON.stringify(event.data), at: timed.at });
      continue;
    }
    const { kind, line } = found;
    let current = pack;
    if (current === undefined || !fitsIn(current, event, kind, line)) {
      close();
      current = { first: timed, kind, lines: [], chars: 0 };
      pack = current;
    }
    current.lines.push(line);
    current.chars += line.length;
  }
  close();
  return rows;
}

/** Whether `line` of `kind` may join the row being packed: the same attempt and kind, and room for its text. */
function fitsIn(pack: { first: TimedEvent; kind: PackedKind; chars: number }, event: NewEvent, kind: PackedKind, line: string): boolean {
  const first = pack.first.event;
  return (
    pack.kind === kind &&
    first.runId === event.runId &&
    first.taskId === event.taskId &&
    first.attemptId === event.attemptId &&
    pack.chars + line.length <= PACK_MAX_CHARS
  );
}

/** The kind and line of a packable event (agent text, an unparsed line), or undefined. */
function packable(event: NewEvent): { kind: PackedKind; line: string } | undefined {
  if (event.type !== "agent.emitted") return undefined;
  if (event.data.type === "text") return { kind: "text", line: event.data.text };
  if (event.data.type === "unknown") return { kind: "unknown", line: event.data.raw };
  return undefined;
}

const Packed = z.discriminatedUnion("type", [
  z.object({ type: z.literal("text"), text: z.string(), more: z.array(z.string()) }),
  z.object({ type: z.literal("unknown"), raw: z.string(), more: z.array(z.string()) }),
]);

/**
 * The agent events a row's data holds: several for a packed row, else undefined (the row is one event, parsed as
 * any other). `data` is the row's parsed JSON.
 */
export function unpackOutput(type: string, data: unknown): AgentEvent[] | undefined {
  if (type !== "agent.emitted" || typeof data !== "object" || data === null || !("more" in data)) return undefined;
  const packed = Packed.safeParse(data);
  if (!packed.success) return undefined;
  const p = packed.data;
  return p.type === "text"
    ? [p.text, ...p.more].map((text): AgentEvent => ({ type: "text", text }))
    : [p.raw, ...p.more].map((raw): AgentEvent => ({ type: "unknown", raw }));
}
