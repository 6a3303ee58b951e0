// The run graph's fold, alone: scenarios fed as events with the steps asserted, and a model-based test that drives
// random runs (one task and graphs; failures, reverts, conflicts and their integrators, tasks that wait for a
// human, pauses) with a scripted interpreter shaped like engine/scheduler.ts. Each journal is cut after every
// write, the graph rebuilt from the prefix, and a fresh interpreter (nothing under way, as after a supervisor's
// death) lets `decide` go on: the run ends as the one never cut, with every task in the same state and the same
// merges on the run branch. `decide` never returns the same step twice without an event folded in between.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { NewEvent } from "./journal.js";
import { decide, emptyGraph, evolve, MAX_REVERTS, phaseOf, rejectedReason, replay, type GraphInput, type GraphStep, type RunGraph } from "./run-graph.js";
import type { TaskConclusion } from "./task-loop.js";
import type { TerminalTaskStatus } from "./task.js";

const RUN = "r";
const BRANCH = "orch/r/_run";

interface Spec {
  readonly id: string;
  readonly dependsOn?: readonly string[];
  readonly priority?: number;
}

function created(spec: Spec, position: number): NewEvent {
  return {
    type: "task.created",
    runId: RUN,
    taskId: spec.id,
    data: { title: spec.id, goal: spec.id, criteria: ["true"], branch: `orch/r/${spec.id}`, worktree: `/w/${spec.id}`, dependsOn: [...(spec.dependsOn ?? [])], priority: spec.priority ?? 0, position },
  };
}
const started = (id: string): NewEvent => ({ type: "task.started", runId: RUN, taskId: id, data: {} });
const loopSucceeded = (id: string, n: number, commit: string): NewEvent => ({ type: "attempt.finished", runId: RUN, taskId: id, attemptId: `${RUN}.${id}.${n}`, data: { outcome: "succeeded", progress: 1, commit } });
const assessed = (id: string, commit: string, decision: "integrate" | "human", level: "low" | "medium" | "high" = decision === "human" ? "high" : "low"): NewEvent => ({
  type: "task.assessed",
  runId: RUN,
  taskId: id,
  data: { commit, level, rules: [], decision, why: `${level} risk` },
});
/** A task's loop succeeded and the gate let its commit on (low risk). */
const succeeded = (id: string, n: number, commit: string): NewEvent[] => [loopSucceeded(id, n, commit), assessed(id, commit, "integrate")];
const finished = (id: string, status: TerminalTaskStatus, reason: string = status): NewEvent => ({ type: "task.finished", runId: RUN, taskId: id, data: { status, reason } });
const integratedAs = (id: string, merge: string, integrator?: string): NewEvent => ({ type: "task.integrated", runId: RUN, taskId: id, data: { merge, ...(integrator !== undefined ? { integrator } : {}) } });
const reverted = (id: string, merge: string, reason: string): NewEvent => ({ type: "task.reverted", runId: RUN, taskId: id, data: { merge, revert: `rv-${merge}`, reason } });
function integratorCreated(id: string, merged: string): NewEvent {
  return { type: "task.created", runId: RUN, taskId: id, data: { title: id, goal: id, criteria: ["true"], branch: BRANCH, worktree: "/w/_run", role: "integrator", dependsOn: [merged] } };
}

const input = (over: Partial<GraphInput> = {}): GraphInput => ({
  busy: new Set(),
  merging: undefined,
  assessing: new Set(),
  now: 0,
  rejectAfterMs: {},
  parked: new Set(),
  concurrency: 2,
  halt: undefined,
  aborted: false,
  runBranch: BRANCH,
  ...over,
});

const planOf = (...specs: Spec[]) => replay(specs.map(created));
const kinds = (steps: readonly GraphStep[]) => steps.map((s) => ("taskId" in s ? `${s.kind} ${s.taskId}` : s.kind));

// ---- scenarios ---------------------------------------------------------------------------------------------------

