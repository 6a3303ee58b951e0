// A run's status view from the journal alone: where it stands, what runs now and what comes next, its figures and
// tasks, and whether a live supervisor drives it. `orch status`, `orch list` and the server show the same view.
import { hostname } from "node:os";
import { describeAgentEvent } from "../core/agent-event.js";
import { formatTimestamp } from "../core/duration.js";
import { TaskGraph } from "../core/dag.js";
import { isTerminalRun, readsAsPlan } from "../core/run.js";
import { describeDelivery } from "../core/notify.js";
import type { DeliveryOutcome } from "../core/journal.js";
import type { RecoveryFigures } from "../core/figures.js";
import { firstLine, summarizeList } from "../core/text.js";
import { collectFigures, collectScheduleFigures, concurrencyOf } from "../engine/figures.js";
import type { ScheduleFigures } from "../core/schedule-figures.js";
import { processLiveness, supervisorAlive } from "../engine/lease.js";
import { findLeftovers, type LeftoverProcess } from "../engine/leftovers.js";
import type { AttemptRecord, RunRecord, TaskRecord, JournalReader } from "../store/store.js";
import { attemptName, describeReviewer, taskReview } from "../engine/review-state.js";
import { countDecisions } from "../core/approval.js";

export interface RunStatusView {
  runId: string;
  goal: string;
  status: RunRecord["status"];
  reason: string | null;
  attempts: number;
  maxAttempts: number;
  progress: number;
  branch: string;
  elapsedMs: number;
  maxMs: number;
  costUsd: number;
  tokens: { input: number; output: number };
  pid: number | null;
  processAlive: boolean | null;
  /** The journal says the run is being driven, but no live supervisor drives it. */
  stale: boolean;
  /** Agent processes still running with no live supervisor. */
  orphans: { attemptId: string; pid: number }[];
  /**
   * Processes on this machine carrying the run's ids although nothing of the run should run as them now: they
   * outlived their attempt or verify command, or the run's supervisor (Linux; empty elsewhere).
   */
  escaped: LeftoverProcess[];
  now: string | null;
  next: string;
  lastResult: string | null;
  lastFailure: { kind: string; detail: string } | null;
  /** Failures by kind, recovered vs escalated, time waited on limits, calls spent on retries. */
  figures: RecoveryFigures;
  report: string | null;
  /** What orch could not do for the run (a transcript it could not write …), oldest first. */
  warnings: string[];
  /** How a run that succeeded was delivered: the push and the pull request, or why not (oldest first; empty before). */
  delivery: DeliveryOutcome[];
  createdAt: string;
  /** Who reviews the run's tasks, or why nobody does. */
  reviewer: string;
  /** The approval gate's decisions so far: made by orch on its own, made by a human, and commits still held. */
  decisions: { autonomous: number; human: number; held: number };
  tasks: {
    id: string;
    title: string;
    status: string;
    attempts: number;
    branch: string;
    progress: number;
    worktree: string;
    role: string;
    dependsOn: string[];
    integrated: string | null;
    /** Where its review stands (null: none yet). */
    review: string | null;
    /** Why the approval gate holds its commit for a human (null: it holds none). */
    held: string | null;
  }[];
  /** A planned run's scheduling figures (null for a run of one task). */
  schedule: (ScheduleFigures & { concurrency: number }) | null;
}

/** Agents of the run still running although no live supervisor watches them. */
function orphansOf(run: RunRecord, attempts: readonly AttemptRecord[], alive: boolean | null): AttemptRecord[] {
  if (alive === true) return [];
  const host = run.host ?? hostname();
  return attempts.filter(
    (a) => (a.status === "running" || a.status === "starting") && a.pid !== undefined && processLiveness({ host, pid: a.pid, startTime: a.pidStartTime }) === "alive",
  );
}

export interface StatusViewOptions {
  /**
   * How many ids the view's sentences (`now`, `next`) name before "… and 9,990 more": a terminal wants a few,
   * JSON all of them (the default). The lists themselves (`tasks`, `orphans`, `warnings`) are always whole.
   */
  listed?: number | undefined;
}

