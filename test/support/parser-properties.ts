// The property suite every agent's stream parser passes (each normalize.property.test.ts calls it): whatever a
// line holds, the mapping neither throws nor returns an event AgentEvent rejects; the parser adds only a safety net.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { AgentParser } from "../../src/agents/agent.js";
import { AgentEvent } from "../../src/core/agent-event.js";

/** The JSON objects a CLI prints, described loosely enough to generate near misses of each. */
export interface ObjectShape {
  /** Values of `type`; without it the object has no `type`. */
  types?: readonly string[];
  /** Further tags, each present with one of its values or absent (claude-code's `subtype`). */
  tags?: Readonly<Record<string, readonly string[]>>;
  /** Keys that may each be present with any JSON value. */
  fields: readonly string[];
  /** Keys that may each hold an object of its own shape (opencode's `part`, codex's `item`). */
  nested?: Readonly<Record<string, ObjectShape>>;
}

export interface ParserPropertiesOptions<State> {
  /** The CLI's name, as in `claude-code parser properties`. */
  name: string;
  /** The mapping without its safety net, so that a throw fails the property. */
  normalizeLine(line: string, state: State): AgentEvent[];
  createState(): State;
  /** The parser the adapter hands out: the mapping over one state, catching what it throws. */
  createParser(): AgentParser;
  /** Every non-blank line of the adapter's recordings (`fixturesIn(dir).allLines()`). */
  fixtureLines: readonly string[];
  /** The recordings must hold more lines than this, or the real-line properties prove little. */
  minFixtureLines: number;
  /** The objects the CLI prints. */
  shape: ObjectShape;
  /** Strings a field may wrongly hold besides the shape's types and tags (roles, statuses, tool names). */
  nearMisses?: readonly string[];
  /** The session property's title and a CLI-specific check of the events a whole session gave. */
  session?: { title: string; check(events: readonly AgentEvent[]): void };
}

/** The generators the suite uses, for an adapter's own properties (`extra`). */
export interface ParserGenerators {
  realLine: fc.Arbitrary<string>;
  anyString: fc.Arbitrary<string>;
  knownTypeObject: fc.Arbitrary<string>;
  /** Any field of a real line replaced (or removed). */
  mutatedRealLine: fc.Arbitrary<string>;
  /** Only scalar fields of a real line replaced (or removed). */
  mutatedScalar: fc.Arbitrary<string>;
}

/** Registers the suite as `<name> parser properties`; `extra` adds the CLI's own properties inside it. */
export function describeParserProperties<State>(
  options: ParserPropertiesOptions<State>,
  extra?: (generators: ParserGenerators) => void,
): void {
  const lines = options.fixtureLines;
  const assertValid = (line: string, state: State = options.createState()): AgentEvent[] => {
    const events = options.normalizeLine(line, state);
    for (const event of events) {
      const parsed = AgentEvent.safeParse(event);
      if (!parsed.success) throw new Error(`invalid event ${JSON.stringify(event)} from ${line}: ${parsed.error.message}`);
    }
    return events;
  };

  const realLine = fc.constantFrom(...lines);
  const knownTypeObject = shapedObject(options.shape).map((value) => JSON.stringify(value));
  const replacement = replacementFor([...shapeStrings(options.shape), ...(options.nearMisses ?? [])]);
  const mutatedLine = (pathFilter: (value: unknown) => boolean) =>
    fc.tuple(realLine, fc.nat(), replacement).map(([line, pick, value]) => {
      const original: unknown = JSON.parse(line);
      const paths = pathsOf(original).filter((path) => pathFilter(valueAt(original, path)));
      const path = paths.length === 0 ? [] : (paths[pick % paths.length] ?? []);
      return JSON.stringify(mutate(original, path, value)) ?? "";
    });
  const generators: ParserGenerators = {
    realLine,
    anyString,
    knownTypeObject,
    mutatedRealLine: mutatedLine(() => true),
    // The numbers and strings the mapping reads are hit far more often than by any-field mutation, which
    // alone once let a bug through.
    mutatedScalar: mutatedLine((value) => typeof value !== "object" || value === null),
  };

  describe(`${options.name} parser properties`, () => {
    it("has real lines to work from", () => {
      expect(lines.length).toBeGreaterThan(options.minFixtureLines);
    });

    it("arbitrary strings", () => {
      fc.assert(fc.property(anyString, (line) => void assertValid(line)), { numRuns: 1_000 });
    });

    it("binary garbage", () => {
      fc.assert(fc.property(garbage, (line) => void assertValid(line)), { numRuns: 500 });
    });

    it("arbitrary JSON values", () => {
      fc.assert(fc.property(fc.jsonValue(), (value) => void assertValid(JSON.stringify(value) ?? "")), { numRuns: 1_000 });
    });

    it("objects of a known type with arbitrary fields", () => {
      fc.assert(fc.property(knownTypeObject, (line) => void assertValid(line)), { numRuns: 2_000 });
    });

    it("truncations of real lines", () => {
      fc.assert(
        fc.property(realLine, fc.nat(), (line, cut) => void assertValid(line.slice(0, cut % (line.length + 1)))),
        { numRuns: 2_000 },
      );
    });

    it("real lines with one field replaced or removed", () => {
      fc.assert(fc.property(generators.mutatedRealLine, (line) => void assertValid(line)), { numRuns: 3_000 });
    });

    it("real lines with one scalar field replaced or removed", () => {
      fc.assert(fc.property(generators.mutatedScalar, (line) => void assertValid(line)), { numRuns: 5_000 });
    });

    it(options.session?.title ?? "a whole session of mixed lines through one parser never throws", () => {
      const line = fc.oneof(anyString, realLine, generators.mutatedRealLine, generators.mutatedScalar, knownTypeObject);
      fc.assert(
        fc.property(fc.array(line, { maxLength: 30 }), (session) => {
          // The mapping over one state must not throw on any sequence; the parser must give what it gives.
          const state = options.createState();
          const parser = options.createParser();
          const events = session.flatMap((each) => {
            const mapped = assertValid(each, state);
            const parsed = parser.parseLine(each);
            expect(parsed).toEqual(mapped);
            return parsed;
          });
          options.session?.check(events);
        }),
        { numRuns: 300 },
      );
    });

    extra?.(generators);
  });
}