describe("the run graph's fold, by scenario", () => {
  it("ignores the deliveries of notices: the same state, whatever the journal says of webhooks", () => {
    const graph = planOf({ id: "a" }, { id: "b", dependsOn: ["a"] });
    const d = { webhook: 0, host: "h", event: "task.escalated" as const, resolved: false, items: 1 };
    const after = replay(
      [
        { type: "notify.sent", runId: "r", data: { ...d, attempts: 1, status: 200 } },
        { type: "notify.failed", runId: "r", taskId: "a", data: { ...d, attempts: 4, error: "HTTP 500" } },
        { type: "notify.dropped", runId: "r", data: { deliveries: [d], reason: "the end" } },
      ],
      graph,
    );
    expect(after).toBe(graph);
  });

  it("starts the ready tasks by urgency up to the concurrency: priority, then the longest chain behind a task", () => {
    const graph = planOf({ id: "a" }, { id: "b" }, { id: "c", dependsOn: ["b"] }, { id: "d", priority: 5 });
    expect(kinds(decide(graph, input()))).toEqual(["start d", "start b"]);
    expect(kinds(decide(graph, input({ busy: new Set(["d", "b"]) })))).toEqual(["wait"]);
    expect(kinds(decide(graph, input({ busy: new Set(["d"]) })))).toEqual(["start b"]);
  });

  it("a task that succeeds joins the merge queue; integrated, it unlocks its dependents; the run ends when all are", () => {
    let graph = planOf({ id: "a" }, { id: "b", dependsOn: ["a"] });
    graph = replay([started("a"), ...succeeded("a", 1, "c-a")], graph);
    expect(phaseOf(graph, "a")).toMatchObject({ kind: "queued", commit: "c-a" });
    expect(kinds(decide(graph, input()))).toEqual(["integrate a"]);
    graph = replay([integratedAs("a", "m-a"), finished("a", "succeeded")], graph);
    expect(kinds(decide(graph, input()))).toEqual(["start b"]);
    graph = replay([started("b"), ...succeeded("b", 2, "c-b"), integratedAs("b", "m-b"), finished("b", "succeeded")], graph);
    const [end] = decide(graph, input());
    expect(end).toMatchObject({ kind: "end", conclusion: { status: "succeeded" }, endings: [] });
  });

  it("a success a reviewer must approve waits in its slot; only an approval of its commit puts it in the merge queue", () => {
    let graph = planOf({ id: "a" }, { id: "b", dependsOn: ["a"] });
    const awaiting: NewEvent = { type: "attempt.finished", runId: RUN, taskId: "a", attemptId: `${RUN}.a.1`, data: { outcome: "succeeded", progress: 1, commit: "c-a", awaitsReview: true } };
    graph = replay([started("a"), awaiting], graph);
    expect(phaseOf(graph, "a")).toMatchObject({ kind: "running" });
    expect(kinds(decide(graph, input({ busy: new Set(["a"]) })))).toEqual(["wait"]);
    const review = (approved: boolean): NewEvent => ({
      type: "attempt.finished",
      runId: RUN,
      taskId: "a",
      attemptId: `${RUN}.a.r1`,
      data: { outcome: "succeeded", progress: 1, commit: "c-a", review: { commit: "c-a", round: 1, attempt: 1, verdict: approved ? "approve" : "request_changes", summary: "", findings: [], approved } },
    });
    expect(phaseOf(replay([review(false)], graph), "a")).toMatchObject({ kind: "running" });
    graph = replay([review(true)], graph);
    expect(phaseOf(graph, "a")).toEqual({ kind: "gated", commit: "c-a", review: { worst: undefined }, keepsSlot: true });
    expect(kinds(decide(graph, input()))).toEqual(["assess a"]);
    graph = replay([assessed("a", "c-a", "integrate")], graph);
    expect(phaseOf(graph, "a")).toMatchObject({ kind: "queued", commit: "c-a" });
    expect(graph.nodes[0]?.succeededWith).toBe("all 1 criteria met on attempt 1; approved by the reviewer");
  });

  it("a commit the gate holds for a human blocks only its dependents; the run waits when nothing else can move", () => {
    let graph = planOf({ id: "a" }, { id: "b", dependsOn: ["a"] }, { id: "c" });
    graph = replay([started("a"), loopSucceeded("a", 1, "c-a"), assessed("a", "c-a", "human"), started("c")], graph);
    expect(phaseOf(graph, "a")).toMatchObject({ kind: "awaiting", commit: "c-a", level: "high" });
    // c goes on; b waits for a; nothing is merged for a.
    expect(kinds(decide(graph, input({ busy: new Set(["c"]) })))).toEqual(["wait"]);
    graph = replay([...succeeded("c", 1, "c-c")], graph);
    expect(kinds(decide(graph, input()))).toEqual(["integrate c"]);
    graph = replay([integratedAs("c", "m-c"), finished("c", "succeeded")], graph);
    const [end] = decide(graph, input());
    expect(end).toMatchObject({ kind: "end", endings: [], conclusion: { status: "waiting", reason: expect.stringContaining("a (high risk)") } });
    // An approval of another commit is not this one's.
    expect(phaseOf(replay([{ type: "task.approved", runId: RUN, taskId: "a", data: { commit: "c-old", by: "me" } }], graph), "a").kind).toBe("awaiting");
    const approved = replay([{ type: "task.approved", runId: RUN, taskId: "a", data: { commit: "c-a", by: "me" } }], graph);
    expect(kinds(decide(approved, input()))).toEqual(["integrate a"]);
    // With a limit for its level, no decision within it rejects the commit; the time counts from its judgement.
    const since = phaseOf(graph, "a").kind === "awaiting" ? (phaseOf(graph, "a") as { since: number }).since : -1;
    expect(kinds(decide(graph, input({ now: since + 999, rejectAfterMs: { high: 1_000 } })))).toEqual(["end"]);
    expect(decide(graph, input({ now: since + 1_000, rejectAfterMs: { high: 1_000, medium: 1 } }))).toEqual([
      { kind: "expire", taskId: "a", commit: "c-a", reason: "no human approved it within 1s (high risk; approval.rejectAfter)" },
    ]);
    expect(kinds(decide(graph, input({ now: since + 5_000, rejectAfterMs: { medium: 1 } })))).toEqual(["end"]);
    // Rejected, the task fails and its dependents are blocked.
    const rejected = replay([{ type: "task.rejected", runId: RUN, taskId: "a", data: { commit: "c-a", by: "me", reason: "too risky" } }], graph);
    expect(phaseOf(rejected, "a")).toEqual({ kind: "ended", status: "failed", reason: "rejected by me: too risky" });
    expect(decide(rejected, input())).toEqual([{ kind: "end-tasks", endings: [{ taskId: "b", status: "blocked", reason: "depends on task a, which did not succeed" }] }]);
  });

  it("a run of one task ends in its task's words", () => {
    const graph = replay([started("only"), ...succeeded("only", 3, "c"), integratedAs("only", "m"), finished("only", "succeeded")], planOf({ id: "only" }));
    expect(decide(graph, input())).toEqual([{ kind: "end", conclusion: { status: "succeeded", reason: "all 1 criteria met on attempt 3", commit: "" }, endings: [] }]);
    const failed = replay([started("only"), finished("only", "failed", "reached the limit of 2 attempts")], planOf({ id: "only" }));
    expect(decide(failed, input())).toMatchObject([{ kind: "end", conclusion: { status: "failed", reason: "reached the limit of 2 attempts" } }]);
  });

  it("a task reopened with new limits runs on, and its blocked dependents wait for it again", () => {
    const reopened = (id: string, to: "running" | "pending"): NewEvent => ({ type: "task.reopened", runId: RUN, taskId: id, data: { to, reason: "reached the limit of 2 attempts" } });
    const plan = planOf({ id: "a" }, { id: "b", dependsOn: ["a"] });
    const ended = replay([started("a"), finished("a", "failed", "reached the limit of 2 attempts"), finished("b", "blocked", "depends on task a, which did not succeed")], plan);
    expect(decide(ended, input())).toMatchObject([{ kind: "end", conclusion: { status: "failed" } }]);
    const again = replay([reopened("a", "running"), reopened("b", "pending")], ended);
    expect(phaseOf(again, "a")).toEqual({ kind: "running", sentBack: undefined });
    expect(phaseOf(again, "b")).toEqual({ kind: "pending" });
    expect(kinds(decide(again, input()))).toEqual(["run a"]);
    const done = replay([...succeeded("a", 3, "c3"), integratedAs("a", "m"), finished("a", "succeeded")], again);
    expect(kinds(decide(done, input()))).toEqual(["start b"]);
    // A task that succeeded is not reopened.
    expect(evolve(done, reopened("a", "running"))).toBe(done);
  });

  it("a failed task blocks exactly its dependents, directly or not, naming it; the rest goes on", () => {
    const graph = replay([started("a"), finished("a", "failed")], planOf({ id: "a" }, { id: "b", dependsOn: ["a"] }, { id: "c", dependsOn: ["b"] }, { id: "d" }));
    expect(decide(graph, input())).toEqual([
      {
        kind: "end-tasks",
        endings: [
          { taskId: "b", status: "blocked", reason: "depends on task a, which did not succeed" },
          { taskId: "c", status: "blocked", reason: "depends on task a, which did not succeed" },
        ],
      },
    ]);
  });

  it("a reverted merge sends its task back with the reason; the second revert blocks it", () => {
    let graph = replay([started("a"), ...succeeded("a", 1, "c1"), reverted("a", "m1", "npm test failed")], planOf({ id: "a" }));
    expect(decide(graph, input())).toEqual([{ kind: "run", taskId: "a", sentBack: "npm test failed" }]);
    graph = replay([...succeeded("a", 2, "c2"), reverted("a", "m2", "still failing")], graph);
    expect(graph.nodes[0]?.reverts).toBe(MAX_REVERTS);
    expect(decide(graph, input())).toEqual([{ kind: "end-tasks", endings: [{ taskId: "a", status: "blocked", reason: "its merge broke the run's criteria 2 times: still failing" }] }]);
  });

  it("a conflict's integrator holds the merge queue until it ends; one that ends without the merge puts the task back", () => {
    let graph = replay([started("a"), ...succeeded("a", 1, "c-a"), started("b"), ...succeeded("b", 1, "c-b"), integratorCreated("a--merge", "a"), started("a--merge")], planOf({ id: "a" }, { id: "b" }));
    expect(phaseOf(graph, "a")).toMatchObject({ kind: "conflicted", integrator: "a--merge" });
    // b waits in the queue: the integrator has the run branch's worktree.
    expect(kinds(decide(graph, input()))).toEqual(["run a--merge"]);
    expect(kinds(decide(graph, input({ busy: new Set(["a--merge"]) })))).toEqual(["wait"]);
    // Stopped before it resolved the conflict: the task goes back to the queue, the next merge comes first.
    graph = replay([finished("a--merge", "stopped")], graph);
    expect(phaseOf(graph, "a")).toMatchObject({ kind: "queued", commit: "c-a" });
    expect(kinds(decide(graph, input()))).toEqual(["integrate a"]);
  });

  it("a task whose merge is all a more urgent pending task waits for keeps its slot through the merge", () => {
    // `b` is ready and `c` (behind `a`, with a chain behind it) is more urgent than `b`.
    let graph = planOf({ id: "a" }, { id: "c", dependsOn: ["a"] }, { id: "e", dependsOn: ["c"] }, { id: "b" });
    graph = replay([started("a"), ...succeeded("a", 1, "c-a")], graph);
    expect(phaseOf(graph, "a")).toMatchObject({ kind: "queued", keepsSlot: true });
    expect(kinds(decide(graph, input({ concurrency: 1 })))).toEqual(["integrate a"]);
  });

  it("a pause lets what runs finish and starts nothing; an abort ends every task that did not end, each saying why", () => {
    const graph = replay([started("a"), ...succeeded("a", 1, "c-a")], planOf({ id: "a" }, { id: "b" }, { id: "c", dependsOn: ["a"] }));
    const paused: TaskConclusion = { status: "paused", reason: "paused on request" };
    expect(kinds(decide(graph, input({ halt: paused })))).toEqual(["integrate a"]);
    expect(decide(graph, input({ halt: paused, merging: "a" }))).toEqual([{ kind: "wait" }]);
    const [end] = decide(graph, input({ aborted: true }));
    expect(end).toMatchObject({ kind: "end", conclusion: { status: "aborted" } });
    expect(end?.kind === "end" ? end.endings : []).toEqual([
      { taskId: "a", status: "aborted", reason: "its work is committed on orch/r/a but was not integrated: the run was aborted" },
      { taskId: "b", status: "aborted", reason: "not started: the run was aborted" },
      { taskId: "c", status: "aborted", reason: "not started: the run was aborted" },
    ]);
  });

  it("the merge a dead supervisor left at the run branch's tip is settled before any more urgent one", () => {
    const graph = replay([started("a"), ...succeeded("a", 1, "c-a"), started("b"), ...succeeded("b", 1, "c-b")], planOf({ id: "a", priority: 9 }, { id: "b" }));
    expect(kinds(decide(graph, input()))).toEqual(["integrate a"]);
    const found = evolve(graph, { type: "task.merge-found", runId: RUN, taskId: "b", data: { merge: "m-b", reverted: false } });
    expect(kinds(decide(found, input()))).toEqual(["integrate b"]);
    // Settled once its outcome is journaled; a finding for a task not in the queue changes nothing.
    expect(evolve(evolve(found, integratedAs("b", "m-b")), finished("b", "succeeded")).settle).toBeUndefined();
    expect(evolve(graph, { type: "task.merge-found", runId: RUN, taskId: "nobody", data: { merge: "m", reverted: false } })).toBe(graph);
  });
});

