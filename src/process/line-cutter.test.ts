import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { LineCutter, cutMarker } from "./line-cutter.js";

/** Everything the cutter passes on for `chunks`, as text. */
function cut(chunks: readonly (string | Buffer)[], max: number): string {
  const out: Buffer[] = [];
  const cutter = new LineCutter((bytes) => out.push(Buffer.from(bytes)), max);
  for (const chunk of chunks) cutter.push(typeof chunk === "string" ? Buffer.from(chunk) : chunk);
  cutter.end();
  return Buffer.concat(out).toString("utf8");
}

/** What the cutter should make of the whole text: each line over `max` bytes cut (at a character) and marked. */
function expected(text: string, max: number): string {
  return text
    .split("\n")
    .map((line) => {
      const bytes = Buffer.from(line);
      if (bytes.length <= max) return line;
      let keep = max;
      while (keep > 0 && ((bytes[keep] ?? 0) & 0xc0) === 0x80) keep -= 1;
      return bytes.subarray(0, keep).toString("utf8") + cutMarker(keep, bytes.length - keep);
    })
    .join("\n");
}

describe("LineCutter", () => {
  it("passes lines within the bound byte for byte, and cuts a longer one with a marker saying what was dropped", () => {
    expect(cut(["short\nlines\n"], 8)).toBe("short\nlines\n");
    expect(cut(["0123456789abcdef\nnext\n"], 8)).toBe(`01234567${cutMarker(8, 8)}\nnext\n`);
  });

  it("cuts a line that never ends: 20 MB without a newline leaves the bound and the marker", () => {
    const mb = Buffer.alloc(1024 * 1024, "x");
    const out: Buffer[] = [];
    const cutter = new LineCutter((bytes) => out.push(bytes), 1024 * 1024);
    cutter.push(Buffer.from("before\n"));
    for (let i = 0; i < 20; i++) cutter.push(mb);
    cutter.end();
    const text = Buffer.concat(out).toString("utf8");
    expect(text.length).toBeLessThan(1024 * 1024 + 100);
    expect(text.endsWith(cutMarker(1024 * 1024, 19 * 1024 * 1024))).toBe(true);
    expect(text.startsWith("before\nxxx")).toBe(true);
  });

  it("never splits a character: a cut inside one goes before it", () => {
    expect(cut(["aé🙂b\n"], 4)).toBe(`aé${cutMarker(3, 5)}\n`);
    expect(cut(["🙂🙂\n"], 5)).toBe(`🙂${cutMarker(4, 4)}\n`);
  });

  it("however the stream is chunked, the same output (at character boundaries)", () => {
    const piece = fc.constantFrom("a", "bc", "é", "🙂", "\n", "xxxxxxxx", "\n\n");
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 60 }), fc.array(fc.integer({ min: 0, max: 60 }), { maxLength: 8 }), fc.integer({ min: 1, max: 12 }), (pieces, cuts, max) => {
        const text = pieces.join("");
        // Chunks of whole pieces (whole characters), split where `cuts` say.
        const chunks: string[] = [];
        let from = 0;
        for (const at of [...new Set(cuts)].sort((a, b) => a - b)) {
          if (at <= from || at >= pieces.length) continue;
          chunks.push(pieces.slice(from, at).join(""));
          from = at;
        }
        chunks.push(pieces.slice(from).join(""));
        expect(cut(chunks, max)).toBe(expected(text, max));
      }),
    );
  });
});
