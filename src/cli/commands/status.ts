// `orch status` and `orch list`: where a run stands, from the journal alone, so they work for foreground
// and detached runs alike, and notice a run whose process is gone.
import { describeAgentEvent } from "../../core/agent-event.js";
import { TaskGraph } from "../../core/dag.js";
import { formatClock, formatDuration } from "../../core/duration.js";
import { isTerminalRun } from "../../core/run.js";
import { describeFigures, type RecoveryFigures } from "../../core/figures.js";
import { firstLine } from "../../core/text.js";
import { collectFigures, collectScheduleFigures, concurrencyOf } from "../../engine/figures.js";
import { describeSchedule, type ScheduleFigures } from "../../core/schedule-figures.js";
import { hostname } from "node:os";
import { processLiveness, supervisorAlive } from "../../engine/lease.js";
import type { AttemptRecord, RunRecord, Store, TaskRecord } from "../../store/store.js";
import { resolveRun, withRepoStore, type CliContext } from "../context.js";
import { EXIT } from "../exit-codes.js";

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
  now: string | null;
  next: string;
  lastResult: string | null;
  lastFailure: { kind: string; detail: string } | null;
  /** Failures by kind, recovered vs escalated, time waited on limits, calls spent on retries. */
  figures: RecoveryFigures;
  report: string | null;
  createdAt: string;
  tasks: { id: string; title: string; status: string; attempts: number; branch: string; progress: number; worktree: string; role: string; dependsOn: string[]; integrated: string | null }[];
  /** A planned run's scheduling figures (null for a run of one task). */
  schedule: (ScheduleFigures & { concurrency: number }) | null;
  /** What orch could not do for the run (a transcript it could not write …), oldest first. */
  warnings: string[];
}

/** Agents of the run still running although no live supervisor watches them. */
function orphansOf(run: RunRecord, attempts: readonly AttemptRecord[], alive: boolean | null): AttemptRecord[] {
  if (alive === true) return [];
  const host = run.host ?? hostname();
  return attempts.filter(
    (a) => (a.status === "running" || a.status === "starting") && a.pid !== undefined && processLiveness({ host, pid: a.pid, startTime: a.pidStartTime }) === "alive",
  );
}

export async function statusView(store: Store, run: RunRecord, now = Date.now()): Promise<RunStatusView> {
  const tasks = await store.listTasks(run.id);
  const attempts = await store.listAttempts({ runId: run.id });
  const current = attempts[attempts.length - 1];
  const alive = supervisorAlive(run, now);
  const orphans = orphansOf(run, attempts, alive);
  const planned = run.config.plan === true;
  let doing: string | null = null;
  if (planned && alive !== false) {
    const live = attempts.filter((a) => a.status === "running" || a.status === "starting" || a.status === "verifying");
    doing = live.length === 0 ? null : live.map((a) => `${a.taskId} (attempt ${a.number}${a.status === "verifying" ? ", verifying" : ""})`).join(", ");
  } else if (current !== undefined && (current.status === "running" || current.status === "starting") && alive !== false) {
    const [last] = await store.readEvents({ attemptId: current.id, types: ["agent.emitted"], descending: true, limit: 1 });
    doing = `attempt ${current.number}: ${last?.type === "agent.emitted" ? firstLine(describeAgentEvent(last.data), 160) : "starting the agent"}`;
  } else if (current?.status === "verifying" && alive !== false) {
    doing = `attempt ${current.number}: verifying`;
  }
  const finished = [...attempts].reverse().find((a) => a.status === "succeeded" || a.status === "failed");
  const lastResult =
    finished === undefined
      ? null
      : `attempt ${finished.number} ${finished.status === "succeeded" ? "succeeded" : `failed (${finished.failure?.kind ?? "unknown"}: ${firstLine(finished.failure?.detail ?? "", 160)})`}`;
  const task = tasks[0];
  let next: string;
  if (isTerminalRun(run.status)) next = "nothing: the run has ended";
  else if (run.status === "waiting") next = `waiting for a human: ${run.reason ?? ""}`;
  else if (run.status === "paused") next = `nothing until \`orch resume ${run.id}\``;
  else if (alive === false) {
    const orphan = orphans.length === 0 ? "" : `; its agent ${orphans.map((a) => `pid ${a.pid ?? "?"} (attempt ${a.number})`).join(", ")} still runs unwatched`;
    next = `its supervisor (pid ${run.pid ?? "?"}${run.host !== undefined && run.host !== hostname() ? ` on ${run.host}` : ""}) is gone${orphan}; \`orch resume ${run.id}\` continues the run`;
  } else if (run.stopRequested !== undefined) {
    next = run.stopRequested === "abort" ? "aborting" : run.stopRequested === "pause" ? "pausing after the current attempt" : "stopping after the current attempt";
  }
  else if (planned) next = graphNext(tasks);
  else if (task?.waitingUntil !== undefined && task.waitingUntil > now) next = `attempt ${run.attempts + 1} at ${new Date(task.waitingUntil).toLocaleTimeString()} (${task.waitingReason ?? "waiting"})`;
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
    branch: planned ? run.branch : (task?.branch ?? run.branch),
    elapsedMs: run.startedAt === undefined ? 0 : (run.endedAt ?? now) - run.startedAt,
    maxMs: run.limits.maxMs,
    costUsd: run.costUsd,
    tokens: { input: run.tokensIn, output: run.tokensOut },
    pid: run.pid ?? null,
    processAlive: alive,
    stale: alive === false,
    orphans: orphans.map((a) => ({ attemptId: a.id, pid: a.pid ?? 0 })),
    now: doing,
    next,
    lastResult,
    figures: await collectFigures(store, run.id),
    lastFailure: finished?.failure === undefined ? null : { kind: finished.failure.kind, detail: finished.failure.detail },
    report: run.report ?? null,
    createdAt: new Date(run.createdAt).toISOString(),
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
    })),
    schedule: planned ? { ...(await collectScheduleFigures(store, run, now)), concurrency: concurrencyOf(run) } : null,
    warnings: (await store.readEvents({ runId: run.id, types: ["run.noted"] })).flatMap((e) =>
      e.type === "run.noted" && e.data.level === "warning" ? [e.data.message] : [],
    ),
  };
}