// ---- model-based: a scripted world and interpreter -------------------------------------------------------------

/** A number in [0, 1) from a seed and a key: the world's answer depends on what the journal holds, not on when. */
function draw(seed: number, key: string): number {
  let h = 2166136261 ^ seed;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 16777619);
  h = Math.imul(h ^ (h >>> 15), 2246822507);
  h = Math.imul(h ^ (h >>> 13), 3266489909);
  return ((h ^ (h >>> 16)) >>> 0) / 2 ** 32;
}

interface World {
  readonly seed: number;
  readonly specs: readonly Spec[];
  readonly concurrency: number;
  /** After this many decisions of the first session, a pause is asked for (the run pauses and is resumed). */
  readonly pauseAt: number | undefined;
}

const arbWorld: fc.Arbitrary<World> = fc
  .record({
    seed: fc.integer({ min: 0, max: 2 ** 30 }),
    size: fc.integer({ min: 1, max: 7 }),
    concurrency: fc.integer({ min: 1, max: 3 }),
    pauseAt: fc.option(fc.integer({ min: 1, max: 12 }), { nil: undefined }),
    links: fc.array(fc.tuple(fc.nat(), fc.nat()), { maxLength: 10 }),
    priorities: fc.array(fc.integer({ min: 0, max: 2 }), { minLength: 7, maxLength: 7 }),
  })
  .map(({ seed, size, concurrency, pauseAt, links, priorities }) => {
    const ids = Array.from({ length: size }, (_, i) => `t${i}`);
    const deps = ids.map(() => new Set<string>());
    // Edges only to earlier tasks: the plan is a DAG.
    for (const [x, y] of links) {
      const later = (x % size) as number;
      const earlier = y % Math.max(1, later);
      if (later > 0) deps[later]?.add(`t${earlier}`);
    }
    const specs = ids.map((id, i) => ({ id, dependsOn: [...(deps[i] ?? [])], priority: priorities[i] ?? 0 }));
    return { seed, specs, concurrency, pauseAt };
  });