export async function statusView(store: JournalReader, run: RunRecord, now = Date.now(), options: StatusViewOptions = {}): Promise<RunStatusView> {
  const tasks = await store.listTasks(run.id);
  const attempts = await store.listAttempts({ runId: run.id });
  const current = attempts[attempts.length - 1];
  const alive = supervisorAlive(run, now);
  const orphans = orphansOf(run, attempts, alive);
  const planned = readsAsPlan(run.settings.plan, tasks);
  let doing: string | null = null;
  if (planned && alive !== false) {
    const live = attempts.filter((a) => a.status === "running" || a.status === "starting" || a.status === "verifying");
    doing = live.length === 0 ? null : summarizeList(live.map((a) => `${a.taskId} (${attemptName(a)}${a.status === "verifying" ? ", verifying" : ""})`), options.listed);
  } else if (current !== undefined && (current.status === "running" || current.status === "starting") && alive !== false) {
    const [last] = await store.readEvents({ attemptId: current.id, types: ["agent.emitted"], descending: true, limit: 1 });
    doing = `${attemptName(current)}: ${last?.type === "agent.emitted" ? firstLine(describeAgentEvent(last.data), 160) : "starting the agent"}`;
  } else if (current?.status === "verifying" && alive !== false) {
    doing = `attempt ${current.number}: verifying`;
  }
  const finished = [...attempts].reverse().find((a) => a.status === "succeeded" || a.status === "failed");
  const lastResult =
    finished === undefined
      ? null
      : `${attemptName(finished)} ${finished.status === "succeeded" ? (finished.review !== undefined ? (finished.review.approved ? "approved the work" : "asked for changes") : "succeeded") : `failed (${finished.failure?.kind ?? "unknown"}: ${firstLine(finished.failure?.detail ?? "", 160)})`}`;
  const task = tasks[0];
  const delivery = (await store.readEvents({ runId: run.id, types: ["run.delivered"] })).flatMap((e) => (e.type === "run.delivered" ? [e.data] : []));
  let next: string;
  if (run.status === "succeeded" && run.settings.delivery !== undefined && alive !== true && delivery.length === 0) {
    next = `its delivery: its supervisor ended before it delivered the run; \`orch deliver ${run.id}\` delivers it`;
  } else if (isTerminalRun(run.status)) next = "nothing: the run has ended";
  else if (run.status === "waiting") next = `waiting for a human: ${run.reason ?? ""}`;
  else if (run.status === "paused") next = `nothing until \`orch resume ${run.id}\``;
  else if (alive === false) {
    const orphan = orphans.length === 0 ? "" : `; its agent ${summarizeList(orphans.map((a) => `pid ${a.pid ?? "?"} (attempt ${a.number})`), options.listed)} still runs unwatched`;
    next = `its supervisor (pid ${run.pid ?? "?"}${run.host !== undefined && run.host !== hostname() ? ` on ${run.host}` : ""}) is gone${orphan}; \`orch resume ${run.id}\` continues the run`;
  } else if (run.stopRequested !== undefined) {
    next = run.stopRequested === "abort" ? "aborting" : run.stopRequested === "pause" ? "pausing after the current attempt" : "stopping after the current attempt";
  }
  else if (planned) next = graphNext(tasks, options.listed);
  else if (task?.waitingUntil !== undefined && task.waitingUntil > now) next = `attempt ${run.attempts + 1} at ${formatTimestamp(task.waitingUntil)} (${task.waitingReason ?? "waiting"})`;
  else if (current?.status === "verifying") next = `the verdict on attempt ${current.number}: a commit if every criterion passes, else attempt ${current.number + 1}`;
  else if (doing !== null) next = "verify when the agent finishes";
  else next = run.status === "pending" ? "start" : `attempt ${run.attempts + 1}`;
  return {
    runId: run.id,
    goal: run.goal,
    status: run.status,
    reason: run.reason ?? null,
    attempts: run.attempts,
    maxAttempts: run.limits.maxAttempts,
    progress: run.progress,
    branch: run.branch,
    elapsedMs: run.startedAt === undefined ? 0 : (run.endedAt ?? now) - run.startedAt,
    maxMs: run.limits.maxMs,
    costUsd: run.costUsd,
    tokens: { input: run.tokensIn, output: run.tokensOut },
    pid: run.pid ?? null,
    processAlive: alive,
    stale: alive === false,
    orphans: orphans.map((a) => ({ attemptId: a.id, pid: a.pid ?? 0 })),
    escaped: await findLeftovers(store, { runId: run.id, now }),
    now: doing,
    next,
    lastResult,
    figures: await collectFigures(store, run.id),
    lastFailure: finished?.failure === undefined ? null : { kind: finished.failure.kind, detail: finished.failure.detail },
    report: run.report ?? null,
    // A notice that did not reach its webhook is a warning: someone expected to be told was not.
    warnings: (await store.readEvents({ runId: run.id, types: ["run.noted", "notify.failed", "notify.dropped"] })).flatMap((e) => {
      if (e.type === "run.noted") return e.data.level === "warning" ? [e.data.message] : [];
      return e.type === "notify.failed" || e.type === "notify.dropped" ? [describeDelivery(e).text] : [];
    }),
    delivery,
    createdAt: new Date(run.createdAt).toISOString(),
    reviewer: describeReviewer(run.settings),
    tasks: tasks.map((t) => ({
      id: t.id,
      title: t.title,
      status: t.status,
      attempts: t.attempts,
      branch: t.branch,
      progress: t.progress,
      worktree: t.worktree,
      role: t.role,
      dependsOn: t.dependsOn,
      integrated: t.integrated ?? null,
      review: taskReview(attempts.filter((a) => a.taskId === t.id)),
      held: t.waitingUntil === undefined && t.waitingReason !== undefined ? t.waitingReason : null,
    })),
    decisions: await gateDecisions(store, run.id, tasks),
    schedule: planned ? { ...(await collectScheduleFigures(store, run, now)), concurrency: concurrencyOf(run) } : null,
  };
}

