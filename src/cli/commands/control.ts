// `orch stop`, `orch pause` and `orch abort`: a request written into the journal, which the run's supervisor
// obeys. A run nobody drives (paused, or its supervisor died) cannot obey, so its end (or pause) is recorded
// here directly.
import { setTimeout as sleep } from "node:timers/promises";
import { isTerminalRun, type RunStatus, type StopMode } from "../../core/run.js";
import { UsageError } from "../../core/errors.js";
import { orchPaths, reportPath } from "../../engine/paths.js";
import { writeReport } from "../../engine/report.js";
import type { RunRecord, Store } from "../../store/store.js";
import { withRepoStore } from "../../app/compose.js";
import { resolveRun } from "../../read/runs.js";
import type { CliContext } from "../context.js";
import { EXIT } from "../exit-codes.js";
import { supervisorAlive } from "../../engine/lease.js";

export async function stopCommand(ctx: CliContext, ref: string | undefined, mode: StopMode, flags: { json?: boolean; wait?: string }): Promise<number> {
  return withRepoStore(ctx.cwd, false, async ({ store }) => {
    const run = ref === undefined ? await onlyLiveRun(ctx, store, mode) : await resolveRun(store, ref);
    if (isTerminalRun(run.status)) {
      throw new UsageError(`run ${run.id} has already ended (${run.status})`, { hint: `\`orch report ${run.id}\` shows how it ended` });
    }
    const verb = mode === "abort" ? "aborted" : mode === "pause" ? "paused" : "stopped";
    const driven = run.status === "pending" || supervisorAlive(run) === true;
    if (!driven && mode === "pause") {
      if (run.status === "paused" || run.status === "waiting") {
        throw new UsageError(`run ${run.id} is ${run.status}; nothing drives it, so there is nothing to pause`, { hint: `\`orch resume ${run.id}\` continues it` });
      }
      const reason = `paused by the user after its supervisor (pid ${run.pid ?? "?"}) was gone; \`orch resume ${run.id}\` continues it`;
      await store.append([{ type: "run.paused", runId: run.id, data: { reason } }]);
      ctx.output.out(`Run ${run.id} paused (its supervisor was already gone). \`orch resume ${run.id}\` continues it.`);
      return EXIT.ok;
    }
    if (!driven) {
      // Nobody is driving this run: record its end here so that it does not look alive forever.
      const tasks = await store.listTasks(run.id);
      const who = run.status === "paused" ? "while it was paused" : `after its supervisor (pid ${run.pid ?? "?"}) was gone`;
      const reason = `${verb} by the user ${who}`;
      const report = reportPath(orchPaths(run.repoRoot), run.id);
      const status: "aborted" | "stopped" = mode === "abort" ? "aborted" : "stopped";
      await store.append([
        ...tasks
          .filter((t) => t.status === "pending" || t.status === "running")
          .map((t) => ({ type: "task.finished" as const, runId: run.id, taskId: t.id, data: { status, reason } })),
        { type: "run.finished", runId: run.id, data: { status, reason, report } },
      ]);
      await writeReport(store, run.id, report);
      ctx.output.out(`Run ${run.id} ${status} (nothing was driving it). Report: ${report}`);
      return EXIT.ok;
    }
    await store.append([{ type: "run.stop-requested", runId: run.id, data: { mode, by: `orch ${mode} (pid ${process.pid})` } }]);
    // Abort takes effect within a second; stop lets the current attempt finish, so by default only abort waits.
    const waitMs = flags.wait !== undefined ? Number(flags.wait) * 1_000 : mode === "abort" ? 30_000 : 0;
    const deadline = Date.now() + (Number.isFinite(waitMs) ? waitMs : 0);
    let current = await store.getRun(run.id);
    const settled = (status: RunStatus) => isTerminalRun(status) || (mode === "pause" && status === "paused");
    while (current !== undefined && !settled(current.status) && Date.now() < deadline) {
      await sleep(200);
      current = await store.getRun(run.id);
    }
    const ended = current !== undefined && settled(current.status);
    if (flags.json === true) {
      ctx.output.json({ runId: run.id, requested: mode, status: current?.status ?? run.status, ended });
    } else if (ended) {
      ctx.output.out(`Run ${run.id} ${current?.status ?? verb}. Report: ${current?.report ?? "—"}`);
    } else {
      ctx.output.out(
        mode === "stop"
          ? `Stop requested: run ${run.id} finishes its current attempt, then stops with a report. \`orch status ${run.id}\` shows when.`
          : mode === "pause"
            ? `Pause requested: run ${run.id} finishes its current attempt, then pauses. \`orch resume ${run.id}\` continues it.`
            : `Abort requested for run ${run.id}; it has not ended yet. \`orch status ${run.id}\` shows when.`,
      );
    }
    return EXIT.ok;
  });
}

/**
 * Without a run named, the one run a supervisor drives now (or is about to: pending), said out loud; with none
 * or several, a UsageError that lists them, since guessing could stop the wrong one.
 */
async function onlyLiveRun(ctx: CliContext, store: Store, mode: StopMode): Promise<RunRecord> {
  const live = (await store.listRuns()).filter((run) => run.status === "pending" || supervisorAlive(run) === true);
  const [only] = live;
  if (only !== undefined && live.length === 1) {
    ctx.output.err(`orch: ${mode} run ${only.id}, the only live run: ${firstLine(only.goal)}`);
    return only;
  }
  if (only === undefined) {
    throw new UsageError(`no run is live, so there is none to ${mode}`, { hint: `name one: orch ${mode} RUN (\`orch list\` shows the runs)` });
  }
  const rows = live.map((run) => `\n  ${run.id}  ${run.status}  ${firstLine(run.goal)}`).join("");
  throw new UsageError(`${live.length} runs are live; say which one to ${mode}:${rows}`, { hint: `orch ${mode} RUN` });
}

function firstLine(text: string): string {
  const line = text.split("\n")[0] ?? "";
  return line.length > 60 ? `${line.slice(0, 59)}…` : line;
}
