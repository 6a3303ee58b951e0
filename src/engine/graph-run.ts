// A planned run: several tasks with an order between them. The run gets its own branch `orch/<run>/_run` at the
// base commit and a worktree of it where merges happen; each task gets a branch `orch/<run>/<task>` and a
// worktree under the run's worktree folder (paths.ts), made when the task starts (from the run branch as it
// stands then), and a readable file
// `.orch/runs/<run>/tasks/NN-slug.md`. Checking writes nothing; creating journals the run and every task.
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { UsageError } from "../core/errors.js";
import type { NewEvent } from "../core/journal.js";
import type { Plan } from "../core/plan.js";
import { TaskGraph } from "../core/dag.js";
import { assertNewBranch, assertNewBranches, createWorktree, type RepoInfo } from "../git/index.js";
import { renderTaskFileAt, taskFileIndex } from "../plan/task-file.js";
import { linkDependencies } from "./dependencies.js";
import { taskBranch } from "./ids.js";
import { worktreePath, type OrchPaths } from "./paths.js";

/** The id the run branch's own worktree and branch use; a task id never looks like it (no leading underscore). */
export const RUN_BRANCH_TASK = "_run";

export const runBranchOf = (runId: string): string => taskBranch(runId, RUN_BRANCH_TASK);
export const integrationWorktree = (paths: OrchPaths, runId: string): string => worktreePath(paths, runId, RUN_BRANCH_TASK);
export const taskFilesDir = (paths: OrchPaths, runId: string): string => join(paths.dir, "runs", runId, "tasks");

/** The plan's graph (tasks numbered dependencies first), with every branch the run needs checked free; without a plan (the planner makes it), the run branch only. */
export async function checkGraphRun(repo: RepoInfo, runId: string, plan: Plan | undefined): Promise<TaskGraph<Plan["tasks"][number]> | undefined> {
  if (plan === undefined) {
    await assertNewBranch(repo, runBranchOf(runId));
    return undefined;
  }
  const graph = graphOf(plan);
  await assertNewBranches(repo, [runBranchOf(runId), ...graph.order.map((task) => taskBranch(runId, task.id))]);
  return graph;
}

/** The run branch at the base commit, and its worktree, where merges happen (and the planner reads). */
export async function createRunBranch(repo: RepoInfo, paths: OrchPaths, runId: string, baseSha: string): Promise<void> {
  // checkGraphRun checked the branch free when the run was planned (git still refuses one that exists by now).
  await createWorktree({ repo, path: integrationWorktree(paths, runId), branch: runBranchOf(runId), baseSha, branchChecked: true });
  // The run's criteria are verified here after each merge.
  await linkDependencies(repo.root, integrationWorktree(paths, runId));
}

/** The planner's task: it works (read-only) in the run branch's worktree. */
export function plannerTaskEvent(paths: OrchPaths, runId: string, goal: string): NewEvent {
  return {
    type: "task.created",
    runId,
    taskId: PLANNER_TASK,
    data: { title: "plan the run", goal, criteria: [], branch: runBranchOf(runId), worktree: integrationWorktree(paths, runId), role: "planner" },
  };
}

/** The id of a run's planner task. */
export const PLANNER_TASK = "plan";

/** The `task.created` events of the plan's tasks, in dependency order, numbered, for the caller to journal. */
export function taskEvents(paths: OrchPaths, runId: string, criteria: readonly string[], graph: TaskGraph<Plan["tasks"][number]>): NewEvent[] {
  return graph.order.map((task, index): NewEvent => {
    return {
      type: "task.created",
      runId,
      taskId: task.id,
      data: {
        title: task.title,
        goal: task.goal,
        criteria: [...criteria, ...task.verify.filter((v) => !criteria.includes(v))],
        branch: taskBranch(runId, task.id),
        worktree: worktreePath(paths, runId, task.id),
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

/** Task files rendered and written per batch: the event loop gets a turn between batches. */
const FILE_BATCH = 250;

/**
 * Writes the readable task files of a plan, in batches that leave the event loop free in between, so that a big
 * plan's run starts its first tasks while its files are written (10,000 files took 5 s of a 10 s start).
 */
export async function writeTaskFiles(paths: OrchPaths, runId: string, graph: TaskGraph<Plan["tasks"][number]>): Promise<void> {
  const dir = taskFilesDir(paths, runId);
  await mkdir(dir, { recursive: true });
  const order = graph.order;
  const index = taskFileIndex(order);
  for (let from = 0; from < order.length; from += FILE_BATCH) {
    const batch = order.slice(from, from + FILE_BATCH).map((task, i) => renderTaskFileAt(task, from + i, index, runId));
    await Promise.all(batch.map((file) => writeFile(join(dir, file.name), file.text)));
  }
}

/** A plan's graph, or a UsageError saying what is wrong with it. */
export function graphOf(plan: Plan): TaskGraph<Plan["tasks"][number]> {
  try {
    return new TaskGraph(plan.tasks);
  } catch (error) {
    throw new UsageError(`the plan's task graph is invalid: ${error instanceof Error ? error.message : String(error)}`, {
      hint: "fix dependsOn in the plan so that every id exists and nothing depends on itself, directly or not",
    });
  }
}
