import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { LineSplitter } from "./line-splitter.js";

function split(chunks: Uint8Array[], maxLineBytes?: number): string[] {
  const lines: string[] = [];
  const splitter = new LineSplitter((line) => lines.push(line), { maxLineBytes });
  for (const chunk of chunks) splitter.push(chunk);
  splitter.flush();
  return lines;
}

/** Cuts `bytes` at the given offsets (any order, duplicates allowed). */
function cut(bytes: Uint8Array, offsets: number[]): Uint8Array[] {
  const points = [...new Set(offsets.map((offset) => offset % (bytes.length + 1)))].sort((a, b) => a - b);
  const chunks: Uint8Array[] = [];
  let from = 0;
  for (const point of [...points, bytes.length]) {
    chunks.push(bytes.subarray(from, point));
    from = point;
  }
  return chunks;
}

/** What splitting the whole text at once means, written the obvious way. */
function reference(text: string): string[] {
  const lines = text.split("\n");
  if (lines.at(-1) === "") lines.pop();
  return lines.map((line) => (line.endsWith("\r") ? line.slice(0, -1) : line));
}

const utf8 = (text: string): Buffer => Buffer.from(text, "utf8");

describe("LineSplitter", () => {
  it("emits complete lines and carries a partial line across chunks", () => {
    expect(split([utf8("hel"), utf8("lo\nwor"), utf8("ld\nlast")])).toEqual(["hello", "world", "last"]);
  });

  it("strips a trailing carriage return but keeps one inside a line", () => {
    expect(split([utf8("a\r\nb\rc\r"), utf8("\n")])).toEqual(["a", "b\rc"]);
  });

  it("keeps empty lines and emits nothing for an empty stream", () => {
    expect(split([utf8("\n\nx\n")])).toEqual(["", "", "x"]);
    expect(split([])).toEqual([]);
    expect(split([utf8("")])).toEqual([]);
  });

  it("decodes a multi-byte character split across chunks", () => {
    const bytes = utf8("é🎉\n");
    expect(split([bytes.subarray(0, 1), bytes.subarray(1, 3), bytes.subarray(3, 4), bytes.subarray(4)])).toEqual([
      "é🎉",
    ]);
  });

  it("emits a line longer than the limit in pieces", () => {
    expect(split([utf8("abcdefghij\nxy\n")], 4)).toEqual(["abcd", "efgh", "ij", "xy"]);
    expect(split([utf8("abcdefgh\n")], 4)).toEqual(["abcd", "efgh"]);
  });

  it("does not cut a character when a piece boundary falls inside it", () => {
    // "aé" is 3 bytes; a 2-byte cut lands inside "é", which goes whole into the next piece.
    expect(split([utf8("aébc\n")], 2)).toEqual(["a", "éb", "c"]);
  });

  it("drops the carriage return of a long line without emitting an empty piece", () => {
    expect(split([utf8("abc\r\n")], 3)).toEqual(["abc"]);
  });

  it("never holds more than the limit of a line that does not end", () => {
    let longest = 0;
    const splitter = new LineSplitter((line) => (longest = Math.max(longest, Buffer.byteLength(line))), {
      maxLineBytes: 1000,
    });
    for (let i = 0; i < 1000; i++) splitter.push(utf8("y".repeat(333)));
    splitter.flush();
    expect(longest).toBe(1000);
  });

  it("rejects a limit that is not a positive integer", () => {
    expect(() => new LineSplitter(() => {}, { maxLineBytes: 0 })).toThrow(RangeError);
  });

  it("yields the same lines for any chunking of any text", () => {
    const text = fc.string({ unit: fc.constantFrom("a", "é", "☕", "🎉", "\n", "\r", "\r\n", "z"), maxLength: 60 });
    fc.assert(
      fc.property(text, fc.array(fc.nat(), { maxLength: 12 }), (value, offsets) => {
        const bytes = utf8(value);
        const lines = split(cut(bytes, offsets));
        expect(lines).toEqual(split([bytes]));
        expect(lines).toEqual(reference(value));
      }),
    );
  });

  it("yields the same pieces for any chunking when lines are cut at the limit", () => {
    fc.assert(
      fc.property(
        fc.string({ unit: "grapheme", maxLength: 80 }),
        fc.array(fc.nat(), { maxLength: 12 }),
        fc.integer({ min: 4, max: 16 }),
        (value, offsets, max) => {
          const bytes = utf8(value);
          expect(split(cut(bytes, offsets), max)).toEqual(split([bytes], max));
        },
      ),
    );
  });

  it("yields the same text for arbitrary bytes, valid UTF-8 or not", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 80 }), fc.array(fc.nat(), { maxLength: 12 }), (bytes, offsets) => {
        expect(split(cut(bytes, offsets))).toEqual(split([bytes]));
      }),
    );
  });
});
