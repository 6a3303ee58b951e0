import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { InvalidGraphError, TaskGraph, validateGraph, type GraphTask, type StatusOf } from "./dag.js";
import type { TaskStatus } from "./task.js";

const task = (id: string, dependsOn: string[] = [], priority = 0): GraphTask => ({ id, dependsOn, priority });
const ids = (tasks: readonly GraphTask[]): string[] => tasks.map((t) => t.id);
const statuses = (entries: Record<string, TaskStatus>): StatusOf => new Map(Object.entries(entries));

describe("validateGraph", () => {
  it("accepts a valid graph", () => {
    expect(validateGraph([task("a"), task("b", ["a"]), task("c", ["a", "b"])])).toEqual([]);
  });
  it("names a duplicate id and both places that use it", () => {
    const issues = validateGraph([task("a"), task("b"), task("a")]);
    expect(issues).toEqual([
      { kind: "duplicate-id", id: "a", index: 2, firstIndex: 0, path: [2, "id"], message: 'duplicate task id "a" (tasks[0] has it too)' },
    ]);
  });
  it("names the task, the unknown id and the known ids", () => {
    const [issue, ...rest] = validateGraph([task("api"), task("ui", ["api"]), task("web", ["api", "db"])]);
    expect(rest).toEqual([]);
    expect(issue).toMatchObject({ kind: "unknown-dependency", taskId: "web", dependency: "db", path: [2, "dependsOn", 1] });
    expect(issue?.message).toBe('task "web" depends on unknown task id "db"; known ids: api, ui, web');
  });
  it("shortens a long list of known ids", () => {
    const many = Array.from({ length: 35 }, (_, i) => task(`t${i}`));
    const [issue] = validateGraph([...many, task("x", ["nope"])]);
    expect(issue?.message).toMatch(/known ids: t0, t1, .*, t29 \(and 6 more\)$/);
  });
  it("names a self-dependency", () => {
    expect(validateGraph([task("a", ["a"])])).toEqual([
      { kind: "self-dependency", taskId: "a", index: 0, path: [0, "dependsOn", 0], message: 'task "a" depends on itself' },
    ]);
  });
  it("spells a cycle out, starting from its first task in the plan", () => {
    const issues = validateGraph([task("x"), task("a", ["b"]), task("b", ["c"]), task("c", ["x", "a"]), task("d", ["a"])]);
    expect(issues).toEqual([
      {
        kind: "cycle",
        cycle: ["a", "b", "c", "a"],
        index: 1,
        path: [1, "dependsOn", 0],
        message: "dependency cycle: a → b → c → a (each task depends on the next, so none of them can start)",
      },
    ]);
  });
  it("reports each separate cycle once, and the shortest cycle through a tangled component", () => {
    const issues = validateGraph([
      task("a", ["b", "c"]),
      task("b", ["c"]),
      task("c", ["a"]),
      task("p", ["q"]),
      task("q", ["p"]),
    ]);
    expect(issues.map((issue) => issue.kind === "cycle" && issue.cycle.join(" → "))).toEqual(["a → c → a", "p → q → p"]);
  });
  it("orders issues by kind: duplicates, unknown, self, cycles", () => {
    const issues = validateGraph([task("a", ["b"]), task("b", ["a", "zz"]), task("c", ["c"]), task("a")]);
    expect(issues.map((issue) => issue.kind)).toEqual(["duplicate-id", "unknown-dependency", "self-dependency", "cycle"]);
  });
  it("handles a chain of 20,000 tasks without deep recursion", () => {
    const chain = Array.from({ length: 20_000 }, (_, i) => task(`t${i}`, i === 0 ? [] : [`t${i - 1}`]));
    expect(validateGraph(chain)).toEqual([]);
    chain[0] = task("t0", ["t19999"]);
    const [issue] = validateGraph(chain);
    expect(issue?.kind === "cycle" && issue.cycle.length).toBe(20_001);
  });
});

