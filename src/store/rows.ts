// Rows read back from either database become records through zod: numbers may arrive as strings (Postgres
// bigint), JSON columns are text, nulls become undefined. Nothing read from the database is cast.
import { z } from "zod";
import { TokenUsage } from "../core/agent-event.js";
import { CriterionResult, EventBody, FailureSchema, Limits, Risk, TaskRole, TaskSpec, type StoredEvent } from "../core/journal.js";
import { parserOf } from "../core/cold-parse.js";
import { ReviewRecord } from "../core/review.js";
import type { StopMode } from "../core/run.js";
import { RunSettings } from "../core/run-settings.js";
import { unpackOutput } from "./packed-output.js";
import type { AttemptRecord, RunRecord, TaskRecord } from "./store.js";

const num = z.coerce.number();
const optNum = z.union([z.null(), z.coerce.number()]).transform((v) => v ?? undefined);
const optStr = z
  .string()
  .nullable()
  .transform((v) => v ?? undefined);

function json<T extends z.ZodType>(schema: T) {
  // The column's own schema is parsed apart from the row's, so it is kept cold on its own (cold-parse.ts).
  const parse = parserOf(schema);
  return z.string().transform((text, ctx): z.output<T> => {
    try {
      return parse(JSON.parse(text));
    } catch (error) {
      ctx.addIssue({ code: "custom", message: `bad JSON column: ${error instanceof Error ? error.message : String(error)}` });
      return z.NEVER;
    }
  });
}
function optJson<T extends z.ZodType>(schema: T) {
  return z.union([z.null().transform(() => undefined), json(schema)]);
}

const runStatus = z.enum(["pending", "planning", "running", "paused", "waiting", "succeeded", "failed", "stalled", "stopped", "aborted"]);
const taskStatus = z.enum(["pending", "running", "succeeded", "failed", "stalled", "blocked", "stopped", "aborted"]);
const attemptStatus = z.enum(["starting", "running", "verifying", "succeeded", "failed"]);

const parseSettings = parserOf(RunSettings);

/** A run's pending stop request as its column holds it (null: none). */
const StopRequest = z
  .enum(["stop", "pause", "abort"])
  .nullable()
  .transform((mode) => mode ?? undefined);

/**
 * The run's settings as its `config` column holds them. A run journaled before agent fallbacks existed has none
 * listed: its fallback models are models of its own agent.
 */
function settingsOf(config: Record<string, unknown>, fallbackModels: readonly string[]): RunSettings {
  const listed = config.fallbacks !== undefined || config.agent === undefined;
  // (A run journaled without its agent's settings reads back without them: shown, never driven again.)
  return parseSettings(listed ? config : { ...config, fallbacks: fallbackModels.map((model) => ({ agent: config.agent, model })) });
}

const RunRow = z
  .object({
    id: z.string(),
    goal: z.string(),
    status: runStatus,
    reason: optStr,
    repo_root: z.string(),
    base_branch: z.string(),
    base_sha: z.string(),
    branch: z.string(),
    agent: z.string(),
    model: optStr,
    fallback_models: json(z.array(z.string())),
    criteria: json(z.array(z.string())),
    limits: json(Limits),
    config: json(z.record(z.string(), z.unknown())),
    created_at: num,
    started_at: optNum,
    ended_at: optNum,
    pid: optNum,
    pid_start_time: optStr,
    host: optStr,
    detached: z.coerce.number().transform((v) => v !== 0),
    lease_owner: optStr,
    lease_until: optNum,
    lease_fence: num,
    stop_requested: StopRequest,
    attempts: num,
    progress: num,
    cost_usd: num,
    tokens_in: num,
    tokens_out: num,
    report: optStr,
  })
  .transform(
    (r): RunRecord => ({
      id: r.id,
      goal: r.goal,
      status: r.status,
      reason: r.reason,
      repoRoot: r.repo_root,
      baseBranch: r.base_branch,
      baseSha: r.base_sha,
      branch: r.branch,
      agent: r.agent,
      model: r.model,
      fallbackModels: r.fallback_models,
      criteria: r.criteria,
      limits: r.limits,
      settings: settingsOf(r.config, r.fallback_models),
      createdAt: r.created_at,
      startedAt: r.started_at,
      endedAt: r.ended_at,
      pid: r.pid,
      pidStartTime: r.pid_start_time,
      host: r.host,
      detached: r.detached,
      stopRequested: r.stop_requested,
      lease: r.lease_owner === undefined ? undefined : { owner: r.lease_owner, until: r.lease_until ?? 0, fence: r.lease_fence },
      attempts: r.attempts,
      progress: r.progress,
      costUsd: r.cost_usd,
      tokensIn: r.tokens_in,
      tokensOut: r.tokens_out,
      report: r.report,
    }),
  );

