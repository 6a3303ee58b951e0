// The scheduler of every run: the interpreter of the run's graph (core/run-graph.ts). It folds every state change
// the run journals into the graph, asks `decide` what comes next and carries it out: tasks whose dependencies are
// integrated start by urgency, each in its own worktree branched from the run branch as it stands then, up to
// `concurrency` at once; a task whose loop succeeds joins the merge queue, one merge into the run branch at a
// time, checked with `git merge-tree` first and verified on the run branch after; a merge that breaks the run's
// criteria is reverted and its task sent back; a conflict becomes an integrator task; a failed task blocks exactly
// its dependents. A slot that frees up takes the next ready task at once: the loop waits on its jobs, never on a
// timer. A supervisor taking a run over folds the same journal and goes on from where it stood.
import { existsSync } from "node:fs";
import type { Permission } from "../agents/permission.js";
import type { BreakerOptions } from "../core/circuit.js";
import type { RecoveryPolicy } from "../core/recovery-policy.js";
import type { StopMode } from "../core/run.js";
import type { NewEvent, StoredEvent } from "../core/journal.js";
import { abortedConclusion } from "../core/interrupt.js";
import { decide, evolve, expiresAt, GRAPH_EVENT_TYPES, HUMAN_DECISION_TYPES, nextUp, rejectedReason, phaseOf, replay, unlockedBy, urgencyOrder, type GraphStep, type RunGraph, type TaskEnding } from "../core/run-graph.js";
import type { TaskLoop } from "../core/task-loop.js";
import { fallbackIdentity } from "../git/commit.js";
import { catchUp, finishMerge } from "../git/merge.js";
import { createWorktree, resetWorktree } from "../git/index.js";
import type { RunRecord, TaskRecord } from "../store/store.js";
import { gateDecision, type GateReview } from "../core/approval.js";
import type { RiskRule } from "../core/risk-rules.js";
import { assessVerified } from "./risk.js";
import type { TaskConclusion } from "./converge.js";
import type { JournalWriter } from "./event-writer.js";
import { localTaskRunner, type TaskActivity, type TaskRunner } from "./task-runner.js";
import type { ChainLink } from "./model-chain.js";
import type { EngineDeps } from "./deps.js";
import type { OrchPaths } from "./paths.js";
import { WorktreesAhead } from "./worktrees-ahead.js";
import { linkDependencies } from "./dependencies.js";
import { IntegratedWorktrees } from "./gc-integrated.js";
import { createIntegrator, integrate, integratorEnd, tipOf, type Integration, type MergeContext } from "./merge-queue.js";

export interface GraphContext extends Omit<MergeContext, "identity"> {
  chain: ChainLink[];
  reviewer?: ChainLink | undefined;
  permission: Permission;
  recovery: { policy: RecoveryPolicy; breaker: BreakerOptions };
  paths: OrchPaths;
  stop: AbortSignal;
  stopRequested(): StopMode | undefined;
  concurrency: number;
  /** The run's tasks as the journal holds them when the scheduler begins. */
  tasks: readonly TaskRecord[];
  /** Restored loop state of tasks that had started, when a supervisor takes the run over. */
  restored: ReadonlyMap<string, TaskLoop>;
  /** A task's loop as the journal holds it now (to send a task back after a reverted merge). */
  restore(task: TaskRecord): Promise<TaskLoop>;
  onActivity?: ((activity: TaskActivity) => void) | undefined;
  /** Who carries out a task's attempts (default: this process). */
  runner?: TaskRunner | undefined;
  /** The risk rules the approval gate judges each verified commit by (`risk.rules` of orch.config.yaml). */
  riskRules: readonly RiskRule[];
  /** Shown the decisions another process journaled (`orch approve`, `orch reject`), as the writer shows its own
   * events: the webhooks' notifier resolves the wait it announced. */
  onDecided?: ((events: readonly StoredEvent[]) => void) | undefined;
}

export type GraphConclusion = TaskConclusion;

type Job =
  | { kind: "loop"; task: TaskRecord; conclusion: TaskConclusion }
  /** A task about to start found the run stopping: it stays pending and never started. */
  | { kind: "unstarted"; task: TaskRecord; halt: TaskConclusion | undefined }
  | { kind: "integration"; task: TaskRecord; outcome: Integration }
  | { kind: "assessment"; task: TaskRecord; assessed: NewEvent }
  /** A human decided on a commit the gate held (`orch approve`, `orch reject`, written by another process). */
  | { kind: "decided"; events: StoredEvent[] };