/** What the journal says of a task so far: the world's answers are keyed by it. */
function historyOf(events: readonly NewEvent[], id: string) {
  let attempts = 0;
  let waits = 0;
  let integrators = 0;
  for (const e of events) {
    if (e.type === "attempt.finished" && e.taskId === id) attempts++;
    if (e.type === "task.waited" && e.taskId === id) waits++;
    if (e.type === "task.created" && e.data.role === "integrator" && e.data.dependsOn?.[0] === id) integrators++;
  }
  return { attempts, waits, integrators };
}

type Job = { kind: "loop"; id: string } | { kind: "integration"; id: string; commit: string } | { kind: "assessment"; id: string; commit: string };

interface Drive {
  readonly writes: NewEvent[][];
  readonly conclusion: TaskConclusion;
}

/**
 * Plays the world from a journal prefix to the run's end, as the scheduler does: decide, carry the steps out (a
 * start or a merge is journaled when it happens, a loop's or merge's result when its job completes, in an order
 * the world draws), fold every write. A run that pauses or waits is resumed by a new session, like `orch resume`.
 */
function drive(world: World, prefix: readonly NewEvent[][]): Drive {
  const writes: NewEvent[][] = prefix.map((w) => [...w]);
  let graph: RunGraph = replay(writes.flat());
  const write = (...events: NewEvent[]) => {
    writes.push(events);
    for (const event of events) graph = evolve(graph, event);
  };
  const journal = () => writes.flat();
  // The run is made with its plan, in one write.
  if (writes.length === 0) write(...world.specs.map(created));
  const plan = new Map(world.specs.map((s) => [s.id, s]));

  for (let session = 0; session < 20; session++) {
    const jobs: Job[] = [];
    const parked = new Set<string>();
    let halt: TaskConclusion | undefined;
    let merging: string | undefined;
    let decisions = 0;
    // Steps chosen since the last event was folded: none may come again before the next.
    let seen = new Set<string>();
    // Between sessions a human decides on every commit the gate holds: most are approved, some rejected.
    graph.plan.forEach((task) => {
      const phase = phaseOf(graph, task.id);
      if (phase.kind !== "awaiting") return;
      if (draw(world.seed, `human:${task.id}:${phase.commit}`) < 0.75) write({ type: "task.approved", runId: RUN, taskId: task.id, data: { commit: phase.commit, by: "a human" } });
      else {
        const reason = rejectedReason("a human", "not this way");
        write({ type: "task.rejected", runId: RUN, taskId: task.id, data: { commit: phase.commit, by: "a human", reason: "not this way" } }, finished(task.id, "failed", reason));
      }
    });
    let folded = writes.length;
    for (let guard = 0; ; guard++) {
      if (guard > 10_000) throw new Error("the run does not end");
      if (session === 0 && world.pauseAt !== undefined && decisions === world.pauseAt && halt === undefined) halt = { status: "paused", reason: "paused on request" };
      decisions++;
      const busy = new Set(jobs.filter((j) => j.kind === "loop").map((j) => j.id));
      const assessing = new Set(jobs.filter((j) => j.kind === "assessment").map((j) => j.id));
      const steps = decide(graph, { busy, merging, assessing, now: 0, rejectAfterMs: {}, parked, concurrency: world.concurrency, halt, aborted: false, runBranch: BRANCH });
      if (writes.length !== folded) {
        seen = new Set();
        folded = writes.length;
      }
      const [first] = steps;
      if (first?.kind === "end") {
        if (first.endings.length > 0) write(...first.endings.map((e) => finished(e.taskId, e.status, e.reason)));
        if (first.conclusion.status === "paused" || first.conclusion.status === "waiting") break;
        return { writes, conclusion: first.conclusion };
      }
      if (first?.kind === "wait") {
        // The world picks which job under way completes next.
        const at = Math.floor(draw(world.seed, `order:${session}:${guard}`) * jobs.length);
        const [job] = jobs.splice(at, 1);
        if (job === undefined) throw new Error("wait with nothing under way");
        complete(job);
        continue;
      }
      for (const step of steps) {
        const key = JSON.stringify(step);
        expect(seen.has(key), `decide returned ${key} twice for one event`).toBe(false);
        seen.add(key);
        switch (step.kind) {
          case "end-tasks":
            write(...step.endings.map((e) => finished(e.taskId, e.status, e.reason)));
            break;
          case "start":
            // Its dependencies are all integrated when it starts.
            for (const dep of plan.get(step.taskId)?.dependsOn ?? []) expect(phaseOf(graph, dep)).toMatchObject({ kind: "ended", status: "succeeded" });
            write(started(step.taskId));
            jobs.push({ kind: "loop", id: step.taskId });
            break;
          case "run":
            jobs.push({ kind: "loop", id: step.taskId });
            break;
          case "assess":
            jobs.push({ kind: "assessment", id: step.taskId, commit: step.commit });
            break;
          case "integrate":
            expect(merging).toBeUndefined();
            expect([...graph.integrators.values()].every((i) => i.ended), "a merge while an integrator holds the run branch").toBe(true);
            merging = step.taskId;
            jobs.push({ kind: "integration", id: step.taskId, commit: step.commit });
            break;
          case "wait":
          case "end":
            throw new Error(`${step.kind} among other steps`);
        }
      }
    }

    function complete(job: Job): void {
      const events = journal();
      if (job.kind === "assessment") {
        // The gate holds some commits for a human; the rest go on to the merge queue.
        write(assessed(job.id, job.commit, draw(world.seed, `gate:${job.id}:${job.commit}`) < 0.2 ? "human" : "integrate"));
        return;
      }
      if (job.kind === "integration") {
        merging = undefined;
        const node = graph.nodes[graph.plan.findIndex((t) => t.id === job.id)];
        const { integrators } = historyOf(events, job.id);
        const key = `merge:${job.id}:${node?.reverts ?? 0}:${integrators}`;
        const r = draw(world.seed, key);
        const merge = `m-${job.id}-${node?.reverts ?? 0}`;
        if (r < 0.15) write(reverted(job.id, merge, `criteria failed on ${merge}`));
        else if (r < 0.3 && integrators === 0) {
          const id = `${job.id}--merge`;
          write(integratorCreated(id, job.id), started(id));
        } else if (r < 0.35) write(finished(job.id, "blocked", `could not merge ${job.id}`));
        else write(integratedAs(job.id, merge), finished(job.id, "succeeded", `integrated as ${merge}`));
        return;
      }
      const integrator = graph.integrators.get(job.id);
      if (integrator !== undefined) {
        if (draw(world.seed, `integrator:${job.id}`) < 0.8) {
          const merge = `m-${integrator.merged}-resolved`;
          write(finished(job.id, "succeeded", "resolved"), integratedAs(integrator.merged, merge, job.id), finished(integrator.merged, "succeeded", `integrated by ${job.id}`));
        } else write(finished(job.id, "failed", "could not resolve"), finished(integrator.merged, "blocked", `the integrator did not resolve it`));
        return;
      }
      const node = graph.nodes[graph.plan.findIndex((t) => t.id === job.id)];
      const { attempts, waits } = historyOf(events, job.id);
      const r = draw(world.seed, `loop:${job.id}:${node?.reverts ?? 0}:${waits}`);
      if (waits === 0 && r < 0.12) {
        // It waits for a human: parked until the run is resumed.
        write({ type: "task.waited", runId: RUN, taskId: job.id, data: { delayMs: 0, until: 0, reason: "credentials refused" } });
        parked.add(job.id);
        halt ??= { status: "waiting", reason: `task ${job.id} waits for a human` };
      } else if (r < 0.3) write(finished(job.id, "failed", `${job.id} failed`));
      else write(loopSucceeded(job.id, attempts + 1, `c-${job.id}-${node?.reverts ?? 0}`));
    }
  }
  throw new Error("the run was resumed 20 times and did not end");
}

