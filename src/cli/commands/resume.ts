// `orch resume RUN`: continues a paused run, a run that waited for a human, or a run whose supervisor died,
// in the mode it was started in: a detached run gets a new detached supervisor and the command returns; a
// foreground run is driven here. A run that a live supervisor drives is left alone, and the command says so.
// With `--max-attempts N` or `--max-hours H` it first journals the new limits, which also reopens a run that
// failed or was stopped on a limit (engine/extend-run.ts); each task's loop then goes on from its journal.
import { UsageError } from "../../core/errors.js";
import { extendRun } from "../../engine/extend-run.js";
import { hours, positiveInt } from "../../app/option-values.js";
import { describeHolder, supervisorAlive } from "../../engine/lease.js";
import { assertResumable, resumeInBackground } from "../../app/resume.js";
import { openRepoStore } from "../../app/compose.js";
import { resolveRun } from "../../read/runs.js";
import { type CliContext } from "../context.js";
import { EXIT } from "../exit-codes.js";
import { driveInForeground, runJson } from "./drive.js";

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
    if (!extend) assertResumable(run);
    else if (supervisorAlive(run) === true) {
      throw new UsageError(describeHolder(run.id, run.lease, Date.now()), { hint: `\`orch status ${run.id}\` shows what it is doing` });
    }
    if (extend) {
      await extendRun(store, run, asked, `orch resume (pid ${process.pid})`, Date.now());
      const reopened = await store.getRun(run.id);
      if (reopened === undefined) throw new Error(`run ${run.id} vanished`);
      run = reopened;
    }
    if (!run.detached) return await driveInForeground(ctx, store, run.id, flags.json === true, true);

    const outcome = await resumeInBackground(store, run, repo.root, ctx);
    if (outcome.resumed) {
      if (flags.json === true) ctx.output.json(await runJson(store, run.id));
      else ctx.output.out(`Run ${run.id} resumed in the background (pid ${outcome.pid ?? "?"}). \`orch status ${run.id}\` shows it; \`orch logs ${run.id} -f\` follows it.`);
      return EXIT.ok;
    }
    ctx.output.err(`orch: run ${run.id} was not resumed: ${outcome.why} (log: ${outcome.log})`);
    return outcome.usage ? EXIT.usage : EXIT.notConverged;
  } finally {
    await store.close();
  }
}

