// Applies one journal event to the projection tables, inside the caller's transaction. Every status change
// goes through the pure transition functions of core/, so a row can only reach a state its event allows.
import type { Kysely } from "kysely";
import { transitionAttempt, type AttemptState } from "../core/attempt.js";
import { assertNever } from "../core/assert.js";
import type { NewEvent, Supervisor } from "../core/journal.js";
import { transitionRun, type RunState } from "../core/run.js";
import { transitionTask, type TaskState } from "../core/task.js";
import { NotFoundError } from "../core/errors.js";
import { parseAttempt, parseRun, parseTask } from "./rows.js";
import type { Database } from "./schema.js";
import type { AttemptRecord, RunRecord, TaskRecord } from "./store.js";

type Db = Kysely<Database>;

export async function project(db: Db, event: NewEvent, at: number): Promise<void> {
  switch (event.type) {
    case "run.created": {
      const d = event.data;
      await db
        .insertInto("runs")
        .values({
          id: event.runId,
          goal: d.goal,
          status: "pending",
          reason: null,
          repo_root: d.repoRoot,
          base_branch: d.baseBranch,
          base_sha: d.baseSha,
          branch: d.branch,
          agent: d.agent.agent,
          model: d.agent.model ?? null,
          fallback_models: JSON.stringify(d.agent.fallbackModels),
          criteria: JSON.stringify(d.criteria),
          limits: JSON.stringify(d.limits),
          config: JSON.stringify(d.config),
          created_at: at,
          started_at: null,
          ended_at: null,
          pid: null,
          pid_start_time: null,
          host: null,
          detached: 0,
          stop_requested: null,
          attempts: 0,
          progress: 0,
          cost_usd: 0,
          tokens_in: 0,
          tokens_out: 0,
          report: null,
          lease_owner: null,
          lease_until: null,
          lease_fence: 0,
        })
        .execute();
      return;
    }
    case "run.started": {
      const next = transitionRun(runState(await loadRun(db, event.runId)), { type: "run.started", at });
      await db.updateTable("runs").set({ ...runColumns(next), ...supervisorColumns(event.data) }).where("id", "=", event.runId).execute();
      return;
    }
    case "run.resumed": {
      const next = transitionRun(runState(await loadRun(db, event.runId)), { type: "run.resumed", at });
      await db.updateTable("runs").set({ ...runColumns(next), ...supervisorColumns(event.data) }).where("id", "=", event.runId).execute();
      return;
    }
    case "run.paused": {
      const next = transitionRun(runState(await loadRun(db, event.runId)), { type: "run.paused", at, reason: event.data.reason });
      await db.updateTable("runs").set(runColumns(next)).where("id", "=", event.runId).execute();
      return;
    }
    case "run.stop-requested": {
      const next = transitionRun(runState(await loadRun(db, event.runId)), { type: "run.stop-requested", at, mode: event.data.mode });
      await db.updateTable("runs").set(runColumns(next)).where("id", "=", event.runId).execute();
      return;
    }
    case "run.waiting": {
      const next = transitionRun(runState(await loadRun(db, event.runId)), { type: "run.waiting", at, reason: event.data.reason });
      await db.updateTable("runs").set(runColumns(next)).where("id", "=", event.runId).execute();
      return;
    }
    case "run.finished": {
      const next = transitionRun(runState(await loadRun(db, event.runId)), {
        type: "run.finished",
        at,
        status: event.data.status,
        reason: event.data.reason,
      });
      await db
        .updateTable("runs")
        .set({ ...runColumns(next), report: event.data.report ?? null })
        .where("id", "=", event.runId)
        .execute();
      return;
    }
    case "run.extended": {
      const run = await loadRun(db, event.runId);
      const { maxAttempts, maxMs } = event.data;
      const next = transitionRun(runState(run), { type: "run.extended", at, reason: `reopened with new limits (${maxAttempts} attempts)` });
      // A run that only took new limits keeps its status, and its reason with it.
      const columns = next.status === run.status ? {} : runColumns(next);
      await db
        .updateTable("runs")
        .set({ ...columns, limits: JSON.stringify({ ...run.limits, maxAttempts, maxMs }) })
        .where("id", "=", event.runId)
        .execute();
      return;
    }
    case "run.noted":
    // Worktrees removed after the run ended: the journal keeps what was removed; no projection changes.
    case "run.collected":
    // Deliveries of notices: the journal keeps them for the report and `orch logs`.
    case "notify.sent":
    case "notify.failed":
    case "notify.dropped":
    // A succeeded run's push and pull request, after its end: the journal keeps them; no projection changes.
    case "run.delivered":
      return;
    case "task.created": {
      const d = event.data;
      await db
        .insertInto("tasks")
        .values({
          run_id: event.runId,
          id: requireId(event.taskId, event.type, "taskId"),
          title: d.title,
          goal: d.goal,
          criteria: JSON.stringify(d.criteria),
          status: "pending",
          reason: null,
          branch: d.branch,
          worktree: d.worktree,
          attempts: 0,
          progress: 0,
          commit_sha: null,
          created_at: at,
          started_at: null,
          ended_at: null,
          waiting_until: null,
          waiting_reason: null,
          role: d.role ?? "implementer",
          depends_on: JSON.stringify(d.dependsOn ?? []),
          priority: d.priority ?? 0,
          risk: d.risk ?? "low",
          position: d.position ?? 0,
          spec: d.spec === undefined ? null : JSON.stringify(d.spec),
          integrated_sha: null,
        })
        .execute();
      return;
    }
    case "task.integrated": {
      const taskId = requireId(event.taskId, event.type, "taskId");
      await db.updateTable("tasks").set({ integrated_sha: event.data.merge }).where("run_id", "=", event.runId).where("id", "=", taskId).execute();
      return;
    }
    case "task.reverted": {
      const taskId = requireId(event.taskId, event.type, "taskId");
      await db.updateTable("tasks").set({ integrated_sha: null }).where("run_id", "=", event.runId).where("id", "=", taskId).execute();
      return;
    }
    case "task.reopened": {
      const taskId = requireId(event.taskId, event.type, "taskId");
      const task = await loadTask(db, event.runId, taskId);
      const next = transitionTask(taskState(task), { type: "task.reopened", at, to: event.data.to });
      await db
        .updateTable("tasks")
        .set({ ...taskColumns(next), ...(next.status === "pending" ? { started_at: null } : {}), commit_sha: null, waiting_until: null, waiting_reason: null })
        .where("run_id", "=", event.runId)
        .where("id", "=", taskId)
        .execute();
      return;
    }
    case "task.merge-found":
      // Only the run's graph folds it (core/run-graph.ts).
      return;
    case "task.started":
    case "task.finished": {
      const taskId = requireId(event.taskId, event.type, "taskId");
      const task = await loadTask(db, event.runId, taskId);
      const next = transitionTask(
        taskState(task),
        event.type === "task.started"
          ? { type: "task.started", at }
          : { type: "task.finished", at, status: event.data.status, reason: event.data.reason, commit: event.data.commit },
      );
      await db
        .updateTable("tasks")
        .set({ ...taskColumns(next), waiting_until: null, waiting_reason: null })
        .where("run_id", "=", event.runId)
        .where("id", "=", taskId)
        .execute();
      return;
    }
    case "task.assessed":
    case "task.approved":
    case "task.rejected": {
      // A task the gate holds for a human says so where a task's wait is shown; a decision ends the wait.
      const taskId = requireId(event.taskId, event.type, "taskId");
      const waiting = event.type === "task.assessed" && event.data.decision === "human" ? `waits for a human to approve ${event.data.commit.slice(0, 12)}: ${event.data.why}` : null;
      await db.updateTable("tasks").set({ waiting_until: null, waiting_reason: waiting }).where("run_id", "=", event.runId).where("id", "=", taskId).execute();
      return;
    }
    case "task.waited": {
      const taskId = requireId(event.taskId, event.type, "taskId");
      await db
        .updateTable("tasks")
        .set({ waiting_until: event.data.until, waiting_reason: event.data.reason })
        .where("run_id", "=", event.runId)
        .where("id", "=", taskId)
        .execute();
      return;
    }
    case "attempt.started": {
      const taskId = requireId(event.taskId, event.type, "taskId");
      const attemptId = requireId(event.attemptId, event.type, "attemptId");
      await db
        .insertInto("attempts")
        .values({
          id: attemptId,
          run_id: event.runId,
          task_id: taskId,
          number: event.data.number,
          agent: event.data.agent,
          model: event.data.model ?? null,
          status: "starting",
          pid: null,
          pid_start_time: null,
          session_id: event.data.resumedSession ?? null,
          transcript: event.data.transcript,
          started_at: at,
          ended_at: null,
          exit_code: null,
          signal: null,
          exit_reason: null,
          duration_ms: null,
          failure: null,
          progress: null,
          usage: null,
          cost_usd: null,
          criteria: null,
          commit_sha: null,
          role: event.data.role ?? "implementer",
          review: null,
        })
        .execute();
      // A reviewer's attempt is not one of the task's attempts (its limit counts the implementer's).
      if (event.data.role === "reviewer") return;
      await db
        .updateTable("tasks")
        .set((eb) => ({ attempts: eb("attempts", "+", 1), waiting_until: null, waiting_reason: null }))
        .where("run_id", "=", event.runId)
        .where("id", "=", taskId)
        .execute();
      await db
        .updateTable("runs")
        .set((eb) => ({ attempts: eb("attempts", "+", 1) }))
        .where("id", "=", event.runId)
        .execute();
      return;
    }
    case "attempt.spawned": {
      const attempt = await loadAttempt(db, event);
      const next = transitionAttempt(attemptState(attempt), { type: "attempt.spawned", at, pid: event.data.pid });
      await db
        .updateTable("attempts")
        .set({ status: next.status, pid: event.data.pid, pid_start_time: event.data.startTime ?? null })
        .where("id", "=", attempt.id)
        .execute();
      return;
    }
    case "agent.emitted": {
      // The hot path: agent output only touches a projection when it names the session or model.
      if (event.data.type !== "session.started") return;
      const attemptId = requireId(event.attemptId, event.type, "attemptId");
      await db
        .updateTable("attempts")
        .set((eb) => ({
          session_id: event.data.type === "session.started" ? event.data.sessionId : null,
          model: event.data.type === "session.started" && event.data.model !== undefined ? event.data.model : eb.ref("model"),
        }))
        .where("id", "=", attemptId)
        .execute();
      return;
    }
    case "attempt.exited": {
      const attempt = await loadAttempt(db, event);
      const d = event.data;
      const next = transitionAttempt(attemptState(attempt), { type: "attempt.exited", at, failure: d.failure });
      await db
        .updateTable("attempts")
        .set({
          status: next.status,
          exit_code: d.exitCode,
          signal: d.signal,
          exit_reason: d.reason,
          duration_ms: d.durationMs,
          session_id: d.sessionId ?? attempt.sessionId ?? null,
          model: d.model ?? attempt.model ?? null,
          usage: d.usage === undefined ? null : JSON.stringify(d.usage),
          cost_usd: d.costUsd ?? null,
          failure: d.failure === undefined ? null : JSON.stringify(d.failure),
          ended_at: d.failure === undefined ? null : at,
          progress: d.failure === undefined ? null : 0,
        })
        .where("id", "=", attempt.id)
        .execute();
      await db
        .updateTable("runs")
        .set((eb) => ({
          cost_usd: eb("cost_usd", "+", d.costUsd ?? 0),
          tokens_in: eb("tokens_in", "+", d.usage?.inputTokens ?? 0),
          tokens_out: eb("tokens_out", "+", d.usage?.outputTokens ?? 0),
        }))
        .where("id", "=", event.runId)
        .execute();
      return;
    }
    case "verify.completed": {
      const attempt = await loadAttempt(db, event);
      transitionAttempt(attemptState(attempt), { type: "verify.completed", at });
      await db
        .updateTable("attempts")
        .set({ criteria: JSON.stringify(event.data.criteria), progress: event.data.progress })
        .where("id", "=", attempt.id)
        .execute();
      return;
    }
    case "attempt.finished": {
      const attempt = await loadAttempt(db, event);
      const d = event.data;
      const next = transitionAttempt(attemptState(attempt), {
        type: "attempt.finished",
        at,
        outcome: d.outcome,
        progress: d.progress,
        failure: d.failure,
      });
      await db
        .updateTable("attempts")
        .set({
          status: next.status,
          ended_at: attempt.endedAt ?? at,
          progress: d.progress,
          failure: next.status === "failed" ? JSON.stringify(next.failure) : null,
          commit_sha: d.commit ?? null,
          review: d.review !== undefined ? JSON.stringify(d.review) : null,
        })
        .where("id", "=", attempt.id)
        .execute();
      await db
        .updateTable("tasks")
        .set({ progress: d.progress })
        .where("run_id", "=", event.runId)
        .where("id", "=", attempt.taskId)
        .execute();
      const tasks = await db.selectFrom("tasks").select("progress").where("run_id", "=", event.runId).execute();
      const progress = tasks.reduce((sum, t) => sum + Number(t.progress), 0) / Math.max(1, tasks.length);
      await db.updateTable("runs").set({ progress }).where("id", "=", event.runId).execute();
      return;
    }
    default:
      return assertNever(event, "journal event");
  }
}

