// Driving a journaled run to its end, in the foreground (status line, Ctrl-C) or as the detached run's
// own process (`orch __drive RUN`). Either way every agent process group dies with orch.
import { readsAsPlan } from "../../core/run.js";
import { describeRunDelivery } from "../../core/delivery-text.js";
import type { ChildProcess } from "node:child_process";
import { spawnSupervisor as startSupervisor } from "../../app/resume.js";
import { UsageError } from "../../core/errors.js";
import { driveRun } from "../../engine/drive-run.js";
import { ProcessGroups } from "../../process/groups.js";
import type { Store } from "../../store/store.js";
import type { CliContext } from "../context.js";
import { engineDeps, openRepoStore } from "../../app/compose.js";
import { notifySettings } from "../../app/notify-settings.js";
import { loadConfig } from "../../config/load.js";
import { rulesInForce } from "../../core/risk-rules.js";
import { EXIT, exitCodeForRun } from "../exit-codes.js";
import { StatusLine } from "../status-line.js";

export async function runJson(store: Store, runId: string) {
  const run = await store.getRun(runId);
  if (run === undefined) throw new Error(`no run ${runId}`);
  return { runId: run.id, status: run.status, branch: run.branch, attempts: run.attempts, report: run.report ?? null, reason: run.reason ?? null };
}

/**
 * Drives a run with signals wired. Ctrl-C (SIGINT) stops the agent now and pauses the run, resumable; SIGTERM
 * drains: no new attempt, the running one has the grace period, then the run stops with a report. A second
 * signal exits at once (the exit handler kills every agent group; the journal keeps the run resumable).
 */
async function driveWithSignals(ctx: CliContext, store: Store, runId: string, detached: boolean, resume: boolean, status?: StatusLine) {
  const run = await store.getRun(runId);
  if (run === undefined) throw new Error(`no run ${runId}`);
  // orch.config.yaml as it is when driving starts (a resume reads it again): webhooks and the gate's risk rules.
  const { config } = loadConfig(run.repoRoot);
  const notify = notifySettings(config);
  const riskRules = rulesInForce(config.risk.rules).rules;
  const groups = new ProcessGroups();
  const uninstall = groups.installExitHandler();
  const interrupt = new AbortController();
  const terminate = new AbortController();
  let signalled = false;
  let interrupted = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (signalled) process.exit(EXIT.interrupted);
    signalled = true;
    if (signal === "SIGTERM") {
      terminate.abort("terminate");
    } else {
      interrupted = true;
      interrupt.abort("interrupt");
    }
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  // A detached run outlives its terminal; a foreground run pauses with it.
  const onHangup = detached ? () => undefined : () => onSignal("SIGHUP");
  process.on("SIGHUP", onHangup);
  try {
    const result = await driveRun(engineDeps(ctx.env, store, run.repoRoot, groups), {
      runId,
      detached,
      resume,
      interrupt: interrupt.signal,
      terminate: terminate.signal,
      notify,
      riskRules,
      ...(status !== undefined ? { onActivity: (a) => status.update(a) } : {}),
    });
    return { ...result, interrupted };
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    process.off("SIGHUP", onHangup);
    groups.killAll("SIGKILL");
    uninstall();
  }
}

export async function driveInForeground(ctx: CliContext, store: Store, runId: string, json: boolean, resume = false): Promise<number> {
  const run = await store.getRun(runId);
  if (run === undefined) throw new Error(`no run ${runId}`);
  if (!json) ctx.output.err(`orch: ${resume ? "resuming " : ""}run ${run.id} on ${run.branch} — ${run.goal}`);
  const withTask = readsAsPlan(run.settings.plan, await store.listTasks(runId));
  const status = new StatusLine(ctx.output, { maxAttempts: run.limits.maxAttempts, startedAt: Date.now(), limitMs: run.limits.maxMs, withTask });
  status.start();
  let result;
  try {
    result = await driveWithSignals(ctx, store, runId, false, resume, status);
  } finally {
    status.stop();
  }
  const final = result.run;
  if (json) {
    ctx.output.json(await runJson(store, runId));
  } else {
    ctx.output.out(`${final.status === "succeeded" ? "✔" : final.status === "paused" ? "‖" : "✖"} ${final.status}: ${final.reason ?? ""}`);
    const tasks = (await store.listTasks(runId)).filter((t) => t.role !== "planner");
    const [only] = tasks.length === 1 ? tasks : [];
    if (final.status === "succeeded") {
      ctx.output.out(`  branch to merge: ${final.branch}`);
      for (const e of await store.readEvents({ runId, types: ["run.delivered"] })) if (e.type === "run.delivered") ctx.output.out(`  ${describeRunDelivery(e.data)}`);
    }
    else if (only !== undefined) ctx.output.out(`  work in progress: ${only.worktree}`);
    else ctx.output.out(`  run branch (the tasks integrated so far): ${final.branch}`);
    ctx.output.out(`  report: ${result.report}`);
  }
  return exitCodeForRun(final.status, result.interrupted);
}

/** How long a detached supervisor whose run is written and closed may take to exit on its own. */
const EXIT_GRACE_MS = 2_000;

/** `orch __drive RUN [--resume]`: the detached run's own process. */
export async function driveDetached(ctx: CliContext, runId: string, resume = false): Promise<number> {
  const code = await driveDetachedOnce(ctx, runId, resume);
  // Its run is written and its journal closed: nothing may keep this process alive any more (`orch status` would
  // still see it). Should something (a handle left open) hold it, it says what in its log and goes.
  setTimeout(() => {
    ctx.output.err(`run ${runId}: exiting although these were still open: ${process.getActiveResourcesInfo().join(", ")}`);
    process.exit(code);
  }, EXIT_GRACE_MS).unref();
  return code;
}

async function driveDetachedOnce(ctx: CliContext, runId: string, resume: boolean): Promise<number> {
  const { store } = await openRepoStore(ctx.cwd, { create: false });
  try {
    const result = await driveWithSignals(ctx, store, runId, true, resume);
    ctx.output.err(`run ${runId} ended: ${result.run.status} — ${result.run.reason ?? ""}`);
    return exitCodeForRun(result.run.status, result.interrupted);
  } catch (error) {
    if (error instanceof UsageError) {
      ctx.output.err(`run ${runId} was not driven: ${error.message}`);
      return EXIT.usage;
    }
    ctx.output.err(`run ${runId} could not be driven: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    return EXIT.notConverged;
  } finally {
    await store.close();
  }
}

/** Starts `orch __drive RUN` as a detached supervisor (app/resume.ts). */
export function spawnSupervisor(ctx: CliContext, root: string, runId: string, resume: boolean): { child: ChildProcess; log: string } {
  return startSupervisor(ctx, root, runId, resume);
}
