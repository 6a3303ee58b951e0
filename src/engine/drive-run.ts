// Driving a run: the supervisor claims the run's lease, reconciles what a dead supervisor left, runs the loop
// (a planner first, if the run is to be planned; then the scheduler, for every run) from where the journal stood, obeys stop,
// pause and abort requests and signals with a grace period, then writes the run's end and its report, and delivers
// a run that succeeded (deliver.ts).
import { rmdir } from "node:fs/promises";
import { dirname } from "node:path";
import type { AgentAdapter } from "../agents/agent.js";
import { createAdapter } from "../agents/registry.js";
import type { AgentSettings } from "../core/run-settings.js";
import { UsageError } from "../core/errors.js";
import { recoveryPolicy } from "../core/recovery-policy.js";
import { isTerminalRun, type StopMode, type TerminalRunStatus } from "../core/run.js";
import { StaleWriterError } from "../store/errors.js";
import type { RunRecord, Store, TaskRecord } from "../store/store.js";
import { watchStopRequests } from "./control.js";
import { loopConfig, replayTask, type TaskConclusion } from "./converge.js";
import type { TaskActivity } from "./task-runner.js";
import type { ChainLink } from "./model-chain.js";
import type { TaskLoop } from "../core/task-loop.js";
import type { EngineDeps } from "./deps.js";
import { EventWriter } from "./event-writer.js";
import { removeWorktree } from "../git/index.js";
import { integrationWorktree } from "./graph-run.js";
import { reconcileMerges } from "./merge-queue.js";
import { runPlanPhase } from "./plan-phase.js";
import { driveGraph } from "./scheduler.js";
import { concurrencyOf } from "./figures.js";
import { collectRun } from "./gc.js";
import { claimRun, currentSupervisor, LeaseKeeper, ownerOf } from "./lease.js";
import type { Logger } from "./logger.js";
import { reportPath, runPaths, type OrchPaths } from "./paths.js";
import { Notifier } from "./notifier.js";
import { DEFAULT_RULES, type RiskRule } from "../core/risk-rules.js";
import { NOTICE_EVENT_TYPES, type NotifySettings } from "../core/notify.js";
import { reconcileRun } from "./reconcile.js";
import { writeReport } from "./report.js";
import { deliverRun } from "./deliver.js";
import { reviewWholeRun } from "./run-review.js";
import { RUN_FIX_PREFIX } from "../core/run-review.js";

export interface DriveOptions {
  runId: string;
  detached: boolean;
  /** Take over a run that had started (paused, waiting, or left by a supervisor that died) instead of starting a pending one. */
  resume?: boolean;
  /** Aborted with reason "interrupt" on Ctrl-C: the agent is stopped now and the run paused, resumable. */
  interrupt: AbortSignal;
  /** Aborted on SIGTERM: a drain — no new attempt; the running one gets the grace period; the run stops with a report. */
  terminate?: AbortSignal;
  /** What each task's loop is doing, as it happens (the foreground's live output). */
  onActivity?: (activity: TaskActivity) => void;
  /** How long the supervisor's lease holds unless renewed (tests shorten it). */
  leaseTtlMs?: number;
  /** Webhooks told of what needs a human and of the run's end (`notify` in orch.config.yaml, read when driving starts). */
  notify?: NotifySettings;
  /** The rules the approval gate judges each verified commit by (`risk.rules` of orch.config.yaml; default: orch's own). */
  riskRules?: readonly RiskRule[];
}

export interface DriveResult {
  run: RunRecord;
  report: string;
  /** Another supervisor took the run over while this one drove it; this one wrote nothing more. */
  leaseLost: boolean;
}

/** A run that has ended cannot be driven again: a UsageError that says so. */
export function assertNotEnded(run: RunRecord): void {
  if (isTerminalRun(run.status)) {
    throw new UsageError(`run ${run.id} has already ended (${run.status}); there is nothing to resume`, { hint: `\`orch report ${run.id}\` shows how it ended` });
  }
}

/** After a stop or pause request, how long a running attempt may go on before it is stopped. */
export const DRAIN_GRACE_MS = 30_000;

/**
 * Drives a run to its end (or to a pause, or a wait for a human): claims its lease, reconciles what a dead
 * supervisor left, runs the convergence loop from where the journal says it stood, then writes the report.
 */