function requireId(id: string | undefined, type: string, field: string): string {
  if (id === undefined || id === "") throw new Error(`journal event ${type} needs ${field}`);
  return id;
}

async function loadRun(db: Db, id: string): Promise<RunRecord> {
  const row = await db.selectFrom("runs").selectAll().where("id", "=", id).executeTakeFirst();
  if (row === undefined) throw new NotFoundError(`no run ${id} in the journal`);
  return parseRun(row);
}

async function loadTask(db: Db, runId: string, id: string): Promise<TaskRecord> {
  const row = await db.selectFrom("tasks").selectAll().where("run_id", "=", runId).where("id", "=", id).executeTakeFirst();
  if (row === undefined) throw new NotFoundError(`no task ${id} in run ${runId}`);
  return parseTask(row);
}

async function loadAttempt(db: Db, event: NewEvent): Promise<AttemptRecord> {
  const id = requireId(event.attemptId, event.type, "attemptId");
  const row = await db.selectFrom("attempts").selectAll().where("id", "=", id).executeTakeFirst();
  if (row === undefined) throw new NotFoundError(`no attempt ${id} in the journal`);
  return parseAttempt(row);
}

function runState(r: RunRecord): RunState {
  const stop = r.stopRequested === undefined ? {} : { stopRequested: r.stopRequested };
  const startedAt = r.startedAt ?? r.createdAt;
  switch (r.status) {
    case "pending":
    case "planning":
      return { status: "pending", ...stop };
    case "paused":
      return { status: "paused", startedAt, reason: r.reason ?? "" };
    case "running":
      return { status: "running", startedAt, ...stop };
    case "waiting":
      return { status: "waiting", startedAt, reason: r.reason ?? "", ...stop };
    default:
      return { status: r.status, startedAt, endedAt: r.endedAt ?? startedAt, reason: r.reason ?? "" };
  }
}

