// Reads a run's recovery figures from the journal: the attempts' failures (an attempt stopped from outside is
// interrupted, not failed), the CLIs' own retries (journaled with each attempt's exit) and the waits orch made. Only small event types are read, never agent output.
import { recoveryFigures, type AttemptFacts, type RecoveryFigures } from "../core/figures.js";
import { scheduleFigures, type ScheduleFigures } from "../core/schedule-figures.js";
import type { AttemptRecord, RunRecord, JournalReader } from "../store/store.js";

export async function collectFigures(store: JournalReader, runId: string): Promise<RecoveryFigures> {
  return (await readRecovery(store, runId)).figures;
}

/** What the figures are made of, for a reader that needs more of it (`/metrics`): each attempt, its CLI's retries, the waits. */
export interface RecoveryFacts {
  attempts: AttemptRecord[];
  retriesByAttempt: ReadonlyMap<string, { count: number; waitMs: number }>;
  waits: readonly { delayMs: number; reason: string }[];
  figures: RecoveryFigures;
}

export async function readRecovery(store: JournalReader, runId: string): Promise<RecoveryFacts> {
  const attempts = await store.listAttempts({ runId });
  const events = await store.readEvents({ runId, types: ["attempt.exited", "task.waited"] });
  const retriesByAttempt = new Map<string, { count: number; waitMs: number }>();
  const waits: { delayMs: number; reason: string }[] = [];
  for (const event of events) {
    if (event.type === "attempt.exited" && event.attemptId !== undefined) {
      retriesByAttempt.set(event.attemptId, { count: event.data.apiRetries ?? 0, waitMs: event.data.apiRetryWaitMs ?? 0 });
    }
    if (event.type === "task.waited") waits.push({ delayMs: event.data.delayMs, reason: event.data.reason });
  }
  const facts: AttemptFacts[] = attempts.map((a) => ({
    taskId: a.taskId,
    number: a.number,
    failure: a.status === "failed" ? a.failure?.kind : undefined,
    interrupted: a.exitReason === "aborted",
    apiRetries: retriesByAttempt.get(a.id)?.count ?? 0,
    apiRetryWaitMs: retriesByAttempt.get(a.id)?.waitMs ?? 0,
  }));
  return { attempts, retriesByAttempt, waits, figures: recoveryFigures(facts, waits) };
}

/** A planned run's scheduling figures, from its tasks and attempts. */
export async function collectScheduleFigures(store: JournalReader, run: RunRecord, now: number): Promise<ScheduleFigures> {
  const tasks = await store.listTasks(run.id);
  const attempts = await store.listAttempts({ runId: run.id });
  const roles = new Map(tasks.map((t) => [t.id, t.role]));
  return scheduleFigures({
    concurrency: concurrencyOf(run),
    startedAt: run.startedAt ?? run.createdAt,
    endedAt: run.endedAt ?? now,
    tasks: tasks.map((t) => ({ id: t.id, role: t.role, status: t.status })),
    // The planner's turns are not slot time of the graph.
    attempts: attempts.filter((a) => roles.get(a.taskId) !== "planner").map((a) => ({ taskId: a.taskId, startedAt: a.startedAt, endedAt: a.endedAt })),
  });
}

/** How many tasks of a planned run may run at once, as the run keeps it. */
export function concurrencyOf(run: RunRecord): number {
  return run.settings.concurrency;
}
