// Properties of the gemini parser: whatever a line holds, normalizeLine (the mapping without its safety net)
// neither throws nor returns anything the AgentEvent schema rejects, and the parser's state stays usable.
import { readdirSync, readFileSync } from "node:fs";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { AgentEvent } from "../../core/agent-event.js";
import { createGeminiParser, createParserState, normalizeLine, type ParserState } from "./normalize.js";

const FIXTURE_DIR = new URL("./fixtures/", import.meta.url);
const REAL_LINES = readdirSync(FIXTURE_DIR)
  .filter((name) => name.endsWith(".jsonl"))
  .flatMap((name) => readFileSync(new URL(name, FIXTURE_DIR), "utf8").split("\n"))
  .filter((line) => line.trim() !== "");

const KNOWN_TYPES = ["init", "message", "tool_use", "tool_result", "error", "result"];
const KNOWN_FIELDS = [
  "session_id",
  "model",
  "role",
  "content",
  "delta",
  "tool_name",
  "tool_id",
  "parameters",
  "status",
  "output",
  "error",
  "severity",
  "message",
  "stats",
  "x",
];

function assertValid(line: string, state: ParserState = createParserState()): void {
  const events = normalizeLine(line, state);
  for (const event of events) {
    const parsed = AgentEvent.safeParse(event);
    if (!parsed.success) throw new Error(`invalid event ${JSON.stringify(event)} from ${line}: ${parsed.error.message}`);
  }
}

const anyString = fc.oneof(
  fc.string({ unit: "grapheme", maxLength: 300 }),
  fc.string({ unit: "binary", maxLength: 300 }),
  fc.string({ unit: "binary-ascii", maxLength: 300 }),
);

const garbage = fc
  .tuple(fc.uint8Array({ maxLength: 400 }), fc.constantFrom<BufferEncoding>("utf8", "latin1"))
  .map(([bytes, encoding]) => Buffer.from(bytes).toString(encoding));

/** JSON objects that pass the first look (a known `type`) but hold anything else. */
const knownTypeObject = fc
  .tuple(fc.constantFrom(...KNOWN_TYPES), fc.dictionary(fc.constantFrom(...KNOWN_FIELDS), fc.jsonValue()))
  .map(([type, rest]) => JSON.stringify({ ...rest, type }));

type Path = (string | number)[];

function pathsOf(value: unknown, prefix: Path = []): Path[] {
  const paths: Path[] = [prefix];
  if (Array.isArray(value)) value.forEach((item, i) => paths.push(...pathsOf(item, [...prefix, i])));
  else if (typeof value === "object" && value !== null) {
    for (const [key, item] of Object.entries(value)) paths.push(...pathsOf(item, [...prefix, key]));
  }
  return paths;
}

/** Replaces (or, with `undefined`, deletes) the value at `path`; the root is replaced outright. */
function mutate(root: unknown, path: Path, replacement: unknown): unknown {
  if (path.length === 0) return replacement;
  const copy: unknown = structuredClone(root);
  let node: unknown = copy;
  for (const key of path.slice(0, -1)) {
    if (typeof node !== "object" || node === null) return copy;
    node = Reflect.get(node, key);
  }
  const last = path.at(-1);
  if (typeof node !== "object" || node === null || last === undefined) return copy;
  if (replacement === undefined) Reflect.deleteProperty(node, last);
  else Reflect.set(node, last, replacement);
  return copy;
}

function valueAt(root: unknown, path: Path): unknown {
  let node = root;
  for (const key of path) node = typeof node === "object" && node !== null ? Reflect.get(node, key) : undefined;
  return node;
}

/** Values a field may wrongly hold: any JSON, and the near misses (fractions, negatives, null) in particular. */
const replacement = fc.oneof(
  fc.jsonValue(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.integer({ min: -3, max: 3 }),
  fc.constantFrom(null, true, "", "x", "assistant", "success", "error", "run_shell_command"),
  fc.constant(undefined),
);

function mutatedLine(pathFilter: (value: unknown) => boolean) {
  return fc.tuple(fc.constantFrom(...REAL_LINES), fc.nat(), replacement).map(([line, pick, value]) => {
    const original: unknown = JSON.parse(line);
    const paths = pathsOf(original).filter((path) => pathFilter(valueAt(original, path)));
    const path = paths.length === 0 ? [] : (paths[pick % paths.length] ?? []);
    return JSON.stringify(mutate(original, path, value)) ?? "";
  });
}

const mutatedRealLine = mutatedLine(() => true);
const mutatedScalar = mutatedLine((value) => typeof value !== "object" || value === null);

describe("gemini parser properties", () => {
  it("has real lines to work from", () => {
    expect(REAL_LINES.length).toBeGreaterThan(50);
  });

  it("arbitrary strings", () => {
    fc.assert(fc.property(anyString, (line) => assertValid(line)), { numRuns: 1_000 });
  });

  it("binary garbage", () => {
    fc.assert(fc.property(garbage, (line) => assertValid(line)), { numRuns: 500 });
  });

  it("arbitrary JSON values", () => {
    fc.assert(fc.property(fc.jsonValue(), (value) => assertValid(JSON.stringify(value) ?? "")), { numRuns: 1_000 });
  });

  it("objects of a known type with arbitrary fields", () => {
    fc.assert(fc.property(knownTypeObject, (line) => assertValid(line)), { numRuns: 2_000 });
  });

  it("truncations of real lines", () => {
    fc.assert(
      fc.property(fc.constantFrom(...REAL_LINES), fc.nat(), (line, cut) => assertValid(line.slice(0, cut % (line.length + 1)))),
      { numRuns: 2_000 },
    );
  });

  it("real lines with one field replaced or removed", () => {
    fc.assert(fc.property(mutatedRealLine, (line) => assertValid(line)), { numRuns: 3_000 });
  });

  it("real lines with one scalar field replaced or removed", () => {
    fc.assert(fc.property(mutatedScalar, (line) => assertValid(line)), { numRuns: 5_000 });
  });

  it("a whole session of mixed lines through one parser: valid events, at most one text event between other events", () => {
    const line = fc.oneof(anyString, fc.constantFrom(...REAL_LINES), mutatedRealLine, knownTypeObject);
    fc.assert(
      fc.property(fc.array(line, { maxLength: 30 }), (session) => {
        const parser = createGeminiParser();
        let previous: AgentEvent | undefined;
        for (const each of session) {
          for (const event of parser.parseLine(each)) {
            expect(AgentEvent.safeParse(event).success).toBe(true);
            // Deltas are joined: two text events in a row would mean a stretch of speech was split.
            expect(previous?.type === "text" && event.type === "text").toBe(false);
            previous = event;
          }
        }
      }),
      { numRuns: 300 },
    );
  });

  it("splitting the model's answer into any deltas gives the same text events", () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 200 }).filter((s) => s.trim() !== ""), fc.array(fc.nat(), { maxLength: 6 }), (text, cuts) => {
        const points = [...new Set(cuts.map((c) => c % (text.length + 1)))].sort((a, b) => a - b);
        const pieces = [0, ...points].map((start, i) => text.slice(start, points[i] ?? text.length)).filter((p) => p !== "");
        const parser = createGeminiParser();
        const lines = [
          ...pieces.map((content) => JSON.stringify({ type: "message", role: "assistant", content, delta: true })),
          JSON.stringify({ type: "result", status: "success" }),
        ];
        const events = lines.flatMap((l) => parser.parseLine(l));
        expect(events[0]).toEqual({ type: "text", text });
        expect(events.at(-1)).toMatchObject({ type: "result", ok: true, text });
      }),
      { numRuns: 300 },
    );
  });
});
