// A run's attempts as the API lists them: who ran (agent, model, role), how it ended (failure kind and detail), what
// orch did next (the recovery: a wait, the next attempt with its agent and model, or the task's end) and what it
// cost. From the journal alone; the recovery is read from the task's own history, never guessed.
import { isTerminalTask } from "../core/task.js";
import type { AttemptRecord, TaskRecord, JournalReader } from "../store/store.js";

export interface AttemptView {
  id: string;
  taskId: string;
  role: AttemptRecord["role"];
  number: number;
  agent: string;
  model: string | null;
  status: AttemptRecord["status"];
  failure: { kind: string; detail: string } | null;
  /** What orch did after this attempt failed (null: it did not fail, or nothing has followed yet). */
  recovery: string | null;
  exitReason: string | null;
  startedAt: string;
  endedAt: string | null;
  durationMs: number | null;
  costUsd: number | null;
  tokens: { input: number; output: number } | null;
  commit: string | null;
}

export async function attemptsView(store: JournalReader, runId: string): Promise<AttemptView[]> {
  const attempts = await store.listAttempts({ runId });
  const tasks = new Map((await store.listTasks(runId)).map((t) => [t.id, t]));
  const waits = (await store.readEvents({ runId, types: ["task.waited"] })).flatMap((e) => (e.type === "task.waited" && e.taskId !== undefined ? [{ taskId: e.taskId, at: e.at, delayMs: e.data.delayMs, reason: e.data.reason }] : []));
  return attempts.map((a) => ({
    id: a.id,
    taskId: a.taskId,
    role: a.role,
    number: a.number,
    agent: a.agent,
    model: a.model ?? null,
    status: a.status,
    failure: a.failure === undefined ? null : { kind: a.failure.kind, detail: a.failure.detail },
    recovery: a.status === "failed" ? recoveryAfter(a, attempts, tasks.get(a.taskId), waits) : null,
    exitReason: a.exitReason ?? null,
    startedAt: new Date(a.startedAt).toISOString(),
    endedAt: a.endedAt === undefined ? null : new Date(a.endedAt).toISOString(),
    durationMs: a.durationMs ?? null,
    costUsd: a.costUsd ?? null,
    tokens: a.usage === undefined ? null : { input: a.usage.inputTokens, output: a.usage.outputTokens },
    commit: a.commit ?? null,
  }));
}

function recoveryAfter(
  failed: AttemptRecord,
  attempts: readonly AttemptRecord[],
  task: TaskRecord | undefined,
  waits: readonly { taskId: string; at: number; delayMs: number; reason: string }[],
): string | null {
  const next = attempts.find((a) => a.taskId === failed.taskId && a.role === failed.role && a.number > failed.number);
  const ended = failed.endedAt ?? failed.startedAt;
  const wait = waits.find((w) => w.taskId === failed.taskId && w.at >= ended && (next === undefined || w.at <= next.startedAt));
  const waited = wait === undefined ? "" : `waited ${Math.round(wait.delayMs / 1000)} s (${wait.reason}), then `;
  if (next !== undefined) {
    const switched = next.agent !== failed.agent || next.model !== failed.model ? ` with ${next.agent}${next.model !== undefined ? `:${next.model}` : ""} instead` : "";
    return `${waited}attempt ${next.number}${switched}`;
  }
  if (task !== undefined && isTerminalTask(task.status)) return `${waited}the task ended ${task.status}${task.reason !== undefined ? `: ${task.reason}` : ""}`;
  if (wait !== undefined) return `waiting ${Math.round(wait.delayMs / 1000)} s (${wait.reason}) before the next attempt`;
  return null;
}
