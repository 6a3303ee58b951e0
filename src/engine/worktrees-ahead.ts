// Task worktrees made before their task starts, so that no `git worktree add` (tens of milliseconds, many more
// while other git commands run) lies between a dependency's merge and its dependent's agent. They are made one at
// a time, the most urgent first, so this work never crowds the merge queue's git calls; moving a made worktree to
// a newer run tip happens at once. Where each worktree stands is known here, so a task whose worktree already
// stands on its base starts without any git call. A worktree made ahead belongs to a task that has not started:
// nothing has been done in it, so moving it is a plain reset.
import { existsSync } from "node:fs";

/** The git work, given per task (the scheduler's createWorktree and resetWorktree). */
export interface WorktreeOps<T extends { id: string; worktree: string }> {
  make(task: T, base: string): Promise<unknown>;
  move(task: T, to: string): Promise<unknown>;
}

interface Entry<T> {
  task: T;
  /** The commit to make it from, while it waits for its turn. */
  base: string;
  /** Lower goes first. */
  rank: number;
  state: "queued" | "begun" | "skipped";
  /** The commit its worktree stands on once made or moved; undefined where that failed. */
  at: Promise<string | undefined>;
  /** Settles `at` once it is made (or skipped). */
  settle(at: string | undefined): void;
}

export class WorktreesAhead<T extends { id: string; worktree: string }> {
  private readonly entries = new Map<string, Entry<T>>();
  /** Asked for, not begun. */
  private readonly queued: Entry<T>[] = [];
  private making = false;
  private readonly idle: (() => void)[] = [];

  constructor(private readonly ops: WorktreeOps<T>) {}

  /** Tasks with a worktree made or asked for ahead, not started yet. */
  get size(): number {
    return this.entries.size;
  }

  has(id: string): boolean {
    return this.entries.has(id);
  }

  /** Asks for the task's worktree, from `base`; the most urgent asked for (lowest `rank`) is made next. */
  make(task: T, base: string, rank = 0): void {
    if (this.entries.has(task.id)) return;
    let settle: (at: string | undefined) => void = () => undefined;
    const at = new Promise<string | undefined>((resolve) => (settle = resolve));
    const entry: Entry<T> = { task, base, rank, state: "queued", at, settle };
    this.entries.set(task.id, entry);
    this.queued.push(entry);
    this.pump();
  }

  /** The run branch moved on to `to` and the task will start from there: its worktree follows now. */
  advance(task: T, to: string): void {
    const entry = this.entries.get(task.id);
    if (entry === undefined) return;
    if (entry.state === "queued") {
      entry.base = to;
      return;
    }
    entry.at = entry.at.then((at) =>
      at === undefined || at === to
        ? at
        : this.ops.move(task, to).then(
            () => to,
            () => undefined,
          ),
    );
  }

  /** Resolves once every worktree asked for so far is made (or failed): none is left half-made at the run's end. */
  settled(): Promise<void> {
    if (!this.making && this.queued.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  /** A task that will not start (blocked, stopped): its worktree, if made, stays for `orch gc`. */
  drop(id: string): void {
    const entry = this.entries.get(id);
    if (entry?.state === "queued") {
      entry.state = "skipped";
      this.queued.splice(this.queued.indexOf(entry), 1);
      entry.settle(undefined);
    }
    this.entries.delete(id);
    this.pump();
  }

  /**
   * The task starts from `base`: its worktree is brought there now, with no git call if it stands there already.
   * One still waiting for its turn is made at once instead; a worktree found on disk with no entry (made by a
   * supervisor that died before the task started) is moved.
   */
  async take(task: T, base: string): Promise<void> {
    const entry = this.entries.get(task.id);
    const begun = entry !== undefined && entry.state === "begun";
    this.drop(task.id);
    const at = begun ? await entry.at : undefined;
    if (at === base) return;
    if (at !== undefined || existsSync(task.worktree)) await this.ops.move(task, base);
    else await this.ops.make(task, base);
  }

  /** Makes the most urgent worktree asked for, one at a time. */
  private pump(): void {
    if (this.making) return;
    const next = this.queued.reduce<Entry<T> | undefined>((best, e) => (best === undefined || e.rank < best.rank ? e : best), undefined);
    if (next === undefined) {
      for (const resolve of this.idle.splice(0)) resolve();
      return;
    }
    this.queued.splice(this.queued.indexOf(next), 1);
    next.state = "begun";
    this.making = true;
    const from = next.base;
    void this.ops.make(next.task, from).then(
      () => next.settle(from),
      () => next.settle(undefined),
    ).finally(() => {
      this.making = false;
      this.pump();
    });
  }
}
