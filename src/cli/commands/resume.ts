// `orch resume RUN`: continues a paused run, a run that waited for a human, or a run whose supervisor died,
// in the mode it was started in: a detached run gets a new detached supervisor and the command returns; a
// foreground run is driven here. A run that a live supervisor drives is left alone, and the command says so.
// With `--max-attempts N` or `--max-hours H` it first journals the new limits, which also reopens a run that
// failed or was stopped on a limit (engine/extend-run.ts); each task's loop then goes on from its journal.
import { readFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { UsageError } from "../../core/errors.js";
import { isTerminalRun, REOPENABLE_RUN_STATUSES } from "../../core/run.js";
import { assertNotEnded } from "../../engine/drive-run.js";
import { extendRun } from "../../engine/extend-run.js";
import { hours, positiveInt } from "../../app/option-values.js";
import { describeHolder, parseOwner, supervisorAlive } from "../../engine/lease.js";
import { openRepoStore } from "../../app/compose.js";
import { resolveRun } from "../../read/runs.js";
import { type CliContext } from "../context.js";
import { EXIT } from "../exit-codes.js";
import { driveInForeground, runJson, spawnSupervisor } from "./drive.js";

/** How long `orch resume` waits for a detached supervisor to take the run. */
const TAKEOVER_WAIT_MS = 15_000;

export interface ResumeFlags {
  json?: boolean;
  maxAttempts?: string;
  maxHours?: string;
}

export async function resumeCommand(ctx: CliContext, ref: string, flags: ResumeFlags): Promise<number> {
  // Bad values are refused before the journal is opened.
  const asked = {
    ...(flags.maxAttempts !== undefined ? { maxAttempts: positiveInt("--max-attempts", flags.maxAttempts) } : {}),
    ...(flags.maxHours !== undefined ? { maxMs: hours("--max-hours", flags.maxHours) } : {}),
  };
  const extend = flags.maxAttempts !== undefined || flags.maxHours !== undefined;
  const { store, repo } = await openRepoStore(ctx.cwd, { create: false });
  try {
    let run = await resolveRun(store, ref);
    if (!extend && isTerminalRun(run.status) && REOPENABLE_RUN_STATUSES.includes(run.status)) {
      throw new UsageError(`run ${run.id} has already ended (${run.status}: ${run.reason ?? "no reason given"})`, {
        hint: `\`orch resume ${run.id} --max-attempts N\` (or --max-hours H) continues it with new limits, if it ended on one`,
      });
    }
    if (!extend) assertNotEnded(run);
    if (supervisorAlive(run) === true) {
      throw new UsageError(describeHolder(run.id, run.lease, Date.now()), { hint: `\`orch status ${run.id}\` shows what it is doing` });
    }
    if (extend) {
      await extendRun(store, run, asked, `orch resume (pid ${process.pid})`, Date.now());
      const reopened = await store.getRun(run.id);
      if (reopened === undefined) throw new Error(`run ${run.id} vanished`);
      run = reopened;
    }
    if (!run.detached) return await driveInForeground(ctx, store, run.id, flags.json === true, true);

    const { child, log } = spawnSupervisor(ctx, repo.root, run.id, true);
    const deadline = Date.now() + TAKEOVER_WAIT_MS;
    for (;;) {
      const current = await store.getRun(run.id);
      const holder = current?.lease === undefined ? undefined : parseOwner(current.lease.owner);
      // Taken over: the new supervisor holds the lease and has journaled the resume (or already finished).
      const takenOver = holder?.pid === child.pid && current?.status === "running";
      if (current !== undefined && (takenOver || isTerminalRun(current.status))) {
        if (flags.json === true) ctx.output.json(await runJson(store, run.id));
        else ctx.output.out(`Run ${run.id} resumed in the background (pid ${child.pid ?? "?"}). \`orch status ${run.id}\` shows it; \`orch logs ${run.id} -f\` follows it.`);
        return EXIT.ok;
      }
      if (child.exitCode !== null || Date.now() > deadline) {
        // The new supervisor said why in its log (another resume won the run, say): its last line.
        const said = lastLine(log);
        const why = child.exitCode === null ? "it did not take the run over in time" : said.replace(/^run \S+ was not driven: /, "");
        ctx.output.err(`orch: run ${run.id} was not resumed: ${why} (log: ${log})`);
        return child.exitCode === EXIT.usage ? EXIT.usage : EXIT.notConverged;
      }
      await sleep(50);
    }
  } finally {
    await store.close();
  }
}

function lastLine(file: string): string {
  try {
    return readFileSync(file, "utf8").trimEnd().split("\n").pop() ?? "";
  } catch {
    return "";
  }
}