describe("TaskGraph", () => {
  // a ← b, a ← c, (b, c) ← d; e stands alone.
  const diamond = [task("a"), task("b", ["a"], 1), task("c", ["a"], 5), task("d", ["b", "c"]), task("e", [], -1)];

  it("refuses an invalid graph with every issue", () => {
    const build = () => new TaskGraph([task("a", ["a"]), task("b", ["nope"])]);
    expect(build).toThrow(InvalidGraphError);
    expect(build).toThrow('task "b" depends on unknown task id "nope"; known ids: a, b; task "a" depends on itself');
  });
  it("orders topologically, higher priority then plan order among tasks free together", () => {
    expect(ids(new TaskGraph(diamond).order)).toEqual(["a", "c", "b", "d", "e"]);
    const flat = [task("low", [], -1), task("x"), task("high", [], 3), task("y")];
    expect(ids(new TaskGraph(flat).order)).toEqual(["high", "x", "y", "low"]);
  });
  it("makes tasks ready as their dependencies succeed, by priority", () => {
    const graph = new TaskGraph(diamond);
    expect(ids(graph.ready(statuses({})))).toEqual(["a", "e"]);
    expect(ids(graph.ready(statuses({ a: "running" })))).toEqual(["e"]);
    expect(ids(graph.ready(statuses({ a: "succeeded" })))).toEqual(["c", "b", "e"]);
    expect(ids(graph.ready(statuses({ a: "succeeded", b: "succeeded", c: "running", e: "succeeded" })))).toEqual([]);
    expect(ids(graph.ready(statuses({ a: "succeeded", b: "succeeded", c: "succeeded", e: "succeeded" })))).toEqual(["d"]);
  });
  it("never makes ready a task whose dependency failed or was blocked", () => {
    const graph = new TaskGraph(diamond);
    expect(ids(graph.ready(statuses({ a: "succeeded", b: "succeeded", c: "failed" })))).toEqual(["e"]);
    expect(ids(graph.ready(statuses({ a: "succeeded", b: "blocked", c: "succeeded" })))).toEqual(["e"]);
  });
  it("blocks exactly the transitive dependents of a failed task, in topological order", () => {
    const graph = new TaskGraph(diamond);
    expect(ids(graph.blockedBy("a"))).toEqual(["c", "b", "d"]);
    expect(ids(graph.blockedBy("b"))).toEqual(["d"]);
    expect(ids(graph.blockedBy("d"))).toEqual([]);
    expect(ids(graph.blockedBy("e"))).toEqual([]);
    expect(() => graph.blockedBy("zz")).toThrow('no task "zz" in this graph');
  });
  it("counts the longest chain of dependents from each task, itself included", () => {
    expect(new TaskGraph(diamond).chainLengths()).toEqual(new Map([["a", 3], ["b", 2], ["c", 2], ["d", 1], ["e", 1]]));
  });
  it("says a graph is active while something runs or is ready", () => {
    const graph = new TaskGraph(diamond);
    expect(graph.status(statuses({}))).toEqual({ state: "active", running: [], ready: ["a", "e"] });
    expect(graph.status(statuses({ a: "running", e: "succeeded" }))).toEqual({ state: "active", running: ["a"], ready: [] });
  });
  it("says a graph finished when every task has a final status, and how", () => {
    const graph = new TaskGraph(diamond);
    const allDone = statuses({ a: "succeeded", b: "succeeded", c: "succeeded", d: "succeeded", e: "succeeded" });
    expect(graph.status(allDone)).toMatchObject({ state: "finished", reason: "all 5 tasks succeeded", unsuccessful: [] });
    const someFailed = statuses({ a: "succeeded", b: "failed", c: "succeeded", d: "blocked", e: "succeeded" });
    expect(graph.status(someFailed)).toEqual({
      state: "finished",
      succeeded: ["a", "c", "e"],
      unsuccessful: [
        { id: "b", status: "failed" },
        { id: "d", status: "blocked" },
      ],
      reason: "3 of 5 tasks succeeded; b failed, d blocked",
    });
  });
  it("says a graph is stuck when every waiting task depends on a failure, and on which", () => {
    const graph = new TaskGraph([...diamond, task("f", ["d", "e"])]);
    const s = statuses({ a: "succeeded", b: "failed", c: "stalled", e: "succeeded" });
    expect(graph.status(s)).toEqual({
      state: "stuck",
      waiting: [
        { id: "d", blockedBy: ["b", "c"] },
        { id: "f", blockedBy: ["b", "c"] },
      ],
      reason: "no task can start: b (failed) blocks d, f; c (stalled) blocks d, f",
    });
  });
  it("measures the critical path and the total work", () => {
    const graph = new TaskGraph(diamond);
    const minutes: Record<string, number> = { a: 2, b: 10, c: 3, d: 1, e: 12 };
    const duration = (t: GraphTask) => minutes[t.id] ?? 0;
    expect(graph.criticalPath(duration)).toEqual({ length: 13, tasks: [graph.get("a"), graph.get("b"), graph.get("d")] });
    expect(graph.totalWork(duration)).toBe(28);
    expect(() => graph.criticalPath(() => -1)).toThrow('task "a" has duration -1; expected a number ≥ 0');
  });
  it("answers for 200 tasks quickly", () => {
    const tasks = Array.from({ length: 200 }, (_, i) => task(`t${i}`, i < 10 ? [] : [`t${i - 10}`, `t${i % 10}`], i % 3));
    const started = performance.now();
    const graph = new TaskGraph(tasks);
    const done = new Map<string, TaskStatus>();
    for (let ready = graph.ready(done); ready.length > 0; ready = graph.ready(done)) for (const t of ready) done.set(t.id, "succeeded");
    expect(done.size).toBe(200);
    expect(performance.now() - started).toBeLessThan(1000);
  });
});