/** The gate's decisions: each judgement that let a commit on by itself, each human decision, and what is held now. */
async function gateDecisions(store: JournalReader, runId: string, tasks: readonly TaskRecord[]): Promise<RunStatusView["decisions"]> {
  const events = await store.readEvents({ runId, types: ["task.assessed", "task.approved", "task.rejected"] });
  return {
    ...countDecisions(events),
    held: tasks.filter((t) => t.waitingUntil === undefined && t.waitingReason !== undefined).length,
  };
}

/** What comes next in a planned run: its tasks whose loop is done and wait to be merged, those ready to start. */
function graphNext(tasks: readonly TaskRecord[], listed: number | undefined): string {
  const implementers = tasks.filter((t) => t.role === "implementer");
  const ready = new TaskGraph(implementers).ready(new Map(implementers.map((t) => [t.id, t.status]))).map((t) => t.id);
  const merging = tasks.filter((t) => t.role === "integrator" && t.status === "running").map((t) => t.id);
  const parts = [
    ...(merging.length > 0 ? [`resolve the merge conflict (${summarizeList(merging, listed)})`] : []),
    ...(ready.length > 0 ? [`start ${summarizeList(ready, listed)} as slots free up`] : []),
  ];
  const waiting = implementers.filter((t) => t.status === "pending").length - ready.length;
  if (waiting > 0) parts.push(`${waiting} task(s) wait for their dependencies`);
  return parts.length > 0 ? parts.join("; ") : "merge what finishes, then end the run";
}

/** A run as `orch list` shows it. */
export interface RunListItem {
  runId: string;
  goal: string;
  status: RunRecord["status"];
  /** The journal says the run is being driven, but no live supervisor drives it. */
  stale: boolean;
  createdAt: string;
  attempts: number;
  maxAttempts: number;
  progress: number;
  branch: string;
  /** How long it has been driven: from its start to its end, or to now while it runs (0 before it starts). */
  elapsedMs: number;
  costUsd: number;
}

/** The runs of the journal, newest first. */
export async function listView(store: JournalReader, options: { limit?: number } = {}, now = Date.now()): Promise<RunListItem[]> {
  return (await store.listRuns(options)).map((r) => ({
    runId: r.id,
    goal: r.goal,
    status: r.status,
    stale: supervisorAlive(r, now) === false,
    createdAt: new Date(r.createdAt).toISOString(),
    attempts: r.attempts,
    maxAttempts: r.limits.maxAttempts,
    progress: r.progress,
    branch: r.branch,
    elapsedMs: r.startedAt === undefined ? 0 : (r.endedAt ?? now) - r.startedAt,
    costUsd: r.costUsd,
  }));
}
