import { describe, expect, it } from "vitest";
import { z } from "zod";
import { COLD_PARSES, parseOnce, parserOf } from "./cold-parse.js";

/** An object schema whose every parse records whether zod was allowed its compiled fast path for it. */
function watched() {
  const seen: boolean[] = [];
  const schema = z.object({ n: z.number() });
  const run = schema._zod.run.bind(schema._zod);
  schema._zod.run = (payload, ctx) => {
    seen.push(ctx.jitless !== true);
    return run(payload, ctx);
  };
  return { schema, seen };
}

describe("parserOf", () => {
  it("parses without zod's compiled fast path for its first parses, then with it", () => {
    const { schema, seen } = watched();
    const parse = parserOf(schema);
    for (let i = 0; i < COLD_PARSES + 3; i++) expect(parse({ n: i })).toEqual({ n: i });
    expect(seen.slice(0, COLD_PARSES).every((fast) => !fast)).toBe(true);
    expect(seen.slice(COLD_PARSES)).toEqual([true, true, true]);
  });

  it("refuses what the schema refuses, cold or warm", () => {
    const parse = parserOf(z.object({ n: z.number() }));
    expect(() => parse({ n: "one" })).toThrow(z.ZodError);
    for (let i = 0; i < COLD_PARSES; i++) parse({ n: i });
    expect(() => parse({ n: "one" })).toThrow(z.ZodError);
  });

  it("parseOnce never allows the fast path", () => {
    const { schema, seen } = watched();
    for (let i = 0; i < COLD_PARSES + 2; i++) parseOnce(schema, { n: i });
    expect(seen.every((fast) => !fast)).toBe(true);
  });
});
