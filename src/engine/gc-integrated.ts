// The worktrees of a run's integrated tasks, removed while the run goes on: once a task's work is on the run
// branch (its own branch keeps it too), its worktree is of no more use, so a run has on disk only the worktrees
// of the tasks under way, those made ahead and those of tasks that failed or wait (kept for a look, and for
// `orch gc`). Removal happens in the background, one worktree at a time, never between a merge and the next
// start; each is journaled as a `run.collected`, so `orch gc` and `orch logs` stay truthful. It never throws: a
// worktree that cannot go stays for `orch gc`.
import { setTimeout as delay } from "node:timers/promises";
import { toError } from "../core/errors.js";
import type { NewEvent } from "../core/journal.js";
import { inspectRepo } from "../git/index.js";
import type { RunRecord, TaskRecord } from "../store/store.js";
import { collectedEvent, collectTaskWorktree, type WorktreeCollection } from "./gc.js";

const RETRIES = 3;
const RETRY_MS = 100;

export interface IntegratedWorktreesOptions {
  run: RunRecord;
  /** Journals an event (buffered: nothing waits on it). */
  journal(event: NewEvent): void;
  /** Who removes them, for the journal. */
  by?: string;
  /** Told of a worktree that could not be removed (it stays for `orch gc`). */
  onKept?: (collection: WorktreeCollection) => void;
}

export class IntegratedWorktrees {
  private chain: Promise<void> = Promise.resolve();
  private readonly asked = new Set<string>();
  private repo: Promise<{ root: string; commonDir: string } | undefined> | undefined;
  private readonly by: string;
  private waiting = 0;

  constructor(private readonly options: IntegratedWorktreesOptions) {
    this.by = options.by ?? `the run itself (pid ${process.pid})`;
    // Asked at once, while the run's first tasks are under way: no removal waits on it.
    void this.repoOf();
  }

  /** Where the repository is, asked once. */
  private repoOf(): Promise<{ root: string; commonDir: string } | undefined> {
    this.repo ??= inspectRepo(this.options.run.repoRoot).then(
      (r) => ({ root: r.root, commonDir: r.commonDir }),
      () => undefined,
    );
    return this.repo;
  }

  /** Removals asked for and not done yet: worktrees still on disk that no task needs. */
  get pending(): number {
    return this.waiting;
  }

  /** The task's work is integrated: its worktree goes, after those asked for before it. */
  remove(task: Pick<TaskRecord, "id" | "worktree" | "branch" | "role">): void {
    if (task.role !== "implementer" || this.asked.has(task.id)) return;
    this.asked.add(task.id);
    this.waiting += 1;
    this.chain = this.chain.then(() => this.removeNow(task)).finally(() => (this.waiting -= 1));
  }

  /** Resolves once every removal asked for so far is done (or has failed). */
  settled(): Promise<void> {
    return this.chain;
  }

  private async removeNow(task: Pick<TaskRecord, "id" | "worktree" | "branch">): Promise<void> {
    try {
      const repo = await this.repoOf();
      if (repo === undefined) return;
      let done = await collectTaskWorktree(repo, this.options.run, task, this.by);
      // git lists every worktree as it removes one, and fails on one being made that moment: it is tried again.
      for (let retry = 1; done?.action === "failed" && retry <= RETRIES; retry++) {
        await delay(RETRY_MS * retry);
        done = await collectTaskWorktree(repo, this.options.run, task, this.by);
      }
      if (done === undefined) return;
      if (done.action === "removed" || done.wipCommit !== null) this.options.journal(collectedEvent(this.options.run.id, [done], [], this.by));
      if (done.action !== "removed") this.options.onKept?.(done);
    } catch (error) {
      this.options.onKept?.({ taskId: task.id, path: task.worktree, branch: task.branch, action: "failed", reason: toError(error).message, uncommitted: [], wipCommit: null, bytes: 0 });
    }
  }
}