/** A random DAG in a shuffled plan order: task `t<i>` may depend only on tasks `t<j>` with j < i. */
const randomDag = fc.integer({ min: 1, max: 30 }).chain((n) =>
  fc
    .tuple(
      fc.tuple(
        ...Array.from({ length: n }, (_, i) =>
          fc.record({
            deps: i === 0 ? fc.constant<number[]>([]) : fc.uniqueArray(fc.nat({ max: i - 1 }), { maxLength: 4 }),
            priority: fc.integer({ min: -2, max: 2 }),
          }),
        ),
      ),
      fc.shuffledSubarray(
        Array.from({ length: n }, (_, i) => i),
        { minLength: n, maxLength: n },
      ),
    )
    .map(([specs, order]) =>
      order.map((i): GraphTask => {
        const spec = specs[i] ?? { deps: [], priority: 0 };
        return { id: `t${i}`, dependsOn: spec.deps.map((j) => `t${j}`), priority: spec.priority };
      }),
    ),
);

/** Every task that reaches `id` along reverse edges, computed the slow, obvious way. */
function dependentsClosure(tasks: readonly GraphTask[], id: string): Set<string> {
  const found = new Set<string>();
  for (let grew = true; grew; ) {
    grew = false;
    for (const t of tasks) {
      if (found.has(t.id) || !t.dependsOn.some((d) => d === id || found.has(d))) continue;
      found.add(t.id);
      grew = true;
    }
  }
  return found;
}

