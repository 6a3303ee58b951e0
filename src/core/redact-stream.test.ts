import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { FAKE_ENV, FAKE_SHAPES, fakePem } from "../../test/support/fake-secrets.js";
import { createRedactor } from "./redact.js";
import { RedactingStream } from "./redact-stream.js";

const redactor = createRedactor(FAKE_ENV);

/** Each secret as it stands in text, and the part of it that must never come out. */
const PLANTED: readonly { text: string; secret: string }[] = [
  ...Object.values(FAKE_ENV).map((secret) => ({ text: secret, secret })),
  ...(["anthropic-key", "openai-key", "openai-legacy-key", "google-api-key", "github-token", "github-pat", "slack-token", "aws-access-key-id"] as const).map(
    (label) => ({ text: ` ${FAKE_SHAPES[label]} `, secret: FAKE_SHAPES[label] }),
  ),
  { text: ` aws_secret_access_key=${FAKE_SHAPES["aws-secret-key"]} `, secret: FAKE_SHAPES["aws-secret-key"] },
  { text: `Authorization: Bearer ${FAKE_SHAPES["bearer-token"]}\n`, secret: FAKE_SHAPES["bearer-token"] },
  { text: ` postgres://orch:${FAKE_SHAPES["url-password"]}@db/x `, secret: FAKE_SHAPES["url-password"] },
  { text: `\n${fakePem(4)}\n`, secret: fakePem(4).split("\n")[2] ?? "" },
  { text: `\n${fakePem(3, "\r\n", "EC ")}\r\n`, secret: fakePem(3, "\n", "EC ").split("\n")[1] ?? "" },
  { text: JSON.stringify({ output: fakePem(5, "\n", "OPENSSH ") }), secret: fakePem(5).split("\n")[3] ?? "" },
];

/** Text that looks a little like secrets without being any: prefixes, near misses, line ends, JSON. */
const FILLER = [
  " ", "\n", "\r\n", "x", "word ", "sk-", "sk-ant-", "ghp_", "AKIA", "AIza", "xoxb-", "Bearer ", "bearer x ", "postgres://u:",
  "aws_secret_access_key=", "-----BEGIN RSA PRIVATE KEY-----", "-----END RSA PRIVATE KEY-----", "QUJDREVG", '{"type":"text","text":"',
  '"}\n', "Tr0ub4dor", FAKE_ENV.GITHUB_TOKEN.slice(0, 20), "\\n",
];

const piece = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...FILLER) },
  { weight: 2, arbitrary: fc.string({ maxLength: 12 }) },
  { weight: 2, arbitrary: fc.constantFrom(...PLANTED).map((p) => p.text) },
);
const text = fc.array(piece, { maxLength: 40 }).map((pieces) => pieces.join(""));

/** `text` cut at `cuts` (positions taken modulo its length). */
function chunks(whole: string, cuts: readonly number[]): string[] {
  const points = [...new Set(cuts.map((c) => (whole.length === 0 ? 0 : c % whole.length)))].sort((a, b) => a - b);
  const out: string[] = [];
  let start = 0;
  for (const point of points) {
    out.push(whole.slice(start, point));
    start = point;
  }
  out.push(whole.slice(start));
  return out;
}

function streamed(parts: readonly string[], maxHold?: number): string {
  const stream = new RedactingStream(redactor, maxHold === undefined ? {} : { maxHold });
  return parts.map((p) => stream.push(p)).join("") + stream.end();
}

const survivors = (out: string): string[] => PLANTED.map((p) => p.secret).filter((secret) => out.includes(secret));

describe("RedactingStream", () => {
  it("gives what redacting the whole text gives, however the text is split into chunks", () => {
    fc.assert(
      fc.property(text, fc.array(fc.nat(), { maxLength: 30 }), (whole, cuts) => {
        expect(streamed(chunks(whole, cuts))).toBe(redactor.redact(whole));
      }),
      { numRuns: 800 },
    );
  });

  it("lets no planted secret through, split at every character or anywhere across chunks and lines", () => {
    fc.assert(
      fc.property(text, fc.array(fc.nat(), { maxLength: 30 }), (whole, cuts) => {
        expect(survivors(streamed(chunks(whole, cuts)))).toEqual([]);
        expect(survivors(streamed([...whole]))).toEqual([]);
      }),
      { numRuns: 400 },
    );
  });

  it("lets no planted secret through even when long lines make it let go of what it holds", () => {
    const longLines = fc.array(piece.filter((p) => !p.includes("\n")), { minLength: 20, maxLength: 80 }).map((pieces) => pieces.join(""));
    fc.assert(
      fc.property(longLines, fc.array(fc.nat(), { maxLength: 30 }), fc.integer({ min: 0, max: 200 }), (whole, cuts, extra) => {
        expect(survivors(streamed(chunks(whole, cuts), redactor.window + extra))).toEqual([]);
      }),
      { numRuns: 400 },
    );
  });

  it("holds back at most the longest secret less one character of ordinary text", () => {
    const long = createRedactor({ LONG_SECRET: `S3CRET${"Q".repeat(400)}` });
    expect(long.window).toBe(406);
    const ordinary = fc.array(fc.constantFrom("a", "b", " ", "\n", "word", "sk", "-"), { maxLength: 400 }).map((p) => p.join(""));
    fc.assert(
      fc.property(fc.array(ordinary, { maxLength: 10 }), (parts) => {
        const stream = new RedactingStream(long);
        for (const part of parts) {
          stream.push(part);
          expect(stream.held).toBeLessThanOrEqual(long.window - 1);
        }
      }),
    );
  });

  it("holds a secret that may still be growing, and lets it go redacted once it ends", () => {
    const stream = new RedactingStream(redactor);
    const key = FAKE_SHAPES["openai-key"];
    expect(stream.push(`key: ${key.slice(0, 30)}`)).toBe("");
    expect(stream.push(key.slice(30))).toBe("");
    expect(stream.push(" and more\n")).toBe("key: [redacted:openai-key] and more\n");
    expect(stream.push(`-----BEGIN PRIVATE KEY-----\nQUJD\n`)).toBe("[redacted:private-key]");
    expect(stream.push("-----END PRIVATE KEY-----\nnext")).toBe("\n");
    expect(stream.end()).toBe("next");
  });
});
