// `orch stop` and `orch abort`: a request written into the journal, which the run's own process obeys.
// A run whose process is gone cannot obey, so its end is recorded here directly.
import { setTimeout as sleep } from "node:timers/promises";
import { isTerminalRun, type StopMode } from "../../core/run.js";
import { UsageError } from "../../core/errors.js";
import { orchPaths, reportPath } from "../../engine/paths.js";
import { writeReport } from "../../engine/report.js";
import { resolveRun, withRepoStore, type CliContext } from "../context.js";
import { EXIT } from "../exit-codes.js";
import { runProcessAlive } from "./status.js";

export async function stopCommand(ctx: CliContext, ref: string, mode: StopMode, flags: { json?: boolean; wait?: string }): Promise<number> {
  return withRepoStore(ctx.cwd, false, async ({ store }) => {
    const run = await resolveRun(store, ref);
    if (isTerminalRun(run.status)) {
      throw new UsageError(`run ${run.id} has already ended (${run.status})`, { hint: `\`orch report ${run.id}\` shows how it ended` });
    }
    const verb = mode === "abort" ? "aborted" : "stopped";
    if (run.status !== "pending" && runProcessAlive(run) === false) {
      // Nobody is driving this run: record its end here so that it does not look alive forever.
      const tasks = await store.listTasks(run.id);
      const reason = `${verb} by the user after its process (pid ${run.pid ?? "?"}) was gone`;
      const report = reportPath(orchPaths(run.repoRoot), run.id);
      await store.append([
        ...tasks
          .filter((t) => t.status === "pending" || t.status === "running")
          .map((t) => ({ type: "task.finished" as const, runId: run.id, taskId: t.id, data: { status: verb, reason } as const })),
        { type: "run.finished", runId: run.id, data: { status: verb, reason, report } },
      ]);
      await writeReport(store, run.id, report);
      ctx.output.out(`Run ${run.id} ${verb} (its process was already gone). Report: ${report}`);
      return EXIT.ok;
    }
    await store.append([{ type: "run.stop-requested", runId: run.id, data: { mode, by: `orch ${mode} (pid ${process.pid})` } }]);
    // Abort takes effect within a second; stop lets the current attempt finish, so by default only abort waits.
    const waitMs = flags.wait !== undefined ? Number(flags.wait) * 1_000 : mode === "abort" ? 30_000 : 0;
    const deadline = Date.now() + (Number.isFinite(waitMs) ? waitMs : 0);
    let current = await store.getRun(run.id);
    while (current !== undefined && !isTerminalRun(current.status) && Date.now() < deadline) {
      await sleep(200);
      current = await store.getRun(run.id);
    }
    const ended = current !== undefined && isTerminalRun(current.status);
    if (flags.json === true) {
      ctx.output.json({ runId: run.id, requested: mode, status: current?.status ?? run.status, ended });
    } else if (ended) {
      ctx.output.out(`Run ${run.id} ${current?.status ?? verb}. Report: ${current?.report ?? "—"}`);
    } else {
      ctx.output.out(
        mode === "stop"
          ? `Stop requested: run ${run.id} finishes its current attempt, then stops with a report. \`orch status ${run.id}\` shows when.`
          : `Abort requested for run ${run.id}; it has not ended yet. \`orch status ${run.id}\` shows when.`,
      );
    }
    return EXIT.ok;
  });
}
