// The task graph's layout (web/run/layers.ts): a task's column is one more than its deepest dependency's, so every
// edge points right; unknown dependencies are ignored and a cycle (which orch's plans never hold) does not hang it.
import { describe, expect, it } from "vitest";
import { layers } from "../web/run/layers.js";

describe("layers", () => {
  it("puts each task one column right of its deepest dependency", () => {
    const got = layers([
      { id: "a", dependsOn: [] },
      { id: "b", dependsOn: ["a"] },
      { id: "c", dependsOn: ["a", "b"] },
      { id: "d", dependsOn: null },
      { id: "e", dependsOn: ["d", "c"] },
    ]);
    expect(Object.fromEntries(got)).toEqual({ a: 0, b: 1, c: 2, d: 0, e: 3 });
  });

  it("ignores dependencies it does not know and survives a cycle", () => {
    expect(Object.fromEntries(layers([{ id: "x", dependsOn: ["gone"] }]))).toEqual({ x: 0 });
    const cyclic = layers([
      { id: "p", dependsOn: ["q"] },
      { id: "q", dependsOn: ["p"] },
    ]);
    expect([...cyclic.keys()].sort()).toEqual(["p", "q"]);
  });
});
