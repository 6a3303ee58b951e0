// What the dashboard reads from orch's JSON API, parsed at the boundary with zod (never cast). The shapes follow
// src/read/status-view.ts and the server's routes; fields the page can do without are optional, so an older or
// newer server degrades to less detail instead of a broken page.
import { z } from "zod";

const num = z.number();
const optNum = z.number().nullish();
const optStr = z.string().nullish();

export const RunListItem = z.object({
  runId: z.string(),
  goal: z.string(),
  status: z.string(),
  stale: z.boolean().nullish(),
  createdAt: z.string(),
  attempts: num,
  maxAttempts: optNum,
  progress: num,
  branch: z.string(),
  elapsedMs: optNum,
  costUsd: optNum,
});
export type RunListItem = z.infer<typeof RunListItem>;
export const RunList = z.object({ runs: z.array(RunListItem) });

const Schedule = z.object({
  tasks: z.object({ total: num, succeeded: num, failed: num, blocked: num, running: num, pending: num }).partial().nullish(),
  cyclesPerTask: optNum,
  avgAttemptMs: optNum,
  parallelism: optNum,
  idleSlotMs: optNum,
  successRate: optNum,
  concurrency: optNum,
});

export const TaskView = z.object({
  id: z.string(),
  title: z.string(),
  status: z.string(),
  attempts: num,
  branch: z.string().nullish(),
  progress: num,
  role: z.string().nullish(),
  dependsOn: z.array(z.string()).nullish(),
  integrated: optStr,
  review: optStr,
  held: optStr,
});
export type TaskView = z.infer<typeof TaskView>;

export const RunView = z.object({
  runId: z.string(),
  goal: z.string(),
  status: z.string(),
  reason: optStr,
  attempts: num,
  maxAttempts: num,
  progress: num,
  branch: z.string(),
  elapsedMs: num,
  maxMs: num,
  costUsd: num,
  tokens: z.object({ input: num, output: num }),
  stale: z.boolean().nullish(),
  now: optStr,
  next: z.string().nullish(),
  lastResult: optStr,
  lastFailure: z.object({ kind: z.string(), detail: z.string() }).nullish(),
  figures: z
    .object({
      failuresByKind: z.record(z.string(), num).nullish(),
      recovered: optNum,
      escalated: optNum,
      recoveryRate: optNum,
      waitedMs: optNum,
      retryCalls: optNum,
      interrupted: optNum,
    })
    .nullish(),
  warnings: z.array(z.string()).nullish(),
  reviewer: optStr,
  decisions: z.object({ autonomous: num, human: num, held: num }).nullish(),
  tasks: z.array(TaskView),
  schedule: Schedule.nullish(),
  createdAt: optStr,
});
export type RunView = z.infer<typeof RunView>;

const Failure = z.union([z.object({ kind: z.string(), detail: optStr }), z.string()]);

export const AttemptView = z.object({
  id: z.string(),
  taskId: z.string(),
  role: optStr,
  agent: optStr,
  model: optStr,
  status: z.string(),
  failure: Failure.nullish(),
  failureKind: optStr,
  recovery: z.union([z.string(), z.object({}).loose()]).nullish(),
  startedAt: z.union([num, z.string()]).nullish(),
  endedAt: z.union([num, z.string()]).nullish(),
  cost: optNum,
  costUsd: optNum,
  tokens: z.union([num, z.object({ input: optNum, output: optNum }).loose()]).nullish(),
  number: optNum,
  durationMs: optNum,
  exitReason: optStr,
  commit: optStr,
});
export type AttemptView = z.infer<typeof AttemptView>;
export const AttemptList = z.object({ attempts: z.array(AttemptView) });

/** A journal event as the API and the stream give it: the data is read by the transcript's formatting. */
export const JournalEvent = z.object({
  seq: num,
  type: z.string(),
  runId: z.string(),
  taskId: optStr,
  attemptId: optStr,
  at: z.union([num, z.string()]),
  data: z.record(z.string(), z.unknown()).nullish(),
});
export type JournalEvent = z.infer<typeof JournalEvent>;
export const EventPage = z.object({ events: z.array(JournalEvent), nextSeq: num, more: z.boolean() });
export type EventPage = z.infer<typeof EventPage>;

export const Report = z.object({ markdown: z.string() });
export const ControlResult = z.object({ ok: z.boolean(), status: optStr, message: optStr });
export const ApiErrorBody = z.object({ error: z.object({ code: z.string().nullish(), message: z.string(), hint: optStr }) });
export const RefetchNotice = z.object({ afterSeq: num });
