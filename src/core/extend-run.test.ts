// New limits for a run: which tasks go on and how, and every refusal in plain words.
import { describe, expect, it } from "vitest";
import { planExtension, type ExtendRunView, type ExtendTaskView } from "./extend-run.js";

const HOUR = 3_600_000;
const run = (over: Partial<ExtendRunView> = {}): ExtendRunView => ({ id: "r1", status: "failed", reason: "x", limits: { maxAttempts: 2, maxMs: 3 * HOUR }, drivenMs: HOUR, ...over });
const task = (id: string, over: Partial<ExtendTaskView> = {}): ExtendTaskView => ({ id, status: "failed", reason: "reached the limit of 2 attempts; best progress 0%", attempts: 2, startedAt: 1, role: "implementer", ...over });

describe("planExtension", () => {
  it("reopens a task that ended on its attempt limit, and the tasks blocked behind it as pending", () => {
    const tasks = [
      task("a"),
      task("b", { status: "blocked", reason: "depends on task a, which did not succeed", attempts: 0, startedAt: undefined }),
      task("c", { status: "blocked", reason: "depends on task a, which did not succeed", attempts: 0, startedAt: undefined }),
      task("d", { status: "succeeded", reason: "ok" }),
    ];
    expect(planExtension(run(), tasks, { maxAttempts: 4 })).toEqual({
      ok: true,
      limits: { maxAttempts: 4, maxMs: 3 * HOUR },
      reopen: [
        { taskId: "a", to: "running", reason: "reached the limit of 2 attempts; best progress 0%" },
        { taskId: "b", to: "pending", reason: "depends on task a, which did not succeed" },
        { taskId: "c", to: "pending", reason: "depends on task a, which did not succeed" },
      ],
    });
  });

  it("reopens the tasks of a stopped run: started ones run on, the rest wait", () => {
    const tasks = [task("a", { status: "stopped", reason: "the run was stopped", attempts: 1 }), task("b", { status: "stopped", reason: "not started: the run was stopped", attempts: 0, startedAt: undefined })];
    expect(planExtension(run({ status: "stopped" }), tasks, { maxAttempts: 3 })).toMatchObject({ ok: true, reopen: [{ taskId: "a", to: "running" }, { taskId: "b", to: "pending" }] });
  });

  it("a time limit needs --max-hours above the time driven", () => {
    const timed = [task("a", { reason: "reached the time limit of 1h 00m; best progress 50%", attempts: 1 })];
    expect(planExtension(run(), timed, { maxAttempts: 5 })).toEqual({ ok: false, why: "task a ended on the time limit (reached the time limit of 1h 00m; best progress 50%); give --max-hours above 1h 00m" });
    expect(planExtension(run(), timed, { maxMs: HOUR })).toEqual({ ok: false, why: "--max-hours 1h 00m is not above the 1h 00m run r1 has been driven already" });
    expect(planExtension(run(), timed, { maxMs: 2 * HOUR })).toMatchObject({ ok: true, limits: { maxAttempts: 2, maxMs: 2 * HOUR }, reopen: [{ taskId: "a", to: "running" }] });
  });

  it("refuses a limit not above the attempts used, and an attempt limit left as it was", () => {
    expect(planExtension(run(), [task("a")], { maxAttempts: 2 })).toEqual({ ok: false, why: "--max-attempts 2 is not above the 2 attempts task a has used" });
    expect(planExtension(run(), [task("a")], { maxMs: 9 * HOUR })).toEqual({ ok: false, why: "task a used all its 2 attempts; give --max-attempts above 2" });
  });

  it("refuses a run that succeeded, stalled or was aborted, and a task more attempts cannot mend, naming it", () => {
    expect(planExtension(run({ status: "succeeded" }), [], { maxAttempts: 4 })).toEqual({ ok: false, why: "run r1 succeeded; there is nothing to continue" });
    expect(planExtension(run({ status: "stalled", reason: "no progress" }), [], { maxAttempts: 4 })).toMatchObject({ ok: false, why: expect.stringContaining("run r1 ended stalled (no progress)") });
    expect(planExtension(run({ status: "aborted" }), [], { maxAttempts: 4 })).toMatchObject({ ok: false });
    const budget = [task("a"), task("b", { reason: "the run's budget of $1.00 is spent" })];
    expect(planExtension(run(), budget, { maxAttempts: 4 })).toEqual({ ok: false, why: "task b ended failed (the run's budget of $1.00 is spent); more attempts or time cannot mend that" });
    const blocked = [task("a", { status: "blocked", reason: "cannot_start: no such agent" })];
    expect(planExtension(run(), blocked, { maxAttempts: 4 })).toMatchObject({ ok: false, why: expect.stringContaining("task a ended blocked") });
    const waiting = [task("a", { status: "stopped", reason: "its work is committed on orch/r1/a but was not integrated: the run was stopped" })];
    expect(planExtension(run({ status: "stopped" }), waiting, { maxAttempts: 4 })).toMatchObject({ ok: false, why: expect.stringContaining("waited to be merged") });
  });

  it("a paused run only takes the new limits, which must leave its running tasks an attempt", () => {
    const live = [task("a", { status: "running", reason: undefined, attempts: 3 })];
    expect(planExtension(run({ status: "paused" }), live, { maxAttempts: 5 })).toEqual({ ok: true, limits: { maxAttempts: 5, maxMs: 3 * HOUR }, reopen: [] });
    expect(planExtension(run({ status: "paused" }), live, { maxAttempts: 3 })).toMatchObject({ ok: false, why: "--max-attempts 3 is not above the 3 attempts task a has used" });
  });
});
