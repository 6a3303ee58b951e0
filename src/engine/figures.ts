// Reads a run's recovery figures from the journal: the attempts' failures, the CLIs' own retries (journaled
// with each attempt's exit) and the waits orch made. Only small event types are read, never agent output.
import { recoveryFigures, type AttemptFacts, type RecoveryFigures } from "../core/figures.js";
import type { Store } from "../store/store.js";

export async function collectFigures(store: Store, runId: string): Promise<RecoveryFigures> {
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
    apiRetries: retriesByAttempt.get(a.id)?.count ?? 0,
    apiRetryWaitMs: retriesByAttempt.get(a.id)?.waitMs ?? 0,
  }));
  return recoveryFigures(facts, waits);
}