export async function driveRun(deps: EngineDeps, options: DriveOptions): Promise<DriveResult> {
  const { store } = deps;
  const run = await store.getRun(options.runId);
  if (run === undefined) throw new UsageError(`no run ${options.runId}`);
  assertNotEnded(run);
  if (run.status !== "pending" && options.resume !== true) {
    throw new UsageError(`run ${run.id} is ${run.status}; only a pending run can be started`, { hint: `\`orch resume ${run.id}\` continues it` });
  }
  const tasks = await store.listTasks(run.id);
  if (tasks.length === 0) throw new Error(`run ${run.id} has no task`);
  const chain = await chainOf(run);
  const reviewer = await reviewerOf(run);
  const paths = runPaths(run);
  const log = deps.logger.child({ runId: run.id });

  const me = currentSupervisor();
  const claim = await claimRun(store, run.id, me, deps.now(), options.leaseTtlMs);
  if (!claim.won) throw new UsageError(claim.why, { hint: `\`orch status ${run.id}\` shows what it is doing` });
  const abort = new AbortController();
  const stop = new AbortController();
  const keeper = new LeaseKeeper(store, run.id, ownerOf(me), {
    ...(options.leaseTtlMs !== undefined ? { ttlMs: options.leaseTtlMs } : {}),
    now: deps.now,
    logger: log,
    onLost: () => abort.abort("lease-lost"),
  });
  let notifier: Notifier | undefined;
  // Fenced: once another supervisor has taken the run over, this one's writes are refused and it stops.
  const writer = new EventWriter(store, {
    fence: { runId: run.id, fence: claim.fence },
    onStale: (error) => keeper.lose(error.message),
    // Every state change this supervisor journals is shown to the webhooks' notifier, off the run's path.
    onWritten: (events) => notifier?.observe(events),
  });
  if (options.notify !== undefined && options.notify.webhooks.length > 0) {
    notifier = new Notifier(options.notify, {
      runId: run.id,
      goal: run.goal,
      titles: async () => new Map((await store.listTasks(run.id)).map((t) => [t.id, t.title])),
      write: (...events) => writer.write(...events),
      env: deps.env,
      redactor: deps.redactor,
      logger: log,
      now: deps.now,
      random: deps.random,
    });
    // A wait announced by an earlier supervisor is resolved by this one.
    if (run.status !== "pending") notifier.prime(await store.readEvents({ runId: run.id, types: [...NOTICE_EVENT_TYPES] }));
  }

  try {
    const fresh = run.status === "pending";
    const supervisor = { pid: me.pid, ...(me.startTime !== undefined ? { pidStartTime: me.startTime } : {}), host: me.host, detached: options.detached };
    let elapsedBefore = 0;
    let current = tasks;
    const restored = new Map<string, TaskLoop>();
    const restore = (t: TaskRecord) => replayTask(store, loopConfig({ run, task: t, chain, permission: run.settings.permission, recovery: recoveryOf(run) }), t);
    if (fresh) {
      // The tasks start as the scheduler reaches them.
      await writer.write({ type: "run.started", runId: run.id, data: supervisor });
    } else {
      const from = run.status === "paused" ? "paused" : run.status === "waiting" ? "waiting" : "crashed";
      elapsedBefore = await drivenBefore(store, run, from, deps.now());
      const reconciled = await reconcileRun(deps, {
        run,
        tasks,
        adapterFor: (agent) => [...chain, ...(reviewer !== undefined ? [reviewer] : [])].find((link) => link.adapter.name === agent)?.adapter,
        write: (...events) => writer.write(...events),
      });
      reconciled.push(...(await reconcileMerges(store, run, integrationWorktree(paths, run.id), (...events) => writer.write(...events))));
      await writer.write({ type: "run.resumed", runId: run.id, data: { ...supervisor, from, reconciled } });
      for (const line of reconciled) log.info("reconciled", { line });
      current = await store.listTasks(run.id);
      for (const t of current) if (t.status === "running") restored.set(t.id, await restore(t));
    }
    return await driveLoop(deps, { ...options, run, tasks: current, chain, paths, writer, log, abort, stop, keeper, restored, restore, elapsedBefore, notifier });
  } catch (error) {
    // Taken over before the loop began or while it wrote the run's end: this supervisor stops writing.
    if (!(error instanceof StaleWriterError)) throw error;
    return { run: (await store.getRun(run.id)) ?? run, report: reportPath(paths, run.id), leaseLost: true };
  } finally {
    // Done already on a normal end; on any other, what is pending still gets its bounded wait.
    await notifier?.close();
    await keeper.release();
  }
}