/** The process that drives the run, as `run.started` and `run.resumed` name it. */
function supervisorColumns(s: Supervisor): Partial<Database["runs"]> {
  return { pid: s.pid, pid_start_time: s.pidStartTime ?? null, host: s.host, detached: s.detached ? 1 : 0 };
}

function runColumns(s: RunState): Partial<Database["runs"]> {
  return {
    status: s.status,
    started_at: "startedAt" in s && s.startedAt !== undefined ? s.startedAt : null,
    ended_at: "endedAt" in s ? s.endedAt : null,
    reason: "reason" in s ? s.reason : null,
    stop_requested: "stopRequested" in s && s.stopRequested !== undefined ? s.stopRequested : null,
  };
}

function taskState(t: TaskRecord): TaskState {
  const startedAt = t.startedAt ?? t.createdAt;
  switch (t.status) {
    case "pending":
      return { status: "pending" };
    case "running":
      return { status: "running", startedAt };
    case "succeeded":
      return { status: "succeeded", startedAt, endedAt: t.endedAt ?? startedAt, commit: t.commit ?? "", reason: t.reason ?? "" };
    default:
      return { status: t.status, startedAt, endedAt: t.endedAt ?? startedAt, reason: t.reason ?? "" };
  }
}

function taskColumns(s: TaskState): Partial<Database["tasks"]> {
  return {
    status: s.status,
    started_at: "startedAt" in s && s.startedAt !== undefined ? s.startedAt : null,
    ended_at: "endedAt" in s ? s.endedAt : null,
    reason: "reason" in s ? s.reason : null,
    ...(s.status === "succeeded" ? { commit_sha: s.commit } : {}),
  };
}

function attemptState(a: AttemptRecord): AttemptState {
  switch (a.status) {
    case "starting":
      return { status: "starting", startedAt: a.startedAt };
    case "running":
      return { status: "running", startedAt: a.startedAt, pid: a.pid ?? 0 };
    case "verifying":
      return { status: "verifying", startedAt: a.startedAt, exitedAt: a.endedAt ?? a.startedAt };
    case "succeeded":
      return { status: "succeeded", startedAt: a.startedAt, endedAt: a.endedAt ?? a.startedAt, progress: a.progress ?? 1 };
    case "failed":
      return {
        status: "failed",
        startedAt: a.startedAt,
        endedAt: a.endedAt ?? a.startedAt,
        progress: a.progress ?? 0,
        failure: a.failure ?? { kind: "crashed", detail: "unknown" },
      };
    default:
      return assertNever(a.status, "attempt status");
  }
}
