// The control routes: pause, stop and abort through app/control.ts, resume through app/resume.ts — the functions
// the CLI calls, so a button does exactly what the command does. A request the run's state refuses (it has ended,
// a live supervisor drives it) is a 409.
import { Hono } from "hono";
import { UsageError, NotFoundError } from "../../core/errors.js";
import type { StopMode } from "../../core/run.js";
import { controlRun } from "../../app/control.js";
import { assertResumable, resumeInBackground } from "../../app/resume.js";
import { resolveRun } from "../../read/runs.js";
import type { Env, ServerDeps } from "../deps.js";
import { ApiError } from "../errors.js";
import { emptyBody, query, runParam } from "../validate.js";

/** A UsageError of the run's state (not of the request's form) as a 409. */
async function asConflict<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof UsageError && !(error instanceof NotFoundError)) throw new ApiError(409, "conflict", error.message, error.hint);
    throw error;
  }
}

export function controlRoutes(deps: ServerDeps): Hono<Env> {
  const { store } = deps;
  const app = new Hono<Env>();

  for (const mode of ["pause", "stop", "abort"] as const satisfies readonly StopMode[]) {
    app.post(`/:run/${mode}`, async (c) => {
      query(c, {});
      await emptyBody(c);
      const run = await resolveRun(store, runParam(c));
      const outcome = await asConflict(() => controlRun(store, run, mode, `orch serve (pid ${process.pid})`));
      return c.json(deps.redactor.redactDeep({ ok: true, status: outcome.status, message: outcome.message }));
    });
  }

  app.post("/:run/resume", async (c) => {
    query(c, {});
    await emptyBody(c);
    const run = await resolveRun(store, runParam(c));
    await asConflict(async () => assertResumable(run));
    const outcome = await resumeInBackground(store, run, deps.repoRoot, deps.launch);
    if (!outcome.resumed) {
      if (outcome.usage) throw new ApiError(409, "conflict", `run ${run.id} was not resumed: ${outcome.why}`);
      throw new ApiError(500, "internal", `run ${run.id} was not resumed: ${outcome.why}`, `its supervisor's log is .orch/logs/${run.id}/orch.log`);
    }
    const message = `Run ${run.id} resumed in the background (pid ${outcome.pid ?? "?"}).`;
    return c.json(deps.redactor.redactDeep({ ok: true, status: outcome.status, message }));
  });

  return app;
}