interface LoopInput extends DriveOptions {
  run: RunRecord;
  /** The run's tasks as the journal holds them once a dead supervisor's leftovers are reconciled. */
  tasks: readonly TaskRecord[];
  chain: ChainLink[];
  paths: OrchPaths;
  writer: EventWriter;
  log: Logger;
  abort: AbortController;
  stop: AbortController;
  keeper: LeaseKeeper;
  /** The loops of tasks that had started, replayed from the journal, when a supervisor takes the run over. */
  restored: ReadonlyMap<string, TaskLoop>;
  /** A task's loop as the journal holds it now. */
  restore(task: TaskRecord): Promise<TaskLoop>;
  /** How long the run was driven before this supervisor took it: it counts against the time limit. */
  elapsedBefore: number;
  notifier: Notifier | undefined;
}

async function driveLoop(deps: EngineDeps, input: LoopInput): Promise<DriveResult> {
  const { store } = deps;
  const { run, writer, log, abort, stop, keeper } = input;
  const graceMs = run.limits.drainGraceMs ?? DRAIN_GRACE_MS;
  let graceTimer: NodeJS.Timeout | undefined;
  /** A stop or pause: no new attempt; the running one has the grace period to finish. An abort: now. */
  const onRequest = (mode: StopMode) => {
    stop.abort(mode);
    if (mode === "abort") {
      abort.abort("abort");
      return;
    }
    graceTimer ??= setTimeout(() => abort.abort(mode), graceMs);
  };
  const onInterrupt = () => abort.abort("interrupt");
  const onTerminate = () => {
    onRequest("stop");
    writer.push({ type: "run.stop-requested", runId: run.id, data: { mode: "stop", by: `SIGTERM to the supervisor (pid ${process.pid})` } });
  };
  input.interrupt.addEventListener("abort", onInterrupt, { once: true });
  input.terminate?.addEventListener("abort", onTerminate, { once: true });
  const watcher = watchStopRequests(store, run.id, { logger: log, onRequest });
  if (run.stopRequested !== undefined && run.status === "running") onRequest(run.stopRequested);

  const startedAt = deps.now();
  const remaining = Math.max(0, run.limits.maxMs - input.elapsedBefore);
  const deadline = startedAt + remaining;
  const deadlineTimer = setTimeout(() => abort.abort("deadline"), remaining);
  log.info(input.restored === undefined ? "run started" : "run resumed", { pid: process.pid, detached: input.detached });

  let conclusion: TaskConclusion;
  /** Why a run that succeeded is not delivered (its whole-run review holds it). */
  let held: string | undefined;
  try {
    const reviewer = await reviewerOf(run);
    const common = {
      run: { ...run, startedAt },
      chain: input.chain,
      reviewer,
      permission: run.settings.permission,
      recovery: recoveryOf(run),
      paths: input.paths,
      writer,
      abort: abort.signal,
      stop: stop.signal,
      stopRequested: () => watcher.current() ?? (stop.signal.aborted ? (stop.signal.reason as StopMode) : undefined),
      deadline,
      ...(input.onActivity !== undefined ? { onActivity: input.onActivity } : {}),
    };
    // A planner that has not finished plans first; its tasks then go to the scheduler with the rest.
    const planning = input.tasks.find((t) => t.role === "planner" && (t.status === "pending" || t.status === "running"));
    const planned = planning === undefined ? undefined : await runPlanPhase(deps, { ...common, task: planning, ...(await plannerOf(run)), abort: abort.signal });
    const integration = integrationWorktree(input.paths, run.id);
    const graph = async (pass: number) =>
      await driveGraph(deps, {
        ...common,
        tasks: planning === undefined && pass === 0 ? input.tasks : await store.listTasks(run.id),
        concurrency: concurrencyOf(run),
        integration,
        restored: pass === 0 ? input.restored : new Map(),
        restore: input.restore,
        riskRules: input.riskRules ?? DEFAULT_RULES,
        onDecided: (events) => input.notifier?.observe(events),
      });
    conclusion = planned ?? (await graph(0));
    // Before delivery, the whole-run review: its blocking findings come back as a task of fixes (bounded), which the
    // scheduler drives like any other; then the new tip is reviewed again.
    for (let pass = 1; planned === undefined && conclusion.status === "succeeded"; pass++) {
      // The tasks' work is verified and integrated: a review orch itself could not carry out holds the delivery, it
      // does not fail the run.
      const reviewed = await reviewWholeRun(deps, { run, reviewer, paths: input.paths, integration, writer, abort: abort.signal, deadline, onActivity: input.onActivity }).catch(
        (error: unknown) => {
          log.error("the whole-run review failed inside orch", { error: error instanceof Error ? error.stack : String(error) });
          return { kind: "hold" as const, reason: `orch could not review the whole run: ${error instanceof Error ? error.message : String(error)}` };
        },
      );
      if (reviewed.kind === "hold") held = reviewed.reason;
      if (reviewed.kind !== "fix") break;
      log.info("the whole-run review sent back a task of fixes", { taskId: reviewed.taskId });
      conclusion = await graph(pass);
    }
    held ??= await unfixed(store, run.id, conclusion);
    if (held !== undefined && conclusion.status !== "succeeded") {
      log.warn("the task of fixes did not succeed; the run succeeded and its delivery is held", { reason: held });
      conclusion = { status: "succeeded", reason: `its tasks' work is verified and integrated; ${held}`, commit: "" };
    }
  } catch (error) {
    conclusion = { status: "failed", reason: `internal error: ${error instanceof Error ? error.message : String(error)}` };
    log.error("run failed inside orch", { error: error instanceof Error ? error.stack : String(error) });
  } finally {
    clearTimeout(deadlineTimer);
    clearTimeout(graceTimer);
    watcher.dispose();
    input.interrupt.removeEventListener("abort", onInterrupt);
    input.terminate?.removeEventListener("abort", onTerminate);
  }

  const report = reportPath(input.paths, run.id);
  if (keeper.lost) {
    // Another supervisor drives the run now: whatever this one would write could contradict it.
    log.warn("stopped writing: the lease was lost", { conclusion: conclusion.status });
    const current = await store.getRun(run.id);
    return { run: current ?? run, report, leaseLost: true };
  }
  await writer.flush();
  if (conclusion.status === "waiting") {
    await writer.write({ type: "run.waiting", runId: run.id, data: { reason: conclusion.reason } });
  } else if (conclusion.status === "paused") {
    await writer.write({ type: "run.paused", runId: run.id, data: { reason: `${conclusion.reason}; \`orch resume ${run.id}\` continues it` } });
  } else {
    // The scheduler ended every task it reached; the run ends with them.
    await writer.write({ type: "run.finished", runId: run.id, data: { status: runStatusOf(conclusion), reason: conclusion.reason, report } });
  }
  const ended = conclusion.status !== "waiting" && conclusion.status !== "paused";
  // The run branch's worktree is orch's own place for merges: once the run has ended its branch is all there is
  // to keep, and the report and the delivery read the branch, not the worktree, so it goes meanwhile. One left
  // unclean (a merge cut short) stays for a look, and for `orch gc`.
  const integrationGone = ended ? removeIntegration(run, integrationWorktree(input.paths, run.id), log) : Promise.resolve();
  // The end's notice goes out, and the report can tell what was delivered: a bounded wait (notify.endWait).
  await input.notifier?.close();
  const written = await writeReport(store, run.id, report);
  await writer.flush();
  if (conclusion.status === "succeeded") {
    // After the report, whose text is the pull request's body; the report is written again to show the outcome.
    const finished = await store.getRun(run.id);
    const delivered = finished === undefined ? [] : await deliverRun({ run: finished, report, write: (...events) => writer.write(...events), log, env: deps.env, held });
    if (delivered.length > 0) await writeReport(store, run.id, report, written.git);
  }
  await integrationGone;
  if (ended && run.settings.gc.afterRun) {
    const collected = await collectRun(store, run.id, { by: "the run itself" });
    log.info("worktrees collected", { removed: collected.worktreesRemoved, wipCommits: collected.wipCommits });
  }
  log.info("run ended", { status: conclusion.status, reason: conclusion.reason });
  const final = await store.getRun(run.id);
  if (final === undefined) throw new Error(`run ${run.id} vanished`);
  return { run: final, report, leaseLost: false };
}