const anyString = fc.oneof(
  fc.string({ unit: "grapheme", maxLength: 300 }),
  fc.string({ unit: "binary", maxLength: 300 }),
  fc.string({ unit: "binary-ascii", maxLength: 300 }),
);

const garbage = fc
  .tuple(fc.uint8Array({ maxLength: 400 }), fc.constantFrom<BufferEncoding>("utf8", "latin1"))
  .map(([bytes, encoding]) => Buffer.from(bytes).toString(encoding));

/** Objects that pass the first look (a known `type`, known tags) but hold anything else, nested ones too. */
function shapedObject(shape: ObjectShape): fc.Arbitrary<Record<string, unknown>> {
  const present = <T>(arbitrary: fc.Arbitrary<T>, key: string) =>
    fc.option(arbitrary, { nil: undefined }).map((value): Record<string, unknown> => (value === undefined ? {} : { [key]: value }));
  const parts: fc.Arbitrary<Record<string, unknown>>[] = [fc.dictionary(fc.constantFrom(...shape.fields), fc.jsonValue())];
  if (shape.types !== undefined) parts.push(fc.constantFrom(...shape.types).map((type) => ({ type })));
  for (const [key, values] of Object.entries(shape.tags ?? {})) parts.push(present(fc.constantFrom(...values), key));
  for (const [key, nested] of Object.entries(shape.nested ?? {})) parts.push(present(shapedObject(nested), key));
  return fc.tuple(...parts).map((objects) => Object.fromEntries(objects.flatMap((object) => Object.entries(object))));
}

function shapeStrings(shape: ObjectShape): string[] {
  return [
    ...(shape.types ?? []),
    ...Object.values(shape.tags ?? {}).flat(),
    ...Object.values(shape.nested ?? {}).flatMap(shapeStrings),
  ];
}

/** Values a field may wrongly hold: any JSON, and the near misses (fractions, negatives, null, other names). */
function replacementFor(nearMisses: readonly string[]): fc.Arbitrary<unknown> {
  return fc.oneof(
    fc.jsonValue(),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.integer({ min: -3, max: 3 }),
    fc.constantFrom(null, true, "", "x", ...nearMisses),
    fc.constant(undefined),
  );
}

type Path = (string | number)[];

function pathsOf(value: unknown, prefix: Path = []): Path[] {
  const paths: Path[] = [prefix];
  if (Array.isArray(value)) value.forEach((item, i) => paths.push(...pathsOf(item, [...prefix, i])));
  else if (typeof value === "object" && value !== null) {
    for (const [key, item] of Object.entries(value)) paths.push(...pathsOf(item, [...prefix, key]));
  }
  return paths;
}

function valueAt(root: unknown, path: Path): unknown {
  let node = root;
  for (const key of path) node = typeof node === "object" && node !== null ? Reflect.get(node, key) : undefined;
  return node;
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
