// `orch run`: checks the request, and that its agents and verify commands can start (exit 2 and nothing written
// when not; `--no-preflight` skips the second), journals the run, then drives it in the foreground with a live
// status line, or hands it to a detached process of its own.
import { setTimeout as sleep } from "node:timers/promises";
import { preflight, preflightError } from "../../app/preflight.js";
import { buildRunRequest, type RunOptions } from "../../app/run-request.js";
import { withDefaultReviewer } from "../../app/default-reviewer.js";
import { loadConfig } from "../../config/load.js";
import { isTerminalRun } from "../../core/run.js";
import { inspectRepo, worktreeStatus } from "../../git/index.js";
import { ensureOrchDir, orchPaths } from "../../engine/paths.js";
import { createRun, planRun } from "../../engine/run-service.js";
import { openSqliteStore } from "../../store/sqlite/open.js";
import type { CliContext } from "../context.js";
import { EXIT } from "../exit-codes.js";
import { assertPlannerStarts } from "../planner-check.js";
import { driveInForeground, runJson, spawnSupervisor } from "./drive.js";

/** The run's options, and `--no-preflight` (preflight: false), which only the command line has. */
export type RunFlags = RunOptions & { preflight?: boolean };

export async function runCommand(ctx: CliContext, goal: string, flags: RunFlags): Promise<number> {
  const repo = await inspectRepo(ctx.cwd);
  const { config } = loadConfig(repo.root);
  // Whether the user's checkout holds uncommitted changes (a note, never a refusal) is asked now, beside the checks
  // below: on a big checkout `git status` takes a while. Its answer is only used once every check has passed.
  const dirty = flags.json === true ? Promise.resolve(false) : worktreeStatus(repo.root).then((status) => status.dirty, () => false);
  // A run that names no reviewer gets one that can run here, if any (another ready agent CLI).
  const request = await withDefaultReviewer(buildRunRequest(ctx.cwd, repo.root, goal, flags, config, ctx.env), config, ctx.env);
  const planned = await planRun(request, repo);
  if (request.planner !== undefined) await assertPlannerStarts(request.planner, ctx.env, repo.root);
  // What cannot work fails now, every problem at once, rather than after attempts and waits.
  if (flags.preflight !== false) {
    const problems = await preflight(planned, ctx.env);
    if (problems.length > 0) throw preflightError(problems);
  }
  if (await dirty) {
    ctx.output.err(`orch: note: your uncommitted changes are not part of this run; it starts from ${planned.base.branch} at ${planned.base.sha.slice(0, 12)}`);
  }

  // Everything above only read; from here on the run exists.
  const paths = orchPaths(planned.repo.root);
  ensureOrchDir(paths);
  const store = await openSqliteStore({ path: paths.db });
  try {
    const { run, taskFiles } = await createRun(store, planned);
    try {
      if (flags.detach === true) return await detach(ctx, run.id, run.repoRoot, flags.json === true, store);
      return await driveInForeground(ctx, store, run.id, flags.json === true);
    } finally {
      const problem = await taskFiles;
      if (problem !== undefined) ctx.output.err(`orch: warning: ${problem}`);
    }
  } finally {
    await store.close();
  }
}

async function detach(ctx: CliContext, runId: string, root: string, json: boolean, store: Awaited<ReturnType<typeof openSqliteStore>>): Promise<number> {
  const { log } = spawnSupervisor(ctx, root, runId, false);
  // Wait until the run's own process has taken it over, so that `orch status` right after shows it running.
  const deadline = Date.now() + 15_000;
  let run = await store.getRun(runId);
  while (run !== undefined && run.status === "pending" && Date.now() < deadline) {
    await sleep(100);
    run = await store.getRun(runId);
  }
  if (run === undefined || run.status === "pending") {
    ctx.output.err(`orch: the detached run ${runId} did not start; see ${log}`);
    return EXIT.notConverged;
  }
  if (json) {
    ctx.output.json(await runJson(store, runId));
  } else {
    ctx.output.out(`Run ${runId} is ${isTerminalRun(run.status) ? run.status : "running"} in the background (pid ${run.pid ?? "?"}).`);
    ctx.output.out(`  orch status ${runId}     progress\n  orch logs ${runId} -f    follow the agent\n  orch pause ${runId}      finish the current attempt, then pause (orch resume continues)\n  orch stop ${runId}       finish the current attempt, then stop\n  orch abort ${runId}      stop now`);
  }
  return EXIT.ok;
}
