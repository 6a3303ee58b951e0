import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { FAKE_ENV, FAKE_SHAPES, fakePem } from "../../test/support/fake-secrets.js";
import { createRedactor } from "../core/redact.js";
import { LineSplitter } from "../process/line-splitter.js";
import { RedactedStdout } from "./agent-stdout.js";

const redactor = createRedactor(FAKE_ENV);
const piece = fc.oneof(
  fc.constantFrom(...Object.values(FAKE_ENV), ` ${FAKE_SHAPES["github-pat"]} `, `\n${fakePem(3)}\n`, "\n", "\r\n", "héllo wörld ", "日本語 ", "🙂", '{"type":"text"}'),
  fc.string({ unit: "grapheme", maxLength: 8 }),
);

/** The lines a LineSplitter makes of `text` fed whole. */
function linesOf(text: string): string[] {
  const lines: string[] = [];
  const splitter = new LineSplitter((line) => lines.push(line));
  splitter.push(Buffer.from(text, "utf8"));
  splitter.flush();
  return lines;
}

describe("RedactedStdout", () => {
  it("never encodes half of a character beyond the BMP, where the stream holds back inside it", () => {
    // fast-check's counterexample (seed 986267727): the held-back window ended between the two halves of 𐀀.
    const secrets = ` ${FAKE_SHAPES["github-pat"]} ${FAKE_ENV.DATABASE_PASSWORD ?? ""}`;
    const text = `𐀀𐀀𐀀 {"type":"text"}${secrets}${secrets}`;
    const written: Buffer[] = [];
    const stdout = new RedactedStdout(redactor, (chunk) => written.push(chunk), () => undefined);
    stdout.push(Buffer.from(text, "utf8"));
    stdout.end();
    expect(Buffer.concat(written).toString("utf8")).toBe(redactor.redact(text));
    expect(Buffer.concat(written).toString("utf8")).not.toContain("\ufffd");
  });

  it("hands the transcript and the parser the redacted output, whatever bytes the chunks split", () => {
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 30 }), fc.array(fc.nat(), { maxLength: 20 }), (pieces, cuts) => {
        const bytes = Buffer.from(pieces.join(""), "utf8");
        const points = [...new Set(cuts.map((c) => (bytes.length === 0 ? 0 : c % bytes.length)))].sort((a, b) => a - b);
        const written: Buffer[] = [];
        const lines: string[] = [];
        const stdout = new RedactedStdout(redactor, (chunk) => written.push(chunk), (line) => lines.push(line));
        let start = 0;
        for (const point of [...points, bytes.length]) {
          stdout.push(bytes.subarray(start, point));
          start = point;
        }
        stdout.end();
        const expected = redactor.redact(bytes.toString("utf8"));
        expect(Buffer.concat(written).toString("utf8")).toBe(expected);
        expect(lines).toEqual(linesOf(expected));
        for (const secret of Object.values(FAKE_ENV)) expect(lines.join("\n")).not.toContain(secret);
      }),
      { numRuns: 300 },
    );
  });
});
