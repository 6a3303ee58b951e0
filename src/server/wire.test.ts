import { describe, expect, it } from "vitest";
import { messageOf, rowBatches, type Frame } from "./wire.js";

const frame = (seq: number, n: number, end: boolean): Frame => {
  const json = JSON.stringify({ seq, n });
  return { seq, runId: "r1", json, text: `${end ? `id: ${seq}\n` : ""}event: journal\ndata: ${json}\n\n`, end };
};

/** The messages of an SSE text: each one's id (or none) and its data, parsed. */
function messages(text: string): { id: string | undefined; data: unknown }[] {
  return text
    .split("\n\n")
    .filter((m) => m !== "")
    .map((m) => {
      const lines = m.split("\n");
      const id = lines.find((l) => l.startsWith("id: "))?.slice(4);
      return { id, data: JSON.parse(lines.find((l) => l.startsWith("data: "))?.slice(6) ?? "null") as unknown };
    });
}

describe("the SSE text of frames written at once", () => {
  it("is one message for whole rows: the array of their events, with the last row's seq as its id", () => {
    const text = messageOf([frame(7, 0, false), frame(7, 1, true), frame(8, 0, true)]);
    expect(messages(text)).toEqual([{ id: "8", data: [{ seq: 7, n: 0 }, { seq: 7, n: 1 }, { seq: 8, n: 0 }] }]);
  });

  it("keeps a single event a message of its own, its data the event", () => {
    expect(messageOf([frame(9, 0, true)])).toBe(frame(9, 0, true).text);
  });

  it("sends what follows the last row's end without an id, so a reconnect never resumes inside a row", () => {
    const text = messageOf([frame(7, 0, true), frame(8, 0, true), frame(9, 0, false)]);
    expect(messages(text)).toEqual([
      { id: "8", data: [{ seq: 7, n: 0 }, { seq: 8, n: 0 }] },
      { id: undefined, data: { seq: 9, n: 0 } },
    ]);
    expect(messageOf([frame(9, 0, false), frame(9, 1, false)])).toBe(frame(9, 0, false).text + frame(9, 1, false).text);
  });
});

describe("frames cut into batches of whole rows", () => {
  const seqs = (batches: Frame[][]) => batches.map((b) => b.map((f) => `${f.seq}.${f.end ? "end" : "part"}`));

  it("ends a batch only at a row's end, once it holds about the bound", () => {
    const size = frame(1, 0, true).text.length;
    const frames = [frame(1, 0, true), frame(2, 0, false), frame(2, 1, true), frame(3, 0, true), frame(4, 0, true)];
    expect(seqs(rowBatches(frames, size * 2))).toEqual([["1.end", "2.part", "2.end"], ["3.end", "4.end"]]);
    // Every message of a batch carries whole rows: the id of the last row comes after its data.
    for (const batch of rowBatches(frames, size * 2)) expect(messages(messageOf(batch)).at(-1)?.id).toBe(String(batch.at(-1)?.seq));
  });

  it("keeps a row larger than the bound whole, and everything when the bound is never reached", () => {
    const frames = [frame(5, 0, false), frame(5, 1, false), frame(5, 2, true), frame(6, 0, true)];
    expect(seqs(rowBatches(frames, 1))).toEqual([["5.part", "5.part", "5.end"], ["6.end"]]);
    expect(seqs(rowBatches(frames, 1e9))).toEqual([["5.part", "5.part", "5.end", "6.end"]]);
    expect(rowBatches([], 10)).toEqual([]);
  });
});
