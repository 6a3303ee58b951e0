import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { TaskGraph } from "../core/dag.js";
import { PlannedTask } from "../core/plan.js";
import { taskEvents, writeTaskFiles } from "./graph-run.js";
import { orchPaths } from "./paths.js";

const roots: string[] = [];
afterEach(() => {
  for (const root of roots.splice(0)) rmSync(root, { recursive: true, force: true });
});

/** A chain-like plan of `n` tasks, each task's fields read through a proxy that counts every read. */
function countedPlan(n: number): { tasks: PlannedTask[]; reads: () => number } {
  let reads = 0;
  const tasks = Array.from({ length: n }, (_, i) => {
    const task = PlannedTask.parse({
      id: `t-${i}`,
      title: `Task number ${i}`,
      goal: `do ${i}`,
      dependsOn: i === 0 ? [] : [`t-${i - 1}`, ...(i > 1 ? [`t-${Math.floor(i / 2)}`] : [])],
    });
    return new Proxy(task, {
      get(target, key, receiver) {
        reads++;
        return Reflect.get(target, key, receiver) as unknown;
      },
    });
  });
  return { tasks, reads: () => reads };
}

/** The reads of task fields that journaling a plan's tasks and writing their files costs. */
async function readsFor(n: number): Promise<number> {
  const root = mkdtempSync(join(tmpdir(), "orch-graph-run-"));
  roots.push(root);
  const plan = countedPlan(n);
  const graph = new TaskGraph(plan.tasks);
  const before = plan.reads();
  const events = taskEvents(orchPaths(root), "r-1", ["true"], graph);
  await writeTaskFiles(orchPaths(root), "r-1", graph);
  expect(events).toHaveLength(n);
  expect(readdirSync(join(root, ".orch", "runs", "r-1", "tasks"))).toHaveLength(n);
  return plan.reads() - before;
}

describe("taskEvents and writeTaskFiles", () => {
  // 84 s to start a plan of 10,000 tasks came from every task's file looking at every other task.
  it("do work linear in the plan: twice the tasks, twice the reads, not four times", async () => {
    const small = await readsFor(400);
    const large = await readsFor(800);
    expect(large / small).toBeLessThan(2.2);
    expect(large).toBeLessThan(800 * 60);
  });
});