describe("TaskGraph properties", () => {
  it("random DAGs are valid and their order respects every edge", () => {
    fc.assert(
      fc.property(randomDag, (tasks) => {
        expect(validateGraph(tasks)).toEqual([]);
        const graph = new TaskGraph(tasks);
        const position = new Map(graph.order.map((t, i) => [t.id, i]));
        expect(position.size).toBe(tasks.length);
        for (const t of tasks) for (const d of t.dependsOn) expect(position.get(d) ?? -1).toBeLessThan(position.get(t.id) ?? -1);
      }),
    );
  });

  it("blockedBy is exactly the set reachable along reverse edges", () => {
    fc.assert(
      fc.property(randomDag, fc.nat(), (tasks, pick) => {
        const graph = new TaskGraph(tasks);
        const failed = tasks[pick % tasks.length]?.id ?? "t0";
        const blocked = ids(graph.blockedBy(failed));
        expect(new Set(blocked)).toEqual(dependentsClosure(tasks, failed));
        expect(blocked.length).toBe(new Set(blocked).size);
      }),
    );
  });

  it("a run that follows ready() only starts tasks whose dependencies succeeded, by priority, and finishes", () => {
    fc.assert(
      fc.property(randomDag, fc.array(fc.nat(), { minLength: 1, maxLength: 200 }), (tasks, choices) => {
        const graph = new TaskGraph(tasks);
        const status = new Map<string, TaskStatus>();
        for (let step = 0; ; step++) {
          const choice = choices[step % choices.length] ?? 0;
          const ready = graph.ready(status);
          const planIndex = new Map(tasks.map((t, i) => [t.id, i]));
          for (let i = 1; i < ready.length; i++) {
            const [a, b] = [ready[i - 1], ready[i]];
            const higher = (a?.priority ?? 0) > (b?.priority ?? 0);
            const tie = a?.priority === b?.priority && (planIndex.get(a?.id ?? "") ?? 0) < (planIndex.get(b?.id ?? "") ?? 0);
            expect(higher || tie).toBe(true);
          }
          for (const t of ready) {
            expect(status.get(t.id) ?? "pending").toBe("pending");
            for (const d of t.dependsOn) expect(status.get(d)).toBe("succeeded");
          }
          const state = graph.status(status);
          if (state.state !== "active") {
            // Stuck only with failures upstream; marking their dependents blocked then finishes the graph.
            if (state.state === "stuck") {
              for (const w of state.waiting) expect(w.blockedBy.length).toBeGreaterThan(0);
              for (const t of tasks) if (status.get(t.id) === "failed") for (const b of graph.blockedBy(t.id)) status.set(b.id, "blocked");
            }
            const final = graph.status(status);
            expect(final.state).toBe("finished");
            expect(tasks.every((t) => status.has(t.id))).toBe(true);
            return;
          }
          const next = ready[choice % Math.max(1, ready.length)];
          if (next === undefined) throw new Error("active with nothing ready: nothing runs in this simulation");
          status.set(next.id, choice % 4 === 0 ? "failed" : "succeeded");
          expect(step).toBeLessThan(tasks.length);
        }
      }),
    );
  });

  it("a task's chain length is one more than its longest dependent's, and the critical path in tasks is the longest", () => {
    fc.assert(
      fc.property(randomDag, (tasks) => {
        const graph = new TaskGraph(tasks);
        const chains = graph.chainLengths();
        for (const t of tasks) {
          expect(chains.get(t.id)).toBe(1 + Math.max(0, ...graph.dependentsOf(t.id).map((d) => chains.get(d.id) ?? Number.NaN)));
        }
        expect(Math.max(...chains.values())).toBe(graph.criticalPath(() => 1).length);
      }),
    );
  });

  it("the critical path is the longest weighted chain, at most the total work", () => {
    fc.assert(
      fc.property(randomDag, fc.array(fc.nat({ max: 100 }), { minLength: 30, maxLength: 30 }), (tasks, minutes) => {
        const graph = new TaskGraph(tasks);
        const duration = (t: GraphTask) => minutes[Number(t.id.slice(1))] ?? 0;
        const memo = new Map<string, number>();
        const longest = (id: string): number => {
          const known = memo.get(id);
          if (known !== undefined) return known;
          const value = duration(graph.get(id)) + Math.max(0, ...graph.get(id).dependsOn.map(longest));
          memo.set(id, value);
          return value;
        };
        const path = graph.criticalPath(duration);
        expect(path.length).toBe(Math.max(...tasks.map((t) => longest(t.id))));
        expect(path.tasks.reduce((sum, t) => sum + duration(t), 0)).toBe(path.length);
        for (let i = 1; i < path.tasks.length; i++) expect(path.tasks[i]?.dependsOn).toContain(path.tasks[i - 1]?.id);
        expect(path.length).toBeLessThanOrEqual(graph.totalWork(duration));
      }),
    );
  });

  it("a cycle injected into a random DAG is always found, and every reported cycle is real", () => {
    fc.assert(
      fc.property(randomDag, fc.nat(), fc.nat(), (dag, pickTask, pickAncestor) => {
        const tasks = dag.map((t) => ({ ...t, dependsOn: [...t.dependsOn] }));
        if (tasks.length < 2) tasks.push({ id: "extra", dependsOn: [tasks[0]?.id ?? "t0"], priority: 0 });
        const withDeps = tasks.filter((t) => t.dependsOn.length > 0);
        if (withDeps.length === 0) tasks[1]?.dependsOn.push(tasks[0]?.id ?? "t0");
        // v depends, directly or not, on u; making u depend on v closes a cycle.
        const candidates = tasks.filter((t) => t.dependsOn.length > 0);
        const v = candidates[pickTask % candidates.length];
        if (v === undefined) throw new Error("no task with dependencies");
        const ancestors = tasks.filter((t) => dependentsClosure(tasks, t.id).has(v.id));
        const u = ancestors[pickAncestor % ancestors.length];
        if (u === undefined) throw new Error("no ancestor");
        u.dependsOn.push(v.id);
        const cycles = validateGraph(tasks).flatMap((issue) => (issue.kind === "cycle" ? [issue.cycle] : []));
        expect(cycles.length).toBeGreaterThan(0);
        const byId = new Map(tasks.map((t) => [t.id, t]));
        for (const cycle of cycles) {
          expect(cycle[0]).toBe(cycle[cycle.length - 1]);
          for (let i = 0; i + 1 < cycle.length; i++) expect(byId.get(cycle[i] ?? "")?.dependsOn).toContain(cycle[i + 1]);
        }
        expect(() => new TaskGraph(tasks)).toThrow(InvalidGraphError);
      }),
    );
  });
});

describe("TaskGraph.status of a big graph", () => {
  it("names at most ten ids in its reason; the lists beside it are whole", () => {
    const n = 1_000;
    const tasks = [{ id: "root", dependsOn: [] }, ...Array.from({ length: n }, (_, i) => ({ id: `t${i}`, dependsOn: ["root"] }))];
    const graph = new TaskGraph(tasks);
    const stuck = graph.status(new Map([["root", "failed"]]));
    expect(stuck).toMatchObject({ state: "stuck", reason: "no task can start: root (failed) blocks t0, t1, t2, t3, t4, t5, t6, t7, t8, t9 and 990 more" });
    if (stuck.state === "stuck") expect(stuck.waiting).toHaveLength(n);
    const done = graph.status(new Map<string, "failed" | "blocked">([["root", "failed"], ...tasks.slice(1).map((t) => [t.id, "blocked"] as [string, "blocked"])]));
    expect(done.state === "finished" && done.unsuccessful).toHaveLength(n + 1);
    expect(done.state === "finished" && done.reason).toBe("0 of 1001 tasks succeeded; root failed, t0 blocked, t1 blocked, t2 blocked, t3 blocked, t4 blocked, t5 blocked, t6 blocked, t7 blocked, t8 blocked and 991 more");
  });
});
