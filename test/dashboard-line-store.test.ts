// The transcript's line store (web/transcript/line-store.ts) against a plain array of lines: the same lines back,
// the same search answers forwards and backwards (wrapping, case aside, never across a line's end), and a bounded
// number of characters kept, dropping the oldest chunks first.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { CHUNK, LINE_CHARS, LineStore } from "../web/transcript/line-store.js";

/** What `find` must answer, by brute force: the lines after `from` then from the first on (backwards: before it,
 * then from the last back), the first whose text holds the query, case aside. */
function naiveFind(lines: readonly string[], query: string, from: number, backwards: boolean): number {
  const needle = query.toLowerCase();
  const n = lines.length;
  const start = Math.min(Math.max(from, -1), n);
  const order: number[] = [];
  if (backwards) {
    for (let i = start - 1; i >= 0; i -= 1) order.push(i);
    for (let i = n - 1; i >= start && i >= 0; i -= 1) order.push(i);
  } else {
    for (let i = start + 1; i < n; i += 1) order.push(i);
    for (let i = 0; i <= start && i < n; i += 1) order.push(i);
  }
  return order.find((i) => (lines[i] ?? "").toLowerCase().includes(needle)) ?? -1;
}

describe("LineStore", () => {
  it("gives back what was pushed, capped, with seq, kind and source", () => {
    const store = new LineStore();
    const long = "x".repeat(LINE_CHARS + 50);
    for (let i = 0; i < CHUNK * 2 + 5; i += 1) store.push(i * 3, i % 11, `task-${i % 3}`, i === 7 ? long : `line ${i}`);
    expect(store.total).toBe(CHUNK * 2 + 5);
    expect(store.line(0)).toEqual({ index: 0, seq: 0, kind: 0, source: "task-0", text: "line 0" });
    expect(store.line(CHUNK + 1)).toEqual({ index: CHUNK + 1, seq: (CHUNK + 1) * 3, kind: (CHUNK + 1) % 11, source: `task-${(CHUNK + 1) % 3}`, text: `line ${CHUNK + 1}` });
    expect(store.line(7)?.text).toBe(`${"x".repeat(LINE_CHARS - 1)}…`);
    expect(store.line(CHUNK * 2 + 5)).toBeUndefined();
    expect(store.line(-1)).toBeUndefined();
    expect(store.lastSeq).toBe((CHUNK * 2 + 4) * 3);
  });

  it("searches like a scan of every line, forwards and backwards, wrapping", () => {
    fc.assert(
      fc.property(
        fc.array(fc.stringMatching(/^[abAB ]{0,6}$/), { minLength: 0, maxLength: 3 * CHUNK }),
        fc.stringMatching(/^[abAB]{1,3}$/),
        fc.integer({ min: -2, max: 3 * CHUNK + 2 }),
        fc.boolean(),
        (lines, query, from, backwards) => {
          const store = new LineStore();
          lines.forEach((line, i) => store.push(i, 0, "", line));
          expect(store.find(query, from, backwards)).toBe(naiveFind(lines, query, from, backwards));
        },
      ),
      { numRuns: 200 },
    );
  });

  it("never matches across the end of a line", () => {
    const store = new LineStore();
    store.push(1, 0, "", "ab");
    store.push(2, 0, "", "cd");
    expect(store.find("bc", -1)).toBe(-1);
    expect(store.find("CD", -1)).toBe(1);
  });

  it("keeps its characters under the budget by dropping the oldest chunks", () => {
    const budget = 50_000;
    const store = new LineStore(budget);
    for (let i = 0; i < 20_000; i += 1) store.push(i, 0, "", `line ${String(i).padStart(6, "0")}`);
    // Each line is 11 characters and a separator: only about budget / 12 lines stay, in whole chunks.
    expect(store.kept * 12).toBeLessThanOrEqual(budget);
    expect(store.kept).toBeGreaterThan(budget / 12 - CHUNK);
    expect(store.dropped % CHUNK).toBe(0);
    expect(store.total).toBe(20_000);
    expect(store.line(store.dropped - 1)).toBeUndefined();
    expect(store.line(store.dropped)?.text).toBe(`line ${String(store.dropped).padStart(6, "0")}`);
    expect(store.find("line 000000", 19_999)).toBe(-1);
    expect(store.find("line 019999", store.dropped)).toBe(19_999);
  });
});
