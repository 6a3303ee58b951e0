// What a supervisor taking a planned run over must know of the merge queue its dead predecessor left: each task's
// reverts (counted from the journal, so a task is not given its reverts again, with the last one's reason for the
// task sent back), and which task's merge sits at the run branch's tip unsettled (made and maybe not verified, or
// reverted but not journaled). Whether a task's journaled success still stands is its loop's fold's to say.
import { mergeLeftAt } from "../git/clean-merge.js";
import type { Store, TaskRecord } from "../store/store.js";

export class Reverts {
  private readonly counts = new Map<string, number>();
  private readonly reasons = new Map<string, string>();

  static async read(store: Store, runId: string): Promise<Reverts> {
    const reverts = new Reverts();
    for (const event of await store.readEvents({ runId, types: ["task.reverted"] })) {
      if (event.taskId === undefined || event.type !== "task.reverted") continue;
      reverts.add(event.taskId, event.data.reason);
    }
    return reverts;
  }

  /** Counts a revert of `taskId`'s merge; returns how many it has had. */
  add(taskId: string, reason: string): number {
    const count = (this.counts.get(taskId) ?? 0) + 1;
    this.counts.set(taskId, count);
    this.reasons.set(taskId, reason);
    return count;
  }

  /** Why the task's last merge was reverted, or undefined when none was. */
  reason(taskId: string): string | undefined {
    return this.reasons.get(taskId);
  }
}

/**
 * Of the tasks back in the merge queue, the one whose merge the dead supervisor made last, at `tip`: it must be
 * settled first, before another merge goes on top of it and is blamed for what it broke.
 */
export async function unsettledAtTip(integration: string, tip: string, queued: readonly TaskRecord[], commitOf: (task: TaskRecord) => string | undefined): Promise<TaskRecord | undefined> {
  for (const task of queued) {
    const commit = commitOf(task);
    const left = commit === undefined ? undefined : await mergeLeftAt(integration, tip, commit).catch(() => undefined);
    if (left?.kind === "merged" || left?.kind === "reverted") return task;
  }
  return undefined;
}
