// The scheduler of a planned run: tasks whose dependencies are integrated start by priority, each in its own
// worktree branched from the run branch as it stands then, up to `concurrency` at once; a slot that frees up
// takes the next ready task at once (the loop waits on its jobs, never on a timer). A task whose loop succeeds
// joins the merge queue: one merge into the run branch at a time, checked with `git merge-tree` first; a
// conflict becomes an integrator task working in the run branch's worktree with the merge in progress; after
// each merge the run's criteria are verified on the run branch, and a merge that breaks them is reverted and
// the task sent back. A failed task blocks exactly its dependents; the rest of the graph goes on.
import type { Permission } from "../agents/permission.js";
import type { BreakerOptions } from "../core/circuit.js";
import type { RecoveryPolicy } from "../core/recovery-policy.js";
import type { StopMode } from "../core/run.js";
import { TaskGraph } from "../core/dag.js";
import type { TaskStatus, TerminalTaskStatus } from "../core/task.js";
import { finishMerge } from "../git/merge.js";
import { gitOk } from "../git/exec.js";
import { createWorktree } from "../git/index.js";
import type { RunRecord, TaskRecord } from "../store/store.js";
import { convergeTask, type Activity, type ChainLink, type TaskConclusion } from "./converge.js";
import type { EngineDeps } from "./deps.js";
import type { OrchPaths } from "./paths.js";
import type { RestoredTask } from "./restore.js";
import { concludeIntegrator, createIntegrator, integrate, tipOf, type Integration, type MergeContext } from "./merge-queue.js";

/** A task whose merge breaks the run's criteria this many times is blocked instead of sent back again. */
const MAX_REVERTS = 2;

export interface GraphContext extends MergeContext {
  chain: ChainLink[];
  permission: Permission;
  recovery: { policy: RecoveryPolicy; breaker: BreakerOptions };
  paths: OrchPaths;
  stop: AbortSignal;
  stopRequested(): StopMode | undefined;
  concurrency: number;
  /** Restored loop state of tasks that had started, when a supervisor takes the run over. */
  restored: ReadonlyMap<string, RestoredTask>;
  /** A task's loop state as the journal holds it now (to send a task back after a reverted merge). */
  restore(task: TaskRecord): Promise<RestoredTask>;
  onActivity?: ((activity: Activity) => void) | undefined;
}

export type GraphConclusion = TaskConclusion;

type Job =
  | { kind: "loop"; task: TaskRecord; conclusion: TaskConclusion }
  | { kind: "integration"; task: TaskRecord; outcome: Integration };