export async function driveGraph(deps: EngineDeps, graphContext: GraphContext): Promise<GraphConclusion> {
  // Two questions to git at once: who commits where the user's config says nobody, and where the run branch stands.
  const [identity, startTip] = await Promise.all([fallbackIdentity(graphContext.integration), tipOf(graphContext.integration)]);
  const { run } = graphContext;
  const tasks = new Map(graphContext.tasks.map((t) => [t.id, t]));

  // The graph is the fold of the run's journal, and of every state change written from here on.
  const journaled = await deps.store.readEvents({ runId: run.id, types: [...GRAPH_EVENT_TYPES] });
  let graph: RunGraph = replay(journaled);
  const fold = (events: readonly NewEvent[]) => {
    for (const event of events) graph = evolve(graph, event);
  };
  const journal = graphContext.writer;
  const writer: JournalWriter = {
    push: (event) => journal.push(event),
    flush: () => journal.flush(),
    write: async (...events: NewEvent[]): Promise<StoredEvent[]> => {
      const stored = await journal.write(...events);
      fold(events);
      return stored;
    },
    writeUnlessStopped: async (...events: NewEvent[]) => {
      const refused = await journal.writeUnlessStopped(...events);
      if (refused === undefined) fold(events);
      return refused;
    },
  };
  const ctx = { ...graphContext, writer, identity };

  /** A run of one task: it ends as its task does. */
  const single = graph.plan.length === 1;
  /** Loops and set-ups under way, by task. */
  const jobs = new Map<string, Promise<Job>>();
  let merging: string | undefined;
  let integration: Promise<Job> | undefined;
  /** Verified commits the approval gate is judging, by task. */
  const assessing = new Map<string, Promise<Job>>();
  /** While a commit waits for a human, the journal is watched for the decision (another process writes it). */
  const decisions = new HumanDecisions(deps.store, run.id, journaled.at(-1)?.seq ?? 0);
  const parked = new Set<string>();
  /** Tasks whose success this supervisor saw happen: their merge cannot have been made before. */
  const liveSuccess = new Set<string>();
  /** The files each integrator's conflict was in, for its merge commit's message. */
  const conflicts = new Map<string, string[]>();
  const restored = new Map(graphContext.restored);
  let halt: TaskConclusion | undefined;
  /** The run branch's verified tip: what new tasks branch from, and what the next merge goes onto. */
  let runTip = startTip;
  // Every branch of the plan was checked free when the run was made; a worktree made ahead belongs to a task that
  // has not started, so moving it to a newer tip is a reset.
  const ahead = new WorktreesAhead<TaskRecord>({
    make: async (task, base) => {
      await createWorktree({ repo: { root: run.repoRoot }, path: task.worktree, branch: task.branch, baseSha: base, branchChecked: true });
      await linkDependencies(run.repoRoot, task.worktree);
    },
    move: (task, to) => resetWorktree(task.worktree, to),
  });
  // A task's worktree goes once its work is integrated, in the background: the run keeps on disk only the worktrees
  // of tasks under way, made ahead, failed or waiting.
  const integratedWorktrees = new IntegratedWorktrees({
    run,
    journal: (event) => writer.push(event),
    onKept: (kept) => deps.logger.warn("an integrated task's worktree was kept for orch gc", { taskId: kept.taskId, path: kept.path, why: kept.reason }),
  });
  const collectIntegrated = (events: readonly NewEvent[]) => {
    for (const event of events) if (event.type === "task.integrated" && event.taskId !== undefined) integratedWorktrees.remove(taskOf(event.taskId));
  };
  const urgency = urgencyOrder(graph);
  const urgencyRank = new Map(urgency.map((id, rank) => [id, rank]));
  // Each task's attempts go through the runner: this process's convergence loop, unless the caller gives another.
  const runner =
    ctx.runner ??
    localTaskRunner(deps, {
      run,
      chain: ctx.chain,
      reviewer: ctx.reviewer,
      permission: ctx.permission,
      recovery: ctx.recovery,
      paths: ctx.paths,
      writer,
      abort: ctx.abort,
      stop: ctx.stop,
      stopRequested: ctx.stopRequested,
      deadline: ctx.deadline,
      identity,
      ...(ctx.onActivity !== undefined ? { onActivity: ctx.onActivity } : {}),
    });

  const taskOf = (id: string): TaskRecord => {
    const task = tasks.get(id);
    if (task === undefined) throw new Error(`task ${id} of run ${run.id} is not in its journal`);
    return task;
  };
  // Integrated tasks whose worktrees a supervisor before this one had not removed yet (it died, or predates this).
  graph.plan.forEach((t, i) => {
    const phase = graph.nodes[i]?.phase;
    if (phase?.kind === "ended" && phase.status === "succeeded" && existsSync(taskOf(t.id).worktree)) integratedWorktrees.remove(taskOf(t.id));
  });
  const ended = (ending: TaskEnding): NewEvent => {
    ahead.drop(ending.taskId);
    return { type: "task.finished", runId: run.id, taskId: ending.taskId, data: { status: ending.status, reason: ending.reason } };
  };

  /** A task's loop as a job; `prepare` sets it up first and says whether it may run (or why the run halts instead). */
  const runLoop = (task: TaskRecord, prepare: () => Promise<{ state?: TaskLoop | undefined; notes?: string[]; halt?: TaskConclusion } | undefined>, commit?: (message: string) => Promise<string>) => {
    const job = (async (): Promise<Job> => {
      let work: Awaited<ReturnType<typeof prepare>>;
      try {
        work = await prepare();
      } catch (error) {
        return { kind: "loop", task, conclusion: { status: "failed", reason: `could not set the task up: ${error instanceof Error ? error.message : String(error)}` } };
      }
      if (work?.halt !== undefined) return { kind: "unstarted", task, halt: work.halt };
      return { kind: "loop", task, conclusion: await runner.run({ task, state: work?.state, commit, notes: work?.notes }) };
    })();
    jobs.set(task.id, job);
  };

  const start = (task: TaskRecord) => {
    // From the run branch's verified tip as it stands now, so the task sees its dependencies' work.
    const base = runTip;
    runLoop(task, async () => {
      await ahead.take(task, base);
      // No task starts after a stop, pause or abort request: the start is written only if the journal has none,
      // checked in the write's own transaction (the watcher hears a request a few milliseconds after it is written).
      if (halt !== undefined || ctx.abort.aborted) return { halt: halt ?? haltFor("abort") };
      const requested = await writer.writeUnlessStopped({ type: "task.started", runId: run.id, taskId: task.id, data: {} });
      return requested === undefined ? undefined : { halt: haltFor(requested) };
    });
  };

  /**
   * A started task's loop goes on: after a takeover, from its replayed state; sent back after its merge broke the
   * run's criteria, in its worktree with the run branch merged in and the failure in its prompt. Merging the run
   * branch in again is a no-op, so a supervisor taking the run over does it again for a task sent back before, in
   * case its predecessor died before it was done. An integrator's loop commits the merge it resolves.
   */
  const goOn = (step: Extract<GraphStep, { kind: "run" }>) => {
    const task = taskOf(step.taskId);
    if (task.role === "integrator") {
      const subject = `orch: integrate task ${task.dependsOn[0] ?? "?"} into the run`;
      const paths = conflicts.get(task.id) ?? [];
      runLoop(task, async () => undefined, (message) =>
        finishMerge({ worktree: ctx.integration, message: `${subject}\n\nConflicts in ${paths.join(", ")} resolved by task ${task.id}.\n\n${message}` }),
      );
      return;
    }
    runLoop(task, async () => {
      const state = restored.get(task.id) ?? (await ctx.restore(task));
      restored.delete(task.id);
      if (step.sentBack === undefined) return { state };
      await catchUp({ worktree: task.worktree, from: run.branch, identity }).catch(() => false);
      return {
        state,
        notes: [
          `Your earlier work on this task was merged into the run branch ${run.branch}, and the run's criteria failed there, so the merge was reverted: ${step.sentBack}. The run branch is now merged into this worktree; make the criteria pass with it.`,
        ],
      };
    });
  };

  const startIntegration = (step: Extract<GraphStep, { kind: "integrate" }>) => {
    const task = taskOf(step.taskId);
    merging = task.id;
    // Only a task whose success came from the journal can be merged already (its supervisor died after the merge).
    const options = { mayBeMerged: !liveSuccess.has(task.id), onMerge: (merge: string) => followMerge(task.id, merge) };
    integration = integrate(deps, ctx, task, runTip, step.commit, options).then((outcome): Job => ({ kind: "integration", task, outcome }));
  };

  /** A merge is made (not yet verified): the worktrees of the tasks it is the last dependency of follow it now. */
  const followMerge = (merged: string, merge: string) => {
    for (const id of unlockedBy(graph, merged)) ahead.advance(taskOf(id), merge);
  };

  /**
   * Worktrees are made ahead for the most urgent pending tasks whose dependencies have all started (they will
   * be ready next), at most one per agent slot, from the current tip: starting them then costs a reset at most.
   */
  const lookAhead = () => {
    if (halt !== undefined || ctx.abort.aborted) return;
    for (const id of urgency) {
      // Worktrees waiting to be removed count against those made ahead: the disk holds at most one spare per slot.
      if (ahead.size + integratedWorktrees.pending >= ctx.concurrency) break;
      if (ahead.has(id) || jobs.has(id) || !nextUp(graph, id)) continue;
      const task = taskOf(id);
      if (!existsSync(task.worktree)) ahead.make(task, runTip, urgencyRank.get(id));
    }
  };

  /** The verified commit of a task in the merge queue. */
  const commitOf = (task: TaskRecord): string | undefined => {
    const phase = phaseOf(graph, task.id);
    return phase.kind === "queued" || phase.kind === "conflicted" ? phase.commit : undefined;
  };

  /** The gate judges the commit's risk, with its review, and journals whether it goes on or waits for a human. */
  const startAssessment = (step: Extract<GraphStep, { kind: "assess" }>) => {
    const task = taskOf(step.taskId);
    const job = (async (): Promise<Job> => {
      const data = await judgeCommit(deps, run, task, step.commit, ctx.riskRules, step.review);
      // Its time is the held commit's start: folded live as it will be on replay (`approval.rejectAfter` counts from it).
      return { kind: "assessment", task, assessed: { type: "task.assessed", runId: run.id, taskId: task.id, at: deps.now(), data: { commit: step.commit, ...data } } };
    })();
    assessing.set(task.id, job);
  };

  /** Wakes the loop when the first held commit's time for a human runs out (`approval.rejectAfter`). */
  let expiryTimer: { cancel(): void } | undefined;
  const nextExpiry = (): Promise<Job> | undefined => {
    const limits = run.settings.approval.rejectAfterMs;
    const times = graph.nodes.flatMap((node) => (node.phase.kind === "awaiting" ? [expiresAt(node.phase, { rejectAfterMs: limits })] : [])).filter((t): t is number => t !== undefined);
    if (times.length === 0) return undefined;
    return new Promise<Job>((resolve) => {
      const timer = setTimeout(() => resolve({ kind: "decided", events: [] }), Math.max(0, Math.min(...times) - deps.now()));
      expiryTimer = { cancel: () => clearTimeout(timer) };
    });
  };

  const haltWith = (conclusion: TaskConclusion) => {
    halt = single ? conclusion : (halt ?? conclusion);
  };

  for (;;) {
    const requested = ctx.stopRequested();
    if (halt === undefined && requested !== undefined && requested !== "abort") halt = haltFor(requested);
    const steps = decide(graph, {
      busy: new Set(jobs.keys()),
      merging,
      assessing: new Set(assessing.keys()),
      now: deps.now(),
      rejectAfterMs: run.settings.approval.rejectAfterMs,
      parked,
      concurrency: ctx.concurrency,
      halt,
      aborted: ctx.abort.aborted,
      runBranch: run.branch,
    });
    const [first] = steps;
    if (first?.kind === "end") {
      // A worktree being made ahead is finished, so the run never ends with one half-made.
      await ahead.settled();
      await integratedWorktrees.settled();
      decisions.dispose();
      // A run that ends takes every task with it, each saying why; a run that pauses or waits keeps them as they
      // are; a supervisor that lost the run writes nothing more.
      if (first.endings.length > 0 && ctx.abort.reason !== "lease-lost") await writer.write(...first.endings.map(ended));
      return first.conclusion;
    }
    if (first?.kind === "wait") {
      lookAhead();
      const held = graph.nodes.some((node) => node.phase.kind === "awaiting");
      // Nothing waits for a human: the journal is not read for decisions until a commit is held again.
      if (!held) decisions.rest();
      const expiry = held ? nextExpiry() : undefined;
      await settle(
        await Promise.race([...jobs.values(), ...assessing.values(), ...(integration !== undefined ? [integration] : []), ...(held ? [decisions.next()] : []), ...(expiry !== undefined ? [expiry] : [])]),
      );
      expiryTimer?.cancel();
      continue;
    }
    for (const step of steps) {
      switch (step.kind) {
        case "end-tasks":
          await writer.write(...step.endings.map(ended));
          break;
        case "run":
          goOn(step);
          break;
        case "start":
          start(taskOf(step.taskId));
          break;
        case "integrate":
          startIntegration(step);
          break;
        case "assess":
          startAssessment(step);
          break;
        case "expire": {
          const reason = rejectedReason("orch", step.reason);
          await writer.write(
            { type: "task.rejected", runId: run.id, taskId: step.taskId, data: { commit: step.commit, by: "orch", reason: step.reason } },
            { type: "task.finished", runId: run.id, taskId: step.taskId, data: { status: "failed", reason } },
          );
          break;
        }
        case "wait":
        case "end":
          throw new Error(`the scheduler was asked to ${step.kind} among other steps`);
      }
    }
    lookAhead();
  }

  /** Journals what a finished job did; the next `decide` sees it folded. */
  async function settle(done: Job): Promise<void> {
    if (done.kind === "decided") {
      // Journaled by `orch approve` or `orch reject`: folded as they stand (a rejection's task end comes with it).
      fold(done.events);
      if (done.events.length > 0) ctx.onDecided?.(done.events);
      return;
    }
    if (done.kind === "assessment") {
      assessing.delete(done.task.id);
      await writer.write(done.assessed);
      return;
    }
    if (done.kind === "integration") {
      merging = undefined;
      integration = undefined;
      await integrated(done.task, done.outcome);
      return;
    }
    jobs.delete(done.task.id);
    if (done.kind === "unstarted") {
      halt ??= done.halt;
      return;
    }
    const { task, conclusion } = done;
    if (task.role === "integrator") {
      const ending = await integratorEnd(ctx, tasks, task, conclusion, (merged) => commitOf(merged));
      await writer.write(...ending);
      runTip = await tipOf(ctx.integration);
      collectIntegrated(ending);
      return;
    }
    switch (conclusion.status) {
      case "succeeded":
        // Its success is journaled already: the graph has it in the merge queue.
        liveSuccess.add(task.id);
        return;
      case "waiting":
      case "paused":
        // The task keeps its state; the run waits (or pauses) once what runs has finished. A run of one task says
        // why in its task's words.
        parked.add(task.id);
        haltWith(conclusion);
        return;
      case "aborted":
      case "stopped":
        await writer.write(ended({ taskId: task.id, status: conclusion.status, reason: conclusion.reason }));
        haltWith(conclusion);
        return;
      default:
        await writer.write(ended({ taskId: task.id, status: conclusion.status, reason: conclusion.reason }));
    }
  }

  async function integrated(task: TaskRecord, outcome: Integration): Promise<void> {
    switch (outcome.kind) {
      case "integrated": {
        runTip = outcome.merge;
        const commit = commitOf(task) ?? outcome.merge;
        // One write: its dependents can start the moment it returns.
        await writer.write(
          { type: "task.integrated", runId: run.id, taskId: task.id, data: { merge: outcome.merge } },
          {
            type: "task.finished",
            runId: run.id,
            taskId: task.id,
            data: { status: "succeeded", reason: `integrated into ${run.branch} as ${outcome.merge.slice(0, 12)}; the run's criteria pass there`, commit },
          },
        );
        integratedWorktrees.remove(task);
        return;
      }
      case "reverted":
        // The graph sends the task back, or blocks it when its merge broke the run too often.
        runTip = outcome.revert;
        await writer.write({ type: "task.reverted", runId: run.id, taskId: task.id, data: { merge: outcome.merge, revert: outcome.revert, reason: outcome.reason } });
        return;
      case "conflict": {
        // A resolution is a new task, and none starts once the run halts: the task then stays in the queue (its work
        // committed on its branch), to be merged when the run goes on.
        if (halt !== undefined || ctx.abort.aborted) return;
        const integrator = await createIntegrator(deps, ctx, tasks, task, outcome.paths);
        if ("refused" in integrator) {
          halt = haltFor(integrator.refused);
          return;
        }
        tasks.set(integrator.id, integrator);
        conflicts.set(integrator.id, outcome.paths);
        return;
      }
      case "interrupted":
        // The task keeps its success; the run ends as its interruption says (Ctrl-C pauses it), and merges it again
        // when it goes on.
        halt ??= abortedConclusion(ctx.abort.reason);
        return;
      case "failed":
        await writer.write(ended({ taskId: task.id, status: "blocked", reason: outcome.reason }));
        return;
    }
  }
}

