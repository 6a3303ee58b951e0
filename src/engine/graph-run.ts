// A planned run: several tasks with an order between them. The run gets its own branch `orch/<run>/_run` at the
// base commit and a worktree of it where merges happen; each task gets a branch `orch/<run>/<task>` and a
// worktree, made when the task starts (from the run branch as it stands then), and a readable file
// `.orch/runs/<run>/tasks/NN-slug.md`. Checking writes nothing; creating journals the run and every task.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { UsageError } from "../core/errors.js";
import type { NewEvent } from "../core/journal.js";
import type { Plan } from "../core/plan.js";
import { TaskGraph } from "../core/dag.js";
import { assertNewBranch, createWorktree, type RepoInfo } from "../git/index.js";
import { renderTaskFile, taskFileName } from "../plan/task-file.js";
import { taskBranch } from "./ids.js";
import { orchPaths, worktreePath, type OrchPaths } from "./paths.js";

/** The id the run branch's own worktree and branch use; a task id never looks like it (no leading underscore). */
export const RUN_BRANCH_TASK = "_run";

export const runBranchOf = (runId: string): string => taskBranch(runId, RUN_BRANCH_TASK);
export const integrationWorktree = (paths: OrchPaths, runId: string): string => worktreePath(paths, runId, RUN_BRANCH_TASK);
export const taskFilesDir = (paths: OrchPaths, runId: string): string => join(paths.dir, "runs", runId, "tasks");

/** The plan's tasks in the order they will be numbered (dependencies first); every branch they need is free. */
export async function checkGraphRun(repo: RepoInfo, runId: string, plan: Plan): Promise<TaskGraph<Plan["tasks"][number]>> {
  let graph: TaskGraph<Plan["tasks"][number]>;
  try {
    graph = new TaskGraph(plan.tasks);
  } catch (error) {
    throw new UsageError(`the plan's task graph is invalid: ${error instanceof Error ? error.message : String(error)}`, {
      hint: "fix dependsOn in the plan so that every id exists and nothing depends on itself, directly or not",
    });
  }
  await assertNewBranch(repo, runBranchOf(runId));
  for (const task of graph.order) await assertNewBranch(repo, taskBranch(runId, task.id));
  return graph;
}

export interface GraphRunInput {
  repo: RepoInfo;
  runId: string;
  baseSha: string;
  criteria: readonly string[];
  graph: TaskGraph<Plan["tasks"][number]>;
}

/**
 * Makes the run branch and its worktree, writes the task files, and returns the `task.created` events (in
 * dependency order, numbered) for the caller to journal with `run.created`.
 */
export async function createGraphRun(input: GraphRunInput): Promise<NewEvent[]> {
  const paths = orchPaths(input.repo.root);
  await createWorktree({ repo: input.repo, path: integrationWorktree(paths, input.runId), branch: runBranchOf(input.runId), baseSha: input.baseSha });
  const dir = taskFilesDir(paths, input.runId);
  mkdirSync(dir, { recursive: true });
  const order = input.graph.order;
  return order.map((task, index): NewEvent => {
    writeFileSync(join(dir, taskFileName(index, task, order.length)), renderTaskFile(task, index, { order, runId: input.runId }));
    return {
      type: "task.created",
      runId: input.runId,
      taskId: task.id,
      data: {
        title: task.title,
        goal: task.goal,
        criteria: [...input.criteria, ...task.verify.filter((v) => !input.criteria.includes(v))],
        branch: taskBranch(input.runId, task.id),
        worktree: worktreePath(paths, input.runId, task.id),
        role: "implementer",
        dependsOn: [...task.dependsOn],
        priority: task.priority,
        risk: task.risk,
        position: index,
        spec: {
          ...(task.before !== undefined ? { before: task.before } : {}),
          ...(task.after !== undefined ? { after: task.after } : {}),
          acceptance: [...task.acceptance],
          files: [...task.files],
          ...(task.testPlan !== undefined ? { testPlan: task.testPlan } : {}),
        },
      },
    };
  });
}