/**
 * What a run left: every task's final phase, and the merges on the run branch. A task blocked by a failure names
 * the failed task it depends on that ended first, which the order jobs complete in decides: here it is checked to
 * be one, and the name left out of the comparison.
 */
function outcomeOf(writes: readonly NewEvent[][]) {
  const graph = replay(writes.flat());
  const events = writes.flat();
  const upstream = (id: string): string[] => graph.plan.find((t) => t.id === id)?.dependsOn.flatMap((dep) => [dep, ...upstream(dep)]) ?? [];
  const phase = (id: string) => {
    const final = phaseOf(graph, id);
    const named = final.kind === "ended" ? /^depends on task (\S+), which did not succeed$/.exec(final.reason)?.[1] : undefined;
    if (named === undefined || final.kind !== "ended") return final;
    expect(upstream(id)).toContain(named);
    expect(phaseOf(graph, named)).toMatchObject({ kind: "ended", status: expect.not.stringMatching(/^succeeded$/) });
    return { ...final, reason: "depends on a task which did not succeed" };
  };
  return {
    phases: graph.plan.map((t) => [t.id, phase(t.id)]),
    integrators: [...graph.integrators.values()].map((i) => [i.id, i.ended]).sort(),
    merges: events.flatMap((e) => (e.type === "task.integrated" ? [`${e.taskId}@${e.data.merge}`] : [])).sort(),
    reverts: events.flatMap((e) => (e.type === "task.reverted" ? [`${e.taskId}@${e.data.merge}`] : [])).sort(),
  };
}