const TaskRow = z
  .object({
    run_id: z.string(),
    id: z.string(),
    title: z.string(),
    goal: z.string(),
    criteria: json(z.array(z.string())),
    status: taskStatus,
    reason: optStr,
    branch: z.string(),
    worktree: z.string(),
    attempts: num,
    progress: num,
    commit_sha: optStr,
    created_at: num,
    started_at: optNum,
    ended_at: optNum,
    waiting_until: optNum,
    waiting_reason: optStr,
    role: TaskRole,
    depends_on: json(z.array(z.string())),
    priority: num,
    risk: Risk,
    position: num,
    spec: optJson(TaskSpec),
    integrated_sha: optStr,
  })
  .transform(
    (r): TaskRecord => ({
      runId: r.run_id,
      id: r.id,
      title: r.title,
      goal: r.goal,
      criteria: r.criteria,
      status: r.status,
      reason: r.reason,
      branch: r.branch,
      worktree: r.worktree,
      attempts: r.attempts,
      progress: r.progress,
      commit: r.commit_sha,
      createdAt: r.created_at,
      startedAt: r.started_at,
      endedAt: r.ended_at,
      waitingUntil: r.waiting_until,
      waitingReason: r.waiting_reason,
      role: r.role,
      dependsOn: r.depends_on,
      priority: r.priority,
      risk: r.risk,
      position: r.position,
      spec: r.spec,
      integrated: r.integrated_sha,
    }),
  );

const AttemptRow = z
  .object({
    id: z.string(),
    run_id: z.string(),
    task_id: z.string(),
    number: num,
    agent: z.string(),
    model: optStr,
    status: attemptStatus,
    pid: optNum,
    pid_start_time: optStr,
    session_id: optStr,
    transcript: z.string(),
    started_at: num,
    ended_at: optNum,
    exit_code: optNum,
    signal: optStr,
    exit_reason: optStr,
    duration_ms: optNum,
    failure: optJson(FailureSchema),
    progress: optNum,
    usage: optJson(TokenUsage),
    cost_usd: optNum,
    criteria: optJson(z.array(CriterionResult)),
    commit_sha: optStr,
    role: z.enum(["implementer", "reviewer"]).catch("implementer").default("implementer"),
    review: optJson(ReviewRecord),
  })
  .transform(
    (r): AttemptRecord => ({
      id: r.id,
      runId: r.run_id,
      taskId: r.task_id,
      number: r.number,
      agent: r.agent,
      model: r.model,
      status: r.status,
      pid: r.pid,
      pidStartTime: r.pid_start_time,
      sessionId: r.session_id,
      transcript: r.transcript,
      startedAt: r.started_at,
      endedAt: r.ended_at,
      exitCode: r.exit_code,
      signal: r.signal,
      exitReason: r.exit_reason,
      durationMs: r.duration_ms,
      failure: r.failure,
      progress: r.progress,
      usage: r.usage,
      costUsd: r.cost_usd,
      criteria: r.criteria,
      commit: r.commit_sha,
      role: r.role,
      review: r.review,
    }),
  );

const EventRow = z.object({
  seq: num,
  at: num,
  run_id: z.string(),
  task_id: optStr,
  attempt_id: optStr,
  type: z.string(),
  data: z.string(),
});

export const parseRun: (row: unknown) => RunRecord = parserOf(RunRow);
export const parseTask: (row: unknown) => TaskRecord = parserOf(TaskRow);
export const parseAttempt: (row: unknown) => AttemptRecord = parserOf(AttemptRow);
const parseEventRow = parserOf(EventRow);
const parseEventBody = parserOf(EventBody);

/** The events a row holds, in journal order: one, or each line of packed agent output (`packed-output.ts`) with the row's seq and time. */
export function parseEvents(row: unknown): StoredEvent[] {
  const r = parseEventRow(row);
  const data: unknown = JSON.parse(r.data);
  const packed = unpackOutput(r.type, data);
  const ids = { seq: r.seq, at: r.at, runId: r.run_id, taskId: r.task_id, attemptId: r.attempt_id };
  if (packed !== undefined) return packed.map((event) => ({ type: "agent.emitted" as const, data: event, ...ids }));
  return [{ ...parseEventBody({ type: r.type, data }), ...ids }];
}

export function parseStopRequest(value: unknown): StopMode | undefined {
  return StopRequest.parse(value);
}