/** Removes the run branch's worktree, then the run's folder of worktrees once nothing is left in it (its integrated tasks' went as they merged). Never throws. */
async function removeIntegration(run: RunRecord, integration: string, log: Logger): Promise<void> {
  const removed = await removeWorktree({ repo: { root: run.repoRoot }, path: integration }).catch((error: unknown) => error);
  if (removed instanceof Error) log.warn("the run branch's worktree was kept", { path: integration, why: removed.message });
  else await rmdir(dirname(integration)).catch(() => undefined);
}

/**
 * Why the delivery is held when a task of fixes the whole-run review asked for did not succeed: it leaves the run
 * branch as the review found it, every other task verified and integrated, so the run succeeded and a human decides
 * what is delivered. From the journal's tasks, so a supervisor that takes over during the fixes ends the same way.
 */
async function unfixed(store: Store, runId: string, conclusion: TaskConclusion): Promise<string | undefined> {
  if (conclusion.status !== "failed" && conclusion.status !== "stalled" && conclusion.status !== "blocked") return undefined;
  const unsuccessful = (await store.listTasks(runId)).filter((t) => t.role !== "reviewer" && t.status !== "succeeded");
  const fix = unsuccessful.find((t) => t.id.startsWith(RUN_FIX_PREFIX));
  if (fix === undefined || unsuccessful.some((t) => !t.id.startsWith(RUN_FIX_PREFIX))) return undefined;
  return `the task of fixes ${fix.id} that the whole-run review asked for ended ${fix.status}: ${fix.reason ?? conclusion.reason}`;
}

