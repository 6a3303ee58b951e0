// The scheduler of a planned run: tasks whose dependencies are integrated start by priority, each in its own
// worktree branched from the run branch as it stands then, up to `concurrency` at once; a slot that frees up
// takes the next ready task at once (the loop waits on its jobs, never on a timer). A task whose loop succeeds
// joins the merge queue: one merge into the run branch at a time, checked with `git merge-tree` first; a
// conflict becomes an integrator task working in the run branch's worktree with the merge in progress; after
// each merge the run's criteria are verified on the run branch, and a merge that breaks them is reverted and
// the task sent back. A failed task blocks exactly its dependents; the rest of the graph goes on.
import { existsSync } from "node:fs";
import type { Permission } from "../agents/permission.js";
import type { BreakerOptions } from "../core/circuit.js";
import type { RecoveryPolicy } from "../core/recovery-policy.js";
import type { StopMode } from "../core/run.js";
import { TaskGraph } from "../core/dag.js";
import type { NewEvent } from "../core/journal.js";
import { isTerminalTask, type TaskStatus, type TerminalTaskStatus } from "../core/task.js";
import { fallbackIdentity } from "../git/commit.js";
import { catchUp, finishMerge } from "../git/merge.js";
import { createWorktree, resetWorktree } from "../git/index.js";
import type { RunRecord, TaskRecord } from "../store/store.js";
import type { TaskConclusion } from "./converge.js";
import { localTaskRunner, type TaskActivity, type TaskRunner } from "./task-runner.js";
import type { ChainLink } from "./model-chain.js";
import type { EngineDeps } from "./deps.js";
import type { OrchPaths } from "./paths.js";
import { successOf, type TaskLoop } from "../core/task-loop.js";
import { Reverts, unsettledAtTip } from "./takeover.js";
import { abortedConclusion } from "../core/interrupt.js";
import { WorktreesAhead } from "./worktrees-ahead.js";
import { concludeIntegrator, createIntegrator, integrate, tipOf, type Integration, type MergeContext } from "./merge-queue.js";

/** A task whose merge breaks the run's criteria this many times is blocked instead of sent back again. */
const MAX_REVERTS = 2;

export interface GraphContext extends Omit<MergeContext, "identity"> {
  chain: ChainLink[];
  permission: Permission;
  recovery: { policy: RecoveryPolicy; breaker: BreakerOptions };
  paths: OrchPaths;
  stop: AbortSignal;
  stopRequested(): StopMode | undefined;
  concurrency: number;
  /** Restored loop state of tasks that had started, when a supervisor takes the run over. */
  restored: ReadonlyMap<string, TaskLoop>;
  /** A task's loop as the journal holds it now (to send a task back after a reverted merge). */
  restore(task: TaskRecord): Promise<TaskLoop>;
  onActivity?: ((activity: TaskActivity) => void) | undefined;
  /** Who carries out a task's attempts (default: this process). */
  runner?: TaskRunner | undefined;
}

export type GraphConclusion = TaskConclusion;

/** Statuses of a dependency that mean it has started: its dependents will be ready next. */
const started = new Set<string>(["running", "integrating", "succeeded"]);

type Job =
  | { kind: "loop"; task: TaskRecord; conclusion: TaskConclusion }
  /** A task about to start found the run stopping: it stays pending and never started. */
  | { kind: "unstarted"; task: TaskRecord }
  | { kind: "integration"; task: TaskRecord; outcome: Integration };

