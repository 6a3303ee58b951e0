// Pause, stop and abort a run, shared by the CLI (`orch pause|stop|abort`) and the server's API: a request written
// into the journal, which the run's supervisor obeys. A run nobody drives (paused, or its supervisor died) cannot
// obey, so its end (or pause) is recorded here directly. Invariant: a run that has ended is never written to.
import { isTerminalRun, type RunStatus, type StopMode } from "../core/run.js";
import { UsageError } from "../core/errors.js";
import { orchPaths, reportPath } from "../engine/paths.js";
import { writeReport } from "../engine/report.js";
import { supervisorAlive } from "../engine/lease.js";
import type { RunRecord, Store } from "../store/store.js";

/** What a control request did: recorded the run's new state itself, or asked its supervisor to act. */
export interface ControlOutcome {
  runId: string;
  mode: StopMode;
  /** The run's status right after the request. */
  status: RunStatus;
  /** The request went to a live supervisor, which acts on it after (or, for abort, during) its current attempt. */
  requested: boolean;
  /** One plain sentence for a human. */
  message: string;
}

/** Pauses, stops or aborts `run` (see the module comment); a UsageError when it has ended or cannot be paused. */
export async function controlRun(store: Store, run: RunRecord, mode: StopMode, by: string): Promise<ControlOutcome> {
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
    return { runId: run.id, mode, status: "paused", requested: false, message: `Run ${run.id} paused (its supervisor was already gone). \`orch resume ${run.id}\` continues it.` };
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
    return { runId: run.id, mode, status, requested: false, message: `Run ${run.id} ${status} (nothing was driving it). Report: ${report}` };
  }
  await store.append([{ type: "run.stop-requested", runId: run.id, data: { mode, by } }]);
  return { runId: run.id, mode, status: (await store.getRun(run.id))?.status ?? run.status, requested: true, message: requestedMessage(run.id, mode) };
}

/** What a request to a live supervisor means, before it has taken effect. */
export function requestedMessage(runId: string, mode: StopMode): string {
  return mode === "stop"
    ? `Stop requested: run ${runId} finishes its current attempt, then stops with a report. \`orch status ${runId}\` shows when.`
    : mode === "pause"
      ? `Pause requested: run ${runId} finishes its current attempt, then pauses. \`orch resume ${runId}\` continues it.`
      : `Abort requested for run ${runId}; it has not ended yet. \`orch status ${runId}\` shows when.`;
}