function haltFor(mode: StopMode): TaskConclusion {
  return mode === "pause" ? { status: "paused", reason: "paused on request" } : mode === "abort" ? { status: "aborted", reason: "aborted" } : { status: "stopped", reason: "stopped on request" };
}

/** The approval gate's judgement of a verified commit: its risk and the rules that fired, and the decision. */
async function judgeCommit(deps: EngineDeps, run: RunRecord, task: TaskRecord, commit: string, rules: readonly RiskRule[], review: GateReview) {
  try {
    const assessment = await assessVerified(deps.store, run, task, commit, rules);
    const { decision, why } = gateDecision(assessment.level, review);
    const fired = assessment.findings.map((f) => `${f.level} ${f.rule}: ${f.about}${f.evidence.length > 0 ? ` (${f.evidence.slice(0, 3).join(", ")}${f.evidence.length > 3 ? ", …" : ""})` : ""}`);
    return { level: assessment.level, rules: fired, decision, why };
  } catch (error) {
    // A change orch cannot judge is not let through on its own.
    const why = `its risk could not be judged (${error instanceof Error ? error.message : String(error)}): a human must approve`;
    return { level: "high" as const, rules: [], decision: "human" as const, why };
  }
}

/**
 * Watches the run's journal for a human's decision on a held commit, written by another process: woken by the
 * journal's change notices, with a slow timer beneath (a file system without them). Decisions after `afterSeq`
 * (the journal as the graph was replayed) are new; one read is in flight at a time, whoever waits on it.
 */
