import { describe, expect, it } from "vitest";
import { describeSchedule, scheduleFigures } from "./schedule-figures.js";

describe("scheduleFigures", () => {
  const tasks = [
    { id: "plan", role: "planner", status: "succeeded" },
    { id: "a", role: "implementer", status: "succeeded" },
    { id: "b", role: "implementer", status: "failed" },
    { id: "c", role: "implementer", status: "blocked" },
    { id: "d", role: "implementer", status: "running" },
    { id: "a--merge", role: "integrator", status: "succeeded" },
  ];

  it("counts tasks, cycles, parallelism, idle slots and the success rate from tasks and attempts", () => {
    const f = scheduleFigures({
      concurrency: 2,
      startedAt: 0,
      endedAt: 10_000,
      tasks,
      attempts: [
        { taskId: "a", startedAt: 0, endedAt: 4_000 },
        { taskId: "b", startedAt: 0, endedAt: 3_000 },
        { taskId: "b", startedAt: 3_000, endedAt: 6_000 },
        { taskId: "a--merge", startedAt: 4_000, endedAt: 5_000 },
        // Still running: counted up to the end of the window.
        { taskId: "d", startedAt: 6_000, endedAt: undefined },
      ],
    });
    expect(f.tasks).toEqual({ total: 4, succeeded: 1, failed: 1, blocked: 1, running: 1, pending: 0 });
    // 4 implementer attempts over 3 implementer tasks that started.
    expect(f.cyclesPerTask).toBeCloseTo(4 / 3, 10);
    expect(f.avgAttemptMs).toBe((4_000 + 3_000 + 3_000 + 1_000 + 4_000) / 5);
    expect(f.parallelism).toBeCloseTo(15_000 / 10_000, 10);
    expect(f.idleSlotMs).toBe(2 * 10_000 - 15_000);
    expect(f.successRate).toBeCloseTo(1 / 3, 10);
    expect(describeSchedule(f, 2, (ms) => `${ms / 1000}s`)).toBe(
      "1/4 tasks done · 1 running · 1 failed · 1 blocked · parallelism 1.5 of 2 · idle slots 5s · 1.3 attempts a task, 3s each · success 33%",
    );
  });

  it("a run that has not started a task yet has no rate, no parallelism, and its slots all idle", () => {
    const f = scheduleFigures({ concurrency: 4, startedAt: 1_000, endedAt: 3_000, tasks: tasks.slice(1, 2).map((t) => ({ ...t, status: "pending" })), attempts: [] });
    expect(f).toEqual({
      tasks: { total: 1, succeeded: 0, failed: 0, blocked: 0, running: 0, pending: 1 },
      cyclesPerTask: 0,
      avgAttemptMs: 0,
      parallelism: 0,
      idleSlotMs: 8_000,
      successRate: null,
    });
  });
});