export async function driveGraph(deps: EngineDeps, ctx: GraphContext): Promise<GraphConclusion> {
  const { run, writer } = ctx;
  const tasks = new Map((await deps.store.listTasks(run.id)).map((t) => [t.id, t]));
  // The plan's graph: implementers only (integrators are made along the way and depend on the task they merge).
  const graph = new TaskGraph([...tasks.values()].filter((t) => t.role === "implementer").sort((a, b) => a.position - b.position));
  const status = new Map<string, TaskRecord["status"] | "integrating">([...tasks.values()].map((t) => [t.id, t.status]));
  const jobs = new Map<string, Promise<Job>>();
  const queue: TaskRecord[] = [];
  const reverts = new Map<string, number>();
  let integrating = false;
  let halt: TaskConclusion | undefined;
  const runningLoops = () => [...jobs.keys()].filter((k) => k.startsWith("loop:")).length;

  const finishTask = async (task: TaskRecord, final: TerminalTaskStatus, reason: string, commit?: string) => {
    status.set(task.id, final);
    await writer.write({ type: "task.finished", runId: run.id, taskId: task.id, data: { status: final, reason, ...(commit !== undefined ? { commit } : {}) } });
  };
  /** Every pending task that depends, directly or not, on `failed` is blocked, saying which task it waited for. */
  const blockDependents = async (failed: TaskRecord) => {
    for (const task of graph.blockedBy(failed.id)) {
      if (status.get(task.id) !== "pending") continue;
      await finishTask(task, "blocked", `depends on task ${failed.id}, which did not succeed`);
    }
  };

  const startLoop = (task: TaskRecord, restored: RestoredTask | undefined, commit?: (message: string) => Promise<string>, notes?: string[]) => {
    status.set(task.id, "running");
    const job = convergeTask(deps, {
      run,
      task: { ...task, status: "running" },
      chain: ctx.chain,
      permission: ctx.permission,
      recovery: ctx.recovery,
      paths: ctx.paths,
      writer,
      abort: ctx.abort,
      stop: ctx.stop,
      stopRequested: ctx.stopRequested,
      deadline: ctx.deadline,
      restored,
      commit,
      notes,
      ...(ctx.onActivity !== undefined ? { onActivity: ctx.onActivity } : {}),
    }).then((conclusion): Job => ({ kind: "loop", task, conclusion }));
    jobs.set(`loop:${task.id}`, job);
  };

  const startTask = async (task: TaskRecord) => {
    if (task.status === "pending") {
      // Branched from the run branch as it stands now, so the task sees its dependencies' work.
      const tip = (await gitOk(["rev-parse", "HEAD"], ctx.integration)).trim();
      await createWorktree({ repo: { root: run.repoRoot }, path: task.worktree, branch: task.branch, baseSha: tip });
      await writer.write({ type: "task.started", runId: run.id, taskId: task.id, data: {} });
    }
    startLoop(task, ctx.restored.get(task.id));
  };

  const startIntegration = (task: TaskRecord) => {
    integrating = true;
    status.set(task.id, "integrating");
    const job = integrate(deps, ctx, task).then((outcome): Job => ({ kind: "integration", task, outcome }));
    jobs.set(`integration:${task.id}`, job);
  };

  // A supervisor that takes a run over picks up where the journal stood: loops that were running go on, and a
  // task whose loop had succeeded joins the merge queue.
  for (const task of tasks.values()) {
    if (task.status !== "running" || task.role !== "implementer") continue;
    if (ctx.restored.get(task.id)?.succeeded !== undefined) {
      status.set(task.id, "integrating");
      queue.push(task);
    } else {
      startLoop(task, ctx.restored.get(task.id));
    }
  }

  for (;;) {
    const requested = ctx.stopRequested();
    if (halt === undefined && requested !== undefined && requested !== "abort") {
      halt = requested === "pause" ? { status: "paused", reason: "paused on request" } : { status: "stopped", reason: "stopped on request" };
    }
    if (halt === undefined && !ctx.abort.aborted) {
      for (const task of graph.ready(graphStatus(status))) {
        if (runningLoops() >= ctx.concurrency) break;
        await startTask(task);
      }
    }
    if (!integrating && queue.length > 0 && !ctx.abort.aborted) {
      const next = queue.shift();
      if (next !== undefined) startIntegration(next);
    }
    if (jobs.size === 0) break;
    const done = await Promise.race(jobs.values());
    jobs.delete(`${done.kind}:${done.task.id}`);

    if (done.kind === "loop") {
      const { task, conclusion } = done;
      if (task.role === "integrator") {
        await concludeIntegrator(ctx, tasks, task, conclusion, { finishTask, blockDependents, status });
        integrating = false;
        continue;
      }
      switch (conclusion.status) {
        case "succeeded":
          status.set(task.id, "integrating");
          queue.push(task);
          break;
        case "waiting":
        case "paused":
          // The task keeps its state; the run waits (or pauses) once what runs has finished.
          status.set(task.id, "running");
          halt ??= conclusion;
          break;
        case "aborted":
        case "stopped":
          await finishTask(task, conclusion.status, conclusion.reason);
          halt ??= conclusion;
          break;
        default:
          await finishTask(task, conclusion.status, conclusion.reason);
          await blockDependents(task);
      }
      continue;
    }

    const { task, outcome } = done;
    switch (outcome.kind) {
      case "integrated":
        integrating = false;
        await writer.write({ type: "task.integrated", runId: run.id, taskId: task.id, data: { merge: outcome.merge } });
        await finishTask(task, "succeeded", `integrated into ${run.branch} as ${outcome.merge.slice(0, 12)}; the run's criteria pass there`, await tipOf(task.worktree));
        break;
      case "reverted": {
        integrating = false;
        await writer.write({ type: "task.reverted", runId: run.id, taskId: task.id, data: { merge: outcome.merge, revert: outcome.revert, reason: outcome.reason } });
        const count = (reverts.get(task.id) ?? 0) + 1;
        reverts.set(task.id, count);
        if (count >= MAX_REVERTS) {
          await finishTask(task, "blocked", `its merge broke the run's criteria ${count} times: ${outcome.reason}`);
          await blockDependents(task);
        } else {
          // Sent back: the task goes on in its worktree with the run branch merged in and the failure in its handoff.
          await gitOk(["merge", "--quiet", "--no-edit", run.branch], task.worktree).catch(() => undefined);
          const restored = await ctx.restore(task);
          startLoop(task, { ...restored, succeeded: undefined }, undefined, [
            `Your earlier work on this task was merged into the run branch ${run.branch}, and the run's criteria failed there, so the merge was reverted: ${outcome.reason}. The run branch is now merged into this worktree; make the criteria pass with it.`,
          ]);
        }
        break;
      }
      case "conflict": {
        const integrator = await createIntegrator(deps, ctx, tasks, task, outcome.paths);
        tasks.set(integrator.id, integrator);
        status.set(integrator.id, "running");
        // The merge commit says what it integrates, like a clean one, and who resolved it.
        const subject = `orch: integrate task ${task.id} into the run`;
        startLoop(integrator, undefined, (message) =>
          finishMerge({ worktree: ctx.integration, message: `${subject}\n\nConflicts in ${outcome.paths.join(", ")} resolved by task ${integrator.id}.\n\n${message}` }),
        );
        break;
      }
      case "failed":
        integrating = false;
        await finishTask(task, "blocked", outcome.reason);
        await blockDependents(task);
        break;
    }
  }
  return conclude(run, tasks, status, halt, ctx.abort);
}

