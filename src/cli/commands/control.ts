// `orch stop`, `orch pause` and `orch abort`: a request written into the journal, which the run's supervisor
// obeys (app/control.ts, which the server's API calls too); this module picks the run, waits and prints.
import { setTimeout as sleep } from "node:timers/promises";
import { isTerminalRun, type RunStatus, type StopMode } from "../../core/run.js";
import { UsageError } from "../../core/errors.js";
import { controlRun } from "../../app/control.js";
import type { RunRecord, Store } from "../../store/store.js";
import { withRepoStore } from "../../app/compose.js";
import { resolveRun } from "../../read/runs.js";
import type { CliContext } from "../context.js";
import { EXIT } from "../exit-codes.js";
import { supervisorAlive } from "../../engine/lease.js";

export async function stopCommand(ctx: CliContext, ref: string | undefined, mode: StopMode, flags: { json?: boolean; wait?: string }): Promise<number> {
  return withRepoStore(ctx.cwd, false, async ({ store }) => {
    const run = ref === undefined ? await onlyLiveRun(ctx, store, mode) : await resolveRun(store, ref);
    const outcome = await controlRun(store, run, mode, `orch ${mode} (pid ${process.pid})`);
    if (!outcome.requested) {
      ctx.output.out(outcome.message);
      return EXIT.ok;
    }
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
      ctx.output.out(`Run ${run.id} ${current?.status ?? mode}. Report: ${current?.report ?? "—"}`);
    } else {
      ctx.output.out(outcome.message);
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