/** Warnings `orch status` prints, the newest; `--json` has them all. */
const SHOWN_WARNINGS = 3;

export async function statusCommand(ctx: CliContext, ref: string | undefined, flags: { json?: boolean }): Promise<number> {
  return withRepoStore(ctx.cwd, false, async ({ store }) => {
    const run = await resolveRun(store, ref);
    const view = await statusView(store, run);
    if (flags.json === true) {
      ctx.output.json(view);
      return EXIT.ok;
    }
    const lines = [
      `run ${view.runId}: ${view.status}${view.stale ? " — STALE: its supervisor is gone" : ""}${view.reason ? ` — ${view.reason}` : ""}`,
      `  goal      ${view.goal}`,
      view.schedule !== null ? `  attempts  ${view.attempts} in all, at most ${view.maxAttempts} a task` : `  attempt   ${view.attempts}/${view.maxAttempts}`,
      `  elapsed   ${formatClock(view.elapsedMs)} of ${formatDuration(view.maxMs)}`,
      `  progress  ${Math.round(view.progress * 100)}%`,
      `  cost      $${view.costUsd.toFixed(4)} · tokens ${view.tokens.input} in / ${view.tokens.output} out`,
      `  last      ${view.lastResult ?? "—"}`,
      `  recovery  ${describeFigures(view.figures, formatDuration)}`,
      `  now       ${view.now ?? "—"}`,
      `  next      ${view.next}`,
      `  branch    ${view.branch}`,
    ];
    if (view.schedule !== null) {
      lines.push(`  schedule  ${describeSchedule(view.schedule, view.schedule.concurrency, formatDuration)}`);
      for (const t of view.tasks) {
        const after = t.dependsOn.length > 0 ? ` after ${t.dependsOn.join(", ")}` : "";
        lines.push(`    ${t.status.padEnd(9)} ${t.id}${t.role !== "implementer" ? ` (${t.role})` : ""} · ${t.attempts} attempt(s)${after}${t.integrated !== null ? ` · merged ${t.integrated.slice(0, 12)}` : ""}`);
      }
    }
    for (const warning of view.warnings.slice(-SHOWN_WARNINGS)) lines.push(`  warning   ${warning}`);
    if (view.warnings.length > SHOWN_WARNINGS) lines.push(`            (${view.warnings.length - SHOWN_WARNINGS} earlier warning(s): \`orch logs ${view.runId}\`)`);
    if (view.report !== null) lines.push(`  report    ${view.report}`);
    ctx.output.out(lines.join("\n"));
    return EXIT.ok;
  });
}

export async function listCommand(ctx: CliContext, flags: { json?: boolean }): Promise<number> {
  let runs: RunRecord[];
  try {
    runs = await withRepoStore(ctx.cwd, false, ({ store }) => store.listRuns());
  } catch (error) {
    // A repository without a journal simply has no runs yet.
    if (error instanceof Error && error.name === "NotFoundError") runs = [];
    else throw error;
  }
  if (flags.json === true) {
    ctx.output.json(
      runs.map((r) => ({
        runId: r.id,
        goal: r.goal,
        status: r.status,
        stale: supervisorAlive(r) === false,
        createdAt: new Date(r.createdAt).toISOString(),
        attempts: r.attempts,
        progress: r.progress,
        branch: r.branch,
      })),
    );
    return EXIT.ok;
  }
  if (runs.length === 0) {
    ctx.output.out('No runs yet. Start one with: orch run "<goal>" --verify "<command>"');
    return EXIT.ok;
  }
  // A run the journal calls running whose supervisor is gone says so: it runs no more until resumed.
  const rows = runs.map((r) => [r.id, supervisorAlive(r) === false ? `${r.status} (stale: supervisor gone)` : r.status, `${Math.round(r.progress * 100)}%`, `${r.attempts}/${r.limits.maxAttempts}`, new Date(r.createdAt).toISOString().slice(0, 16).replace("T", " "), firstLine(r.goal, 60)]);
  const header = ["RUN", "STATUS", "PROGRESS", "ATTEMPTS", "CREATED (UTC)", "GOAL"];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? "").length)));
  const fmt = (row: string[]) => row.map((c, i) => (i === row.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join("  ");
  ctx.output.out([fmt(header), ...rows.map(fmt)].join("\n"));
  return EXIT.ok;
}

/** What comes next in a planned run: its tasks whose loop is done and wait to be merged, those ready to start. */
function graphNext(tasks: readonly TaskRecord[]): string {
  const implementers = tasks.filter((t) => t.role === "implementer");
  const ready = new TaskGraph(implementers).ready(new Map(implementers.map((t) => [t.id, t.status]))).map((t) => t.id);
  const merging = tasks.filter((t) => t.role === "integrator" && t.status === "running").map((t) => t.id);
  const parts = [
    ...(merging.length > 0 ? [`resolve the merge conflict (${merging.join(", ")})`] : []),
    ...(ready.length > 0 ? [`start ${ready.join(", ")} as slots free up`] : []),
  ];
  const waiting = implementers.filter((t) => t.status === "pending").length - ready.length;
  if (waiting > 0) parts.push(`${waiting} task(s) wait for their dependencies`);
  return parts.length > 0 ? parts.join("; ") : "merge what finishes, then end the run";
}
