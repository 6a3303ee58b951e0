// A human's decision on a commit the approval gate holds (`orch approve`, `orch reject`): what is held and why,
// checked against the run's graph as its journal folds, and the decision journaled. A supervisor still driving the
// run takes it up at once (engine/scheduler.ts watches for it); a run that ended waiting goes on with `orch resume`.
import { UsageError } from "../core/errors.js";
import type { EventOf } from "../core/journal.js";
import { GRAPH_EVENT_TYPES, phaseOf, rejectedReason, replay, statusWord } from "../core/run-graph.js";
import type { RunRecord, Store, TaskRecord } from "../store/store.js";

export interface HeldCommit {
  readonly commit: string;
  /** The gate's judgement that held it: its level, the rules that fired and why a human must decide. */
  readonly assessed: EventOf<"task.assessed">["data"];
}

/** What the gate holds of a task for a human; a UsageError (nothing written) when it holds nothing. */
export async function heldCommit(store: Store, run: RunRecord, task: TaskRecord): Promise<HeldCommit> {
  const events = await store.readEvents({ runId: run.id, types: [...GRAPH_EVENT_TYPES] });
  const phase = phaseOf(replay(events), task.id);
  if (phase.kind !== "awaiting") {
    throw new UsageError(`task ${task.id} of run ${run.id} is not waiting for a human's approval: it is ${statusWord(phase)}`, {
      hint: `\`orch status ${run.id}\` shows where each task stands`,
    });
  }
  const assessed = events.findLast((e): e is Extract<typeof e, { type: "task.assessed" }> => e.type === "task.assessed" && e.taskId === task.id && e.data.commit === phase.commit);
  if (assessed === undefined) throw new Error(`task ${task.id} waits for a human, but its journal holds no judgement of ${phase.commit}`);
  return { commit: phase.commit, assessed: assessed.data };
}

/** Journals a human's decision on the held commit: approved, it goes to the merge queue; rejected, the task fails. */
export async function decideHeld(
  store: Store,
  run: RunRecord,
  task: TaskRecord,
  held: HeldCommit,
  decision: { approve: true; by: string; reason?: string | undefined } | { approve: false; by: string; reason: string },
): Promise<void> {
  if (decision.approve) {
    const reason = decision.reason !== undefined ? { reason: decision.reason } : {};
    await store.append([{ type: "task.approved", runId: run.id, taskId: task.id, data: { commit: held.commit, by: decision.by, ...reason } }]);
    return;
  }
  // The rejection and the task's end in one write: a crash leaves both or neither.
  await store.append([
    { type: "task.rejected", runId: run.id, taskId: task.id, data: { commit: held.commit, by: decision.by, reason: decision.reason } },
    { type: "task.finished", runId: run.id, taskId: task.id, data: { status: "failed", reason: rejectedReason(decision.by, decision.reason) } },
  ]);
}
