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

export interface JournalEvent {
  seq: number;
  type: string;
  runId: string;
  taskId: string | null;
  attemptId: string | null;
  at: number | string;
  /** Kept as it came: its fields are read one by one, defensively, by the transcript's formatting and the fold. */
  data: Record<string, unknown>;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const optString = (v: unknown): string | null | undefined => (v === undefined || v === null ? null : typeof v === "string" ? v : undefined);

/**
 * A journal event read from the API or the stream, or null when it is not one. Written out rather than a zod schema:
 * the stream brings thousands a second, and a schema's copy of every event and its data was most of the page's work.
 */
export function readJournalEvent(value: unknown): JournalEvent | null {
  if (!isObject(value)) return null;
  const { seq, type, runId, at, data } = value;
  const taskId = optString(value["taskId"]);
  const attemptId = optString(value["attemptId"]);
  if (typeof seq !== "number" || typeof type !== "string" || typeof runId !== "string" || taskId === undefined || attemptId === undefined) return null;
  if (typeof at !== "number" && typeof at !== "string") return null;
  if (data !== undefined && data !== null && !isObject(data)) return null;
  return { seq, type, runId, taskId, attemptId, at, data: isObject(data) ? data : {} };
}

export const JournalEvent = z.unknown().transform((value, ctx) => {
  const event = readJournalEvent(value);
  if (event === null) {
    ctx.addIssue({ code: "custom", message: "not a journal event" });
    return z.NEVER;
  }
  return event;
});
export const EventPage = z.object({ events: z.array(JournalEvent), nextSeq: num, more: z.boolean() });
export type EventPage = z.infer<typeof EventPage>;

export const Report = z.object({ markdown: z.string() });
export const ControlResult = z.object({ ok: z.boolean(), status: optStr, message: optStr });
export const ApiErrorBody = z.object({ error: z.object({ code: z.string().nullish(), message: z.string(), hint: optStr }) });
export const RefetchNotice = z.object({ afterSeq: num });
