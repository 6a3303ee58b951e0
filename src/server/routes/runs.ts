// The read routes of the API: runs, a run's status view, its attempts, pages of its events, its report and its
// plan. Everything from the journal (src/read/), redacted on the way out.
import { Hono } from "hono";
import { collectReport, renderReport } from "../../engine/report.js";
import { attemptsView } from "../../read/attempts.js";
import { resolveRun } from "../../read/runs.js";
import { listView, statusView } from "../../read/status-view.js";
import { MAX_PAGE, readTranscriptPage } from "../../read/transcript.js";
import type { EventQuery } from "../../store/store.js";
import type { Env, ServerDeps } from "../deps.js";
import { ApiError } from "../errors.js";
import { Id, Limit, query, runParam, Seq } from "../validate.js";
import { wireEvent } from "../wire.js";

export function runRoutes(deps: ServerDeps): Hono<Env> {
  const { store, redactor } = deps;
  const send = <T>(value: T) => redactor.redactDeep(value);
  const app = new Hono<Env>();

  app.get("/", async (c) => {
    const q = query(c, { limit: Limit(1_000).optional() });
    const runs = await listView(store, q.limit === undefined ? {} : { limit: q.limit });
    return c.json(send({ runs: runs.map(({ maxAttempts: _max, ...item }) => item) }));
  });

  app.get("/:run", async (c) => {
    query(c, {});
    const run = await resolveRun(store, runParam(c));
    return c.json(send(await statusView(store, run)));
  });

  app.get("/:run/attempts", async (c) => {
    query(c, {});
    const run = await resolveRun(store, runParam(c));
    return c.json(send({ attempts: await attemptsView(store, run.id) }));
  });

  app.get("/:run/events", async (c) => {
    const q = query(c, { after: Seq.optional(), limit: Limit(MAX_PAGE).optional(), task: Id.optional(), attempt: Id.optional() });
    const run = await resolveRun(store, runParam(c));
    const events: EventQuery = { runId: run.id };
    if (q.task !== undefined) {
      if ((await store.getTask(run.id, q.task)) === undefined) throw new ApiError(404, "not_found", `run ${run.id} has no task "${q.task}"`);
      events.taskId = q.task;
    }
    if (q.attempt !== undefined) {
      const attempt = await store.getAttempt(q.attempt);
      if (attempt === undefined || attempt.runId !== run.id) throw new ApiError(404, "not_found", `run ${run.id} has no attempt "${q.attempt}"`);
      events.attemptId = q.attempt;
    }
    const page = await readTranscriptPage(store, events, q.after ?? 0, q.limit ?? 1_000);
    return c.json({ events: page.events.map((e) => wireEvent(e, redactor)), nextSeq: page.nextSeq, more: page.more });
  });

  app.get("/:run/report", async (c) => {
    query(c, {});
    const run = await resolveRun(store, runParam(c));
    // A report exists once the run has ended (its path is journaled then); it is rendered from the journal.
    if (run.report === undefined) throw new ApiError(404, "not_found", `run ${run.id} has no report yet: it is written when the run ends`, `GET /api/runs/${run.id} shows where it stands`);
    return c.json({ markdown: redactor.redact(renderReport(await collectReport(store, run.id))) });
  });

  app.get("/:run/plan", async (c) => {
    query(c, {});
    const run = await resolveRun(store, runParam(c));
    const tasks = (await store.listTasks(run.id)).filter((t) => t.role !== "planner");
    if (!run.settings.plan || tasks.length === 0) throw new ApiError(404, "not_found", run.settings.plan ? `run ${run.id} has no plan yet: its planner is still at work` : `run ${run.id} runs one task, without a plan`);
    const plan = {
      tasks: tasks.map((t) => ({ id: t.id, title: t.title, goal: t.goal, criteria: t.criteria, dependsOn: t.dependsOn, role: t.role, priority: t.priority, risk: t.risk, status: t.status })),
    };
    return c.json(send({ plan }));
  });

  return app;
}
