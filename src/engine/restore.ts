// What the convergence loop knew about a task, rebuilt from the journal, so that a new supervisor goes on where
// the last one stopped: the attempts made, what each did and how it ended (for the handoff), the progress
// history (for stall detection), the session worth resuming, the model in use and the money the task spent.
import type { AgentEvent } from "../core/agent-event.js";
import { resumesAfter } from "../core/failure.js";
import type { AttemptSummary } from "../core/handoff.js";
import type { AttemptRecord, Store, TaskRecord } from "../store/store.js";

export interface RestoredTask {
  /** Attempts journaled so far (the next one is `number + 1`). */
  number: number;
  summaries: AttemptSummary[];
  /** Progress of each verified attempt, oldest first. */
  history: number[];
  /** The session of the last attempt, if the loop would resume it, and the chain link it ran on. */
  previousSession: { id: string; link: number } | undefined;
  /** The chain link the last attempt ran on. */
  link: number;
  /** Failures since the last attempt the model answered. */
  consecutiveFailures: number;
  spent: { usd: number; tokens: number };
  /** The last attempt exited cleanly but was not verified when the supervisor died: verify it first. */
  unverified: { attempt: AttemptRecord; summary: AttemptSummary } | undefined;
  /** The last attempt succeeded, but the task's end was not journaled. */
  succeeded: AttemptRecord | undefined;
}

/** `linkOf(agent, model)`: the chain position an attempt's agent and model belong to. */
export async function restoreTask(store: Store, task: TaskRecord, linkOf: (agent: string, model: string | undefined) => number): Promise<RestoredTask> {
  const attempts = await store.listAttempts({ runId: task.runId, taskId: task.id });
  const restored: RestoredTask = {
    number: attempts.reduce((n, a) => Math.max(n, a.number), 0),
    summaries: [],
    history: [],
    previousSession: undefined,
    link: 0,
    consecutiveFailures: 0,
    spent: { usd: 0, tokens: 0 },
    unverified: undefined,
    succeeded: undefined,
  };
  for (const attempt of attempts) {
    restored.spent.usd += attempt.costUsd ?? 0;
    restored.spent.tokens += (attempt.usage?.inputTokens ?? 0) + (attempt.usage?.outputTokens ?? 0);
    const link = linkOf(attempt.agent, attempt.model);
    restored.link = link;
    const summary = await summarize(store, attempt);
    if (attempt.status === "succeeded") {
      restored.succeeded = attempt;
      continue;
    }
    if (attempt.status === "verifying") {
      restored.unverified = { attempt, summary };
      continue;
    }
    restored.summaries.push(summary);
    const failure = attempt.failure;
    const verified = attempt.criteria !== undefined;
    if (verified) {
      restored.history.push(attempt.progress ?? 0);
      restored.consecutiveFailures = 0;
    } else if (failure !== undefined) {
      restored.consecutiveFailures += 1;
    }
    const worthResuming = verified || (failure !== undefined && resumesAfter(failure.kind) && summary.actions.length > 0);
    restored.previousSession = attempt.sessionId !== undefined && worthResuming ? { id: attempt.sessionId, link } : undefined;
  }
  return restored;
}

/** The attempt as the handoff tells it: its end, its criteria, its last words, what it did. */
async function summarize(store: Store, attempt: AttemptRecord): Promise<AttemptSummary> {
  const events = await store.readEvents({ attemptId: attempt.id, types: ["agent.emitted"] });
  const actions: string[] = [];
  let lastText: string | undefined;
  let result: Extract<AgentEvent, { type: "result" }> | undefined;
  for (const event of events) {
    if (event.type !== "agent.emitted") continue;
    const e = event.data;
    if (e.type === "tool.called") actions.push(`${e.name} ${e.summary}`.trim());
    else if (e.type === "text") lastText = e.text;
    else if (e.type === "result") result = e;
  }
  return {
    number: attempt.number,
    agent: attempt.agent,
    model: attempt.model,
    failure: attempt.failure,
    criteria: attempt.criteria ?? [],
    finalText: result?.text ?? lastText,
    actions,
    deniedTools: result?.deniedTools ?? [],
    progress: attempt.progress ?? 0,
  };
}