describe("the run graph's fold, cut after every write (model-based)", () => {
  it("every random run ends with every task ended, tasks started only after their dependencies, one merge at a time", () => {
    fc.assert(
      fc.property(arbWorld, (world) => {
        const { writes, conclusion } = drive(world, []);
        const graph = replay(writes.flat());
        for (const node of graph.nodes) expect(node.phase.kind).toBe("ended");
        const all = graph.nodes.every((n) => n.phase.kind === "ended" && n.phase.status === "succeeded");
        expect(conclusion.status === "succeeded").toBe(all);
        // Every task starts once.
        const starts = writes.flat().filter((e) => e.type === "task.started").map((e) => e.taskId);
        expect(new Set(starts).size).toBe(starts.length);
      }),
      { numRuns: 300 },
    );
  });

  it("replayed from any prefix, decide goes on to the same end: every task in the same state, the same merges", () => {
    fc.assert(
      fc.property(arbWorld, (world) => {
        const whole = drive(world, []);
        const expected = outcomeOf(whole.writes);
        for (let cut = 1; cut < whole.writes.length; cut++) {
          const resumed = drive(world, whole.writes.slice(0, cut));
          expect(resumed.conclusion).toEqual(whole.conclusion);
          expect(outcomeOf(resumed.writes)).toEqual(expected);
        }
      }),
      { numRuns: 200 },
    );
  });

  it("replay joins a plan's tasks in one step and ends where folding them one by one ends", () => {
    const events = [
      ...[{ id: "a" }, { id: "b", dependsOn: ["a"] }, { id: "c", priority: 2 }].map(created),
      started("a"),
      ...succeeded("a", 1, "c-a"),
      integratorCreated("a--merge", "a"),
      created({ id: "late" }, 3),
      finished("a--merge", "stopped"),
    ];
    expect(replay(events)).toEqual(events.reduce(evolve, emptyGraph));
  });

  it("folds only the events it names; the rest leave the state as it is", () => {
    const graph = planOf({ id: "a" });
    expect(evolve(graph, { type: "run.noted", runId: RUN, taskId: "a", data: { message: "hi" } })).toBe(graph);
    expect(evolve(emptyGraph, started("nobody"))).toBe(emptyGraph);
  });
});