class HumanDecisions {
  private pending: Promise<Extract<Job, { kind: "decided" }>> | undefined;
  private stopWatching: (() => void) | undefined;
  private timer: NodeJS.Timeout | undefined;
  private waiters: (() => void)[] = [];
  private disposed = false;

  constructor(
    private readonly store: EngineDeps["store"],
    private readonly runId: string,
    private afterSeq: number,
  ) {}

  /** Resolves with the decisions journaled since the last it returned (with a rejection's task end). */
  next(): Promise<Extract<Job, { kind: "decided" }>> {
    // Reading again: on every journal change (this process's, or with SQLite another's) and every 500 ms.
    this.stopWatching ??= this.store.onChange(() => this.wake());
    if (this.timer === undefined) {
      this.timer = setInterval(() => this.wake(), 500);
      this.timer.unref();
      this.wake();
    }
    this.pending ??= this.poll().finally(() => (this.pending = undefined));
    return this.pending;
  }

  /** Nothing is held: no more reads until `next` is asked again (a poll under way waits without reading). */
  rest(): void {
    this.stopWatching?.();
    this.stopWatching = undefined;
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }

  private async poll(): Promise<Extract<Job, { kind: "decided" }>> {
    while (!this.disposed) {
      const resting = this.timer === undefined;
      const found = resting ? [] : await this.store.readEvents({ runId: this.runId, types: [...HUMAN_DECISION_TYPES, "task.finished"], afterSeq: this.afterSeq });
      const decided = found.filter((e) => e.type === "task.approved" || e.type === "task.rejected");
      if (decided.length > 0) {
        this.afterSeq = found.at(-1)?.seq ?? this.afterSeq;
        const rejected = new Set(decided.filter((e) => e.type === "task.rejected").map((e) => e.taskId));
        return { kind: "decided", events: found.filter((e) => e.type !== "task.finished" || rejected.has(e.taskId)) };
      }
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
    return { kind: "decided", events: [] };
  }

  private wake(): void {
    for (const resolve of this.waiters.splice(0)) resolve();
  }

  dispose(): void {
    this.disposed = true;
    this.rest();
    this.wake();
  }
}