/** Statuses as the graph knows them: a task waiting in the merge queue is still running. */
function graphStatus(status: ReadonlyMap<string, string>): Map<string, TaskStatus> {
  return new Map([...status].map(([id, s]) => [id, s === "integrating" ? "running" : (s as TaskStatus)]));
}


/** How the run ends: every task succeeded; or why not, naming the tasks. */
function conclude(run: RunRecord, tasks: ReadonlyMap<string, TaskRecord>, status: ReadonlyMap<string, string>, halt: TaskConclusion | undefined, abort: AbortSignal): GraphConclusion {
  if (halt !== undefined && (halt.status === "waiting" || halt.status === "paused")) return halt;
  const implementers = [...tasks.values()].filter((t) => t.role === "implementer");
  const succeeded = implementers.filter((t) => status.get(t.id) === "succeeded");
  if (succeeded.length === implementers.length) {
    return { status: "succeeded", reason: `all ${implementers.length} tasks integrated into ${run.branch}; the run's criteria pass there`, commit: "" };
  }
  if (halt !== undefined) return halt;
  if (abort.aborted) return { status: "aborted", reason: "aborted" };
  const others = implementers.filter((t) => status.get(t.id) !== "succeeded").map((t) => `${t.id} (${status.get(t.id) ?? "?"})`);
  return { status: "failed", reason: `${succeeded.length} of ${implementers.length} tasks integrated into ${run.branch}; not done: ${others.join(", ")}` };
}


