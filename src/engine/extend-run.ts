// `orch resume RUN --max-attempts N [--max-hours H]`: journals a run's new limits and reopens the tasks that ended
// on a limit, in one write (`run.extended` + `task.reopened` × k), or refuses in plain words and writes nothing.
// Driving the reopened run is `driveRun`'s, as for any paused run: each task's loop folds on from its journal.
import { UsageError } from "../core/errors.js";
import { planExtension, type ExtendLimits } from "../core/extend-run.js";
import type { NewEvent } from "../core/journal.js";
import { isTerminalRun } from "../core/run.js";
import type { RunRecord, Store } from "../store/store.js";
import { restoreWorktree } from "../git/index.js";
import { drivenBefore } from "./drive-run.js";
import { linkDependencies } from "./dependencies.js";
import { integrationWorktree } from "./graph-run.js";
import { runPaths } from "./paths.js";

export async function extendRun(store: Store, run: RunRecord, asked: Partial<ExtendLimits>, by: string, now: number): Promise<void> {
  const tasks = await store.listTasks(run.id);
  const from = run.status === "waiting" ? "waiting" : run.status === "running" ? "crashed" : "paused";
  const drivenMs = run.status === "pending" ? 0 : await drivenBefore(store, run, from, now);
  const extension = planExtension({ id: run.id, status: run.status, reason: run.reason, limits: run.limits, drivenMs }, tasks, asked);
  if (!extension.ok) {
    throw new UsageError(extension.why, { hint: isTerminalRun(run.status) ? `\`orch report ${run.id}\` shows how it ended` : `\`orch status ${run.id}\` shows where it stands` });
  }
  // The run's end removed the run branch's worktree (and `orch gc` may have removed task worktrees): the run goes
  // on in them, so they are made again on their branches, before the journal says the run goes on.
  // Made again, a worktree gets the checkout's dependencies linked as a new one does.
  const repo = { root: run.repoRoot };
  const restore = async (path: string, branch: string) => {
    if (await restoreWorktree({ repo, path, branch })) await linkDependencies(run.repoRoot, path);
  };
  await restore(integrationWorktree(runPaths(run), run.id), run.branch);
  for (const r of extension.reopen) {
    const task = tasks.find((t) => t.id === r.taskId);
    if (task !== undefined && r.to === "running") await restore(task.worktree, task.branch);
  }
  const previous = { maxAttempts: run.limits.maxAttempts, maxMs: run.limits.maxMs };
  const events: NewEvent[] = [
    { type: "run.extended", runId: run.id, data: { ...extension.limits, previous, by } },
    ...extension.reopen.map((r): NewEvent => ({ type: "task.reopened", runId: run.id, taskId: r.taskId, data: { to: r.to, reason: r.reason } })),
  ];
  await store.append(events);
}