/**
 * How long the run was driven before it paused or began to wait; after a crash, all the time since it started. A
 * run reopened with new limits (`run.extended`) is paused, and its stretch ended at its `run.finished`.
 */
export async function drivenBefore(store: Store, run: RunRecord, from: "paused" | "waiting" | "crashed", now: number): Promise<number> {
  const startedAt = run.startedAt ?? run.createdAt;
  if (from === "crashed") return Math.max(0, now - startedAt);
  const [stopped] = await store.readEvents({ runId: run.id, types: from === "paused" ? ["run.paused", "run.finished"] : ["run.waiting"], descending: true, limit: 1 });
  const [resumed] = await store.readEvents({ runId: run.id, types: ["run.resumed", "run.started"], descending: true, limit: 1 });
  // Time driven = the last stretch (from the last start or resume to the stop) plus what came before it.
  const stretchStart = resumed?.at ?? startedAt;
  const before = Math.max(0, stretchStart - startedAt);
  return stopped === undefined ? before : Math.max(0, stopped.at - stretchStart) + Math.min(before, run.limits.maxMs);
}

/** The agent settings the run was started with; a run journaled without them cannot be driven. */
function agentOf(run: RunRecord): AgentSettings {
  if (run.settings.agent !== undefined) return run.settings.agent;
  throw new UsageError(`run ${run.id} was journaled without its agent's settings, so orch cannot start its agent again`, {
    hint: `\`orch report ${run.id}\` shows what it did; start a new run for the rest`,
  });
}

/** The run's agent and model, then its fallbacks (other models, or other agents). */
async function chainOf(run: RunRecord): Promise<ChainLink[]> {
  const first = { adapter: await createAdapter(agentOf(run)), model: run.model };
  const fallbacks = await Promise.all(run.settings.fallbacks.map(async (f) => ({ adapter: await createAdapter(f.agent), model: f.model })));
  return [first, ...fallbacks];
}

/** Who reviews each task's verified commit, when the run has reviews. */
async function reviewerOf(run: RunRecord): Promise<ChainLink | undefined> {
  const review = run.settings.review;
  return review?.on === true ? { adapter: await createAdapter(review.reviewer.agent), model: review.reviewer.model } : undefined;
}

/** The agent and model that plan the run (`--planner`, or the run's own). */
async function plannerOf(run: RunRecord): Promise<{ adapter: AgentAdapter; model: string | undefined }> {
  const chosen = run.settings.planner;
  return { adapter: await createAdapter(chosen?.agent ?? agentOf(run)), model: chosen !== undefined ? chosen.model : run.model };
}

/** The run's recovery settings as the loop uses them. */
function recoveryOf(run: RunRecord) {
  const settings = run.settings.recovery;
  return { policy: recoveryPolicy(settings.onFailure), breaker: settings.circuitBreaker };
}

function runStatusOf(conclusion: Exclude<TaskConclusion, { status: "waiting" | "paused" }>): TerminalRunStatus {
  switch (conclusion.status) {
    case "succeeded":
    case "failed":
    case "stalled":
    case "stopped":
    case "aborted":
      return conclusion.status;
    case "blocked":
      return "failed";
  }
}