export async function driveGraph(deps: EngineDeps, graphContext: GraphContext): Promise<GraphConclusion> {
  const ctx = { ...graphContext, identity: await fallbackIdentity(graphContext.integration) };
  const { run, writer } = ctx;
  const tasks = new Map((await deps.store.listTasks(run.id)).map((t) => [t.id, t]));
  // The plan's graph: implementers only (integrators are made along the way and depend on the task they merge).
  const graph = new TaskGraph([...tasks.values()].filter((t) => t.role === "implementer").sort((a, b) => a.position - b.position));
  /** A run of one task: it ends as its task does. */
  const single = graph.tasks.length === 1;
  const status = new Map<string, TaskRecord["status"] | "integrating">([...tasks.values()].map((t) => [t.id, t.status]));
  const jobs = new Map<string, Promise<Job>>();
  const queue: TaskRecord[] = [];
  const reverts = await Reverts.read(deps.store, run.id);
  let integrating = false;
  let halt: TaskConclusion | undefined;
  /** The run branch's verified tip: what new tasks branch from, and what the next merge goes onto. */
  let runTip = await tipOf(ctx.integration);
  // Every branch of the plan was checked free when the run was made; a worktree made ahead belongs to a task that
  // has not started, so moving it to a newer tip is a reset.
  const ahead = new WorktreesAhead<TaskRecord>({
    make: (task, base) => createWorktree({ repo: { root: run.repoRoot }, path: task.worktree, branch: task.branch, baseSha: base, branchChecked: true }),
    move: (task, to) => resetWorktree(task.worktree, to),
  });
  /** Each task's verified commit, from its loop's conclusion, for the merge queue. */
  const commits = new Map<string, string>();
  /** Why each task ended (or, for one in the merge queue, why its loop succeeded): a run of one task ends with it. */
  const reasons = new Map<string, string>();
  // Among tasks of equal priority, the one with the longest chain of dependents first: it gates the most.
  const chain = graph.chainLengths();
  const byUrgency = (a: TaskRecord, b: TaskRecord) => b.priority - a.priority || (chain.get(b.id) ?? 0) - (chain.get(a.id) ?? 0) || a.position - b.position;
  const urgencyOrder = [...graph.tasks].sort(byUrgency);
  const urgencyRank = new Map(urgencyOrder.map((task, rank) => [task.id, rank]));
  // Each task's attempts go through the runner: this process's convergence loop, unless the caller gives another.
  const runner =
    ctx.runner ??
    localTaskRunner(deps, {
      run,
      chain: ctx.chain,
      permission: ctx.permission,
      recovery: ctx.recovery,
      paths: ctx.paths,
      writer,
      abort: ctx.abort,
      stop: ctx.stop,
      stopRequested: ctx.stopRequested,
      deadline: ctx.deadline,
      identity: ctx.identity,
      ...(ctx.onActivity !== undefined ? { onActivity: ctx.onActivity } : {}),
    });
  /** Tasks in the merge queue that keep their slot until merged, for a dependent their merge makes ready. */
  const reserved = new Set<string>();
  const slotsTaken = () => [...jobs.keys()].filter((k) => k.startsWith("loop:")).length + reserved.size;

  /**
   * A task that joins the merge queue keeps its slot through its merge when that merge is all a pending task
   * waits for (its other dependencies merged or queued) and that task is more urgent than any ready now: the
   * slot is then there for it the moment the merge is verified, instead of going to a less urgent task for the
   * whole of that task's run while the urgent one waits for the next slot to free.
   */
  const keepsSlot = (queued: TaskRecord): boolean => {
    const merging = (id: string) => id === queued.id || status.get(id) === "succeeded" || status.get(id) === "integrating";
    const unlocked = graph.dependentsOf(queued.id).filter((d) => status.get(d.id) === "pending" && d.dependsOn.every(merging));
    const [first] = unlocked.sort(byUrgency);
    if (first === undefined) return false;
    const [readyFirst] = graph.ready(graphStatus(status)).sort(byUrgency);
    return readyFirst === undefined || byUrgency(first, readyFirst) < 0;
  };

  /** A task's end as the scheduler keeps it, and its event for the journal (written by the caller, with others). */
  const ending = (task: TaskRecord, final: TerminalTaskStatus, reason: string, commit?: string): NewEvent => {
    status.set(task.id, final);
    reasons.set(task.id, reason);
    ahead.drop(task.id);
    return { type: "task.finished", runId: run.id, taskId: task.id, data: { status: final, reason, ...(commit !== undefined ? { commit } : {}) } };
  };
  const finishTask = async (task: TaskRecord, final: TerminalTaskStatus, reason: string, commit?: string) => {
    await writer.write(ending(task, final, reason, commit));
  };
  /** Every pending task that depends, directly or not, on `failed` is blocked (in one write), saying which task it waited for. */
  const blockDependents = async (failed: TaskRecord) => {
    const blocked = graph.blockedBy(failed.id).filter((task) => status.get(task.id) === "pending");
    if (blocked.length > 0) await writer.write(...blocked.map((task) => ending(task, "blocked", `depends on task ${failed.id}, which did not succeed`)));
  };

  /** `prepare` sets the task up and says whether it may start (false: the run is stopping). */
  const startLoop = (task: TaskRecord, state: TaskLoop | undefined, commit?: (message: string) => Promise<string>, notes?: string[], prepare?: () => Promise<boolean>) => {
    status.set(task.id, "running");
    const loop = () => runner.run({ task, state, commit, notes });
    // Setting the task up is part of its job, so the loop below never waits on it.
    const job = (async (): Promise<Job> => {
      try {
        if ((await prepare?.()) === false) return { kind: "unstarted", task };
      } catch (error) {
        return { kind: "loop", task, conclusion: { status: "failed", reason: `could not set the task up: ${error instanceof Error ? error.message : String(error)}` } };
      }
      return { kind: "loop", task, conclusion: await loop() };
    })();
    jobs.set(`loop:${task.id}`, job);
  };

  const startTask = (task: TaskRecord) => {
    if (task.status !== "pending") {
      startLoop(task, ctx.restored.get(task.id));
      return;
    }
    // From the run branch's verified tip as it stands now, so the task sees its dependencies' work.
    const base = runTip;
    startLoop(task, undefined, undefined, undefined, async () => {
      await ahead.take(task, base);
      // A stop, pause or abort asked for while the worktree was made: no task starts after it. Read from the
      // journal, not only from the watcher, which hears a request a few milliseconds after it is written.
      if (halt !== undefined || ctx.abort.aborted || (await deps.store.stopRequestOf(run.id)) !== undefined) return false;
      await writer.write({ type: "task.started", runId: run.id, taskId: task.id, data: {} });
      return true;
    });
  };

  /**
   * Worktrees are made ahead for the most urgent pending tasks whose dependencies have all started (they will
   * be ready next), at most one per agent slot, from the current tip: starting them then costs a reset at most.
   */
  const lookAhead = () => {
    if (halt !== undefined || ctx.abort.aborted) return;
    for (const task of urgencyOrder) {
      if (ahead.size >= ctx.concurrency) break;
      if (status.get(task.id) !== "pending" || ahead.has(task.id)) continue;
      if (task.dependsOn.every((id) => started.has(status.get(id) ?? "pending")) && !existsSync(task.worktree)) ahead.make(task, runTip, urgencyRank.get(task.id));
    }
  };

  /** A merge is made (not yet verified): the worktrees of the tasks it is the last dependency of follow it now. */
  const followMerge = (merged: TaskRecord, merge: string) => {
    for (const dependent of graph.dependentsOf(merged.id)) {
      if (status.get(dependent.id) !== "pending") continue;
      if (dependent.dependsOn.every((id) => id === merged.id || status.get(id) === "succeeded")) ahead.advance(dependent, merge);
    }
  };

  const startIntegration = (task: TaskRecord) => {
    integrating = true;
    status.set(task.id, "integrating");
    const commit = commits.get(task.id) ?? successOf(ctx.restored.get(task.id))?.commit ?? "";
    // Only a task whose success came from the journal can be merged already (its supervisor died after the merge).
    const options = { mayBeMerged: !commits.has(task.id), onMerge: (merge: string) => followMerge(task, merge) };
    const job = integrate(deps, ctx, task, runTip, commit, options).then((outcome): Job => ({ kind: "integration", task, outcome }));
    jobs.set(`integration:${task.id}`, job);
  };

  /**
   * A task whose merge broke the run's criteria goes on in its worktree with the run branch merged in and the
   * failure in its prompt. Unattended like every commit orch makes: no hook, no signing prompt, orch's identity
   * where the user has none. Merging the run branch in again is a no-op, so a supervisor taking the run over
   * does it again for a task sent back before, in case its predecessor died before it was done.
   */
  const sendBack = async (task: TaskRecord, state: TaskLoop | undefined) => {
    await catchUp({ worktree: task.worktree, from: run.branch, identity: ctx.identity }).catch(() => false);
    startLoop(task, state, undefined, [
      `Your earlier work on this task was merged into the run branch ${run.branch}, and the run's criteria failed there, so the merge was reverted: ${reverts.reason(task.id) ?? "?"}. The run branch is now merged into this worktree; make the criteria pass with it.`,
    ]);
  };

  // A supervisor that takes a run over picks up where the journal stood: loops that were running go on (a task
  // sent back is sent back again), and a task whose loop had succeeded joins the merge queue.
  for (const task of tasks.values()) {
    if (task.status !== "running" || task.role !== "implementer") continue;
    const restored = ctx.restored.get(task.id);
    // The fold says whether a journaled success still stands: one merged and reverted since is no success.
    if (successOf(restored) !== undefined) {
      status.set(task.id, "integrating");
      queue.push(task);
    } else if (restored?.sentBack !== undefined) {
      await sendBack(task, restored);
    } else {
      startLoop(task, restored);
    }
  }
  // A task that failed just before its supervisor died may not have blocked its dependents yet.
  for (const task of graph.tasks) if (["failed", "blocked", "stalled"].includes(status.get(task.id) ?? "")) await blockDependents(task);
  // The merge the dead supervisor made last (and maybe had not verified, or had reverted but not journaled) is at the
  // run branch's tip: its task is settled first, before any other merge goes on top of it and is blamed for it.
  let settleFirst = await unsettledAtTip(ctx.integration, runTip, queue, (task) => successOf(ctx.restored.get(task.id))?.commit);

  for (;;) {
    const requested = ctx.stopRequested();
    if (halt === undefined && requested !== undefined && requested !== "abort") {
      halt = requested === "pause" ? { status: "paused", reason: "paused on request" } : { status: "stopped", reason: "stopped on request" };
    }
    if (!integrating && queue.length > 0 && !ctx.abort.aborted) {
      // The merge queue goes by urgency too: the task with the longest chain waiting on it is merged first.
      queue.sort(byUrgency);
      const [next] = queue.splice(settleFirst === undefined ? 0 : Math.max(0, queue.indexOf(settleFirst)), 1);
      settleFirst = undefined;
      if (next !== undefined) startIntegration(next);
    }
    if (halt === undefined && !ctx.abort.aborted) {
      for (const task of graph.ready(graphStatus(status)).sort(byUrgency)) {
        if (slotsTaken() >= ctx.concurrency) break;
        startTask(task);
      }
      lookAhead();
    }
    if (jobs.size === 0) break;
    const done = await Promise.race(jobs.values());
    jobs.delete(`${done.kind === "integration" ? "integration" : "loop"}:${done.task.id}`);
    if (done.kind === "unstarted") {
      status.set(done.task.id, "pending");
      continue;
    }

    if (done.kind === "loop") {
      const { task, conclusion } = done;
      if (task.role === "integrator") {
        await concludeIntegrator(ctx, tasks, task, conclusion, { ending, finishTask, blockDependents, status }, commits);
        integrating = false;
        runTip = await tipOf(ctx.integration);
        continue;
      }
      switch (conclusion.status) {
        case "succeeded":
          status.set(task.id, "integrating");
          commits.set(task.id, conclusion.commit);
          reasons.set(task.id, conclusion.reason);
          queue.push(task);
          if (keepsSlot(task)) reserved.add(task.id);
          break;
        case "waiting":
        case "paused":
          // The task keeps its state; the run waits (or pauses) once what runs has finished. A run of one task
          // says why in its task's words.
          status.set(task.id, "running");
          halt = single ? conclusion : (halt ?? conclusion);
          break;
        case "aborted":
        case "stopped":
          await finishTask(task, conclusion.status, conclusion.reason);
          halt = single ? conclusion : (halt ?? conclusion);
          break;
        default:
          await finishTask(task, conclusion.status, conclusion.reason);
          await blockDependents(task);
      }
      continue;
    }

    const { task, outcome } = done;
    reserved.delete(task.id);
    switch (outcome.kind) {
      case "integrated":
        integrating = false;
        runTip = outcome.merge;
        status.set(task.id, "succeeded");
        // One write: its dependents can start the moment it returns.
        await writer.write(
          { type: "task.integrated", runId: run.id, taskId: task.id, data: { merge: outcome.merge } },
          {
            type: "task.finished",
            runId: run.id,
            taskId: task.id,
            data: { status: "succeeded", reason: `integrated into ${run.branch} as ${outcome.merge.slice(0, 12)}; the run's criteria pass there`, commit: commits.get(task.id) ?? outcome.merge },
          },
        );
        break;
      case "reverted": {
        integrating = false;
        runTip = outcome.revert;
        const reverted: NewEvent = { type: "task.reverted", runId: run.id, taskId: task.id, data: { merge: outcome.merge, revert: outcome.revert, reason: outcome.reason } };
        const count = reverts.add(task.id, outcome.reason);
        if (count >= MAX_REVERTS) {
          await writer.write(reverted, ending(task, "blocked", `its merge broke the run's criteria ${count} times: ${outcome.reason}`));
          await blockDependents(task);
        } else {
          await writer.write(reverted);
          await sendBack(task, await ctx.restore(task));
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
      case "interrupted":
        // The task keeps its success; the run ends as its interruption says (Ctrl-C pauses it), and merges it again
        // when it goes on.
        integrating = false;
        halt ??= abortedConclusion(ctx.abort.reason);
        break;
      case "failed":
        integrating = false;
        await finishTask(task, "blocked", outcome.reason);
        await blockDependents(task);
        break;
    }
  }
  // A worktree being made ahead is finished, so the run never ends with one half-made.
  await ahead.settled();
  const conclusion = conclude(run, tasks, status, reasons, halt, ctx.abort);
  // A run that ends takes every task with it, each saying why; a run that pauses or waits keeps them as they are.
  if (conclusion.status !== "waiting" && conclusion.status !== "paused" && ctx.abort.reason !== "lease-lost") {
    const unfinished = [...tasks.values()].filter((task) => !isTerminalTask(graphStatus(status).get(task.id) ?? task.status));
    const final: TerminalTaskStatus = conclusion.status === "aborted" ? "aborted" : "stopped";
    const why = conclusion.status === "aborted" || conclusion.status === "stopped" ? `the run was ${conclusion.status}` : `the run ended (${conclusion.status}: ${conclusion.reason})`;
    const endings = unfinished.map((task) =>
      ending(
        task,
        final,
        status.get(task.id) === "integrating"
          ? `its work is committed on ${task.branch} but was not integrated: ${why}`
          : status.get(task.id) === "pending"
            ? `not started: ${why}`
            : why,
      ),
    );
    if (endings.length > 0) await writer.write(...endings);
  }
  return conclusion;
}

/** Statuses as the graph knows them: a task waiting in the merge queue is still running. */
function graphStatus(status: ReadonlyMap<string, string>): Map<string, TaskStatus> {
  return new Map([...status].map(([id, s]) => [id, s === "integrating" ? "running" : (s as TaskStatus)]));
}


/** How the run ends: every task succeeded; or why not, naming the tasks. */
function conclude(
  run: RunRecord,
  tasks: ReadonlyMap<string, TaskRecord>,
  status: ReadonlyMap<string, string>,
  reasons: ReadonlyMap<string, string>,
  halt: TaskConclusion | undefined,
  abort: AbortSignal,
): GraphConclusion {
  if (halt !== undefined && (halt.status === "waiting" || halt.status === "paused")) return halt;
  const implementers = [...tasks.values()].filter((t) => t.role === "implementer");
  const succeeded = implementers.filter((t) => status.get(t.id) === "succeeded");
  // A run of one task ends as its task did, and says why in the task's words.
  const [only] = implementers.length === 1 ? implementers : [];
  if (succeeded.length === implementers.length) {
    const reason = only !== undefined ? (reasons.get(only.id) ?? "its task succeeded") : `all ${implementers.length} tasks integrated into ${run.branch}; the run's criteria pass there`;
    return { status: "succeeded", reason, commit: "" };
  }
  if (halt !== undefined) return halt;
  if (abort.aborted) return { status: "aborted", reason: "aborted" };
  const onlyStatus = only === undefined ? undefined : status.get(only.id);
  if (only !== undefined && (onlyStatus === "failed" || onlyStatus === "stalled" || onlyStatus === "blocked" || onlyStatus === "stopped" || onlyStatus === "aborted")) {
    return { status: onlyStatus, reason: reasons.get(only.id) ?? onlyStatus };
  }
  const others = implementers.filter((t) => status.get(t.id) !== "succeeded").map((t) => `${t.id} (${status.get(t.id) ?? "?"})`);
  return { status: "failed", reason: `${succeeded.length} of ${implementers.length} tasks integrated into ${run.branch}; not done: ${others.join(", ")}` };
}


