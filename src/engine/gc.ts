// Garbage collection of finished runs: removes the worktrees in the run's worktree folder, `<folder>/<run>/` (each
// task's, and the run branch's own; the folder is the one the run recorded, or `.orch/worktrees/` for a run made
// before runs recorded it, see paths.ts) once their branches are safe. Invariants: only a run that has ended (and
// whose process is done with it) is touched; uncommitted work goes into a work-in-progress commit on the task's
// branch before its worktree goes (never on the run branch, which holds only verified work: its worktree is kept
// instead); branches are deleted only when asked (`branches`, see gc-branches.ts), after the worktrees; nothing
// outside orch's own worktrees (the user's checkout, worktrees orch did not make) is touched, and git's own refusal
// to remove an unclean worktree is never overridden with --force.
import { readFileSync } from "node:fs";
import { lstat, readdir, realpath, rmdir } from "node:fs/promises";
import { hostname } from "node:os";
import { join, relative, resolve, sep } from "node:path";
import { formatDuration } from "../core/duration.js";
import { NotFoundError, toError, UsageError } from "../core/errors.js";
import type { NewEvent } from "../core/journal.js";
import { isTerminalRun } from "../core/run.js";
import { commitAll, GitError, inspectRepo, inspectWorktree, isLinkedWorktreeOf, removeWorktree, STATUS_ARGS, type WorktreeInside } from "../git/index.js";
import { parseProcStat, type ProcStat } from "../process/tree.js";
import type { RunRecord, Store, TaskRecord } from "../store/store.js";
import { keptUnmerged, pruneRunBranches, type BranchCollection } from "./gc-branches.js";
import { integrationWorktree, RUN_BRANCH_TASK } from "./graph-run.js";
import { orchPaths, runPaths, worktreePath, type OrchPaths } from "./paths.js";

/**
 * How long after its end a finished run may still have a live process working on it (writing the report):
 * within it, a run whose process still runs, or ran on another machine (where it cannot be checked), is left.
 */
export const SUPERVISOR_GRACE_MS = 10 * 60_000;

export interface CollectOptions {
  /** Say what would be done; change nothing, write nothing. */
  dryRun?: boolean;
  /** The repository the runs belong to; default: the run's own `repoRoot`. */
  repoRoot?: string;
  /** Who collects, for the journal: "orch gc (pid 123)", "the run itself". */
  by?: string;
  now?: number;
  /** Delete the run's branches too, once its worktrees are gone; `force`: unmerged ones as well. */
  branches?: { force: boolean } | undefined;
}

export interface GcOptions extends CollectOptions {
  repoRoot: string;
  /** Only these runs (exact ids); each must have ended, else a UsageError before anything is done. */
  runIds?: readonly string[];
  /** Only runs that ended at least this long ago. */
  olderThanMs?: number;
}

export type WorktreeAction = "removed" | "would-remove" | "kept" | "failed";

export interface WorktreeCollection {
  taskId: string;
  path: string;
  branch: string;
  /** `kept`: left on purpose (see `reason`); `failed`: git or the disk refused (see `reason`). */
  action: WorktreeAction;
  reason: string | null;
  /** Uncommitted paths (tracked or untracked, ignored files aside) that went, or would go, into `wipCommit`. */
  uncommitted: string[];
  /** The work-in-progress commit made on the task's branch; null when there was nothing to commit (or a dry run). */
  wipCommit: string | null;
  /** Size on disk of the worktree's files (what removing it frees). */
  bytes: number;
}

export interface RunCollection {
  runId: string;
  status: RunRecord["status"];
  /** Why the run was left alone as a whole; null when its worktrees were looked at. */
  skipped: string | null;
  worktrees: WorktreeCollection[];
  worktreesRemoved: number;
  wipCommits: number;
  bytesFreed: number;
  /** Its branches under `orch/<run>/`, when branches were asked for. */
  branches: BranchCollection[];
  branchesDeleted: number;
}

export interface GcResult {
  dryRun: boolean;
  /** Runs whose worktrees were (or would be) collected, and runs named by the caller. */
  runs: RunCollection[];
  /** Runs left alone that still have worktrees, with why. */
  skipped: { runId: string; status: RunRecord["status"]; reason: string }[];
  worktreesRemoved: number;
  wipCommits: number;
  bytesFreed: number;
  /** Branches deleted (or, in a dry run, that would be). */
  branchesDeleted: number;
  /** Branches kept because they hold unmerged work (`force` deletes them). */
  branchesUnmerged: number;
}

/** Whether the process that drove a run may still be at work on it. */
export type Supervisor = "gone" | "self" | "alive" | "elsewhere";

export type Verdict = { collect: true } | { collect: false; finished: boolean; reason: string };

/** Pure: whether a run's worktrees may be collected now. */
export function judgeRun(
  run: Pick<RunRecord, "status" | "endedAt" | "createdAt" | "pid" | "host">,
  facts: { now: number; supervisor: Supervisor; olderThanMs?: number | undefined },
): Verdict {
  if (!isTerminalRun(run.status)) {
    return { collect: false, finished: false, reason: "it has not finished" };
  }
  const age = facts.now - (run.endedAt ?? run.createdAt);
  if (facts.olderThanMs !== undefined && age < facts.olderThanMs) {
    return { collect: false, finished: true, reason: `it ended ${formatDuration(Math.max(0, age))} ago, less than ${formatDuration(facts.olderThanMs)}` };
  }
  if (age < SUPERVISOR_GRACE_MS && facts.supervisor === "alive") {
    return { collect: false, finished: true, reason: `its process (pid ${run.pid ?? "?"}) is still finishing; try again in a moment` };
  }
  if (age < SUPERVISOR_GRACE_MS && facts.supervisor === "elsewhere") {
    return { collect: false, finished: true, reason: `it ran on ${run.host ?? "another host"}, where its process may still be finishing; try again later` };
  }
  return { collect: true };
}

/** The message of the commit that keeps a worktree's uncommitted work on its branch. */
export function wipCommitMessage(runId: string, taskId: string, by: string, why = "The run had ended and left these changes uncommitted in its worktree."): string {
  return [
    `orch gc: work in progress of run ${runId}, task ${taskId} (not verified)`,
    "",
    `${why} ${by} committed them here,`,
    "as they were, before removing the worktree, so that nothing is lost. They were not verified.",
  ].join("\n");
}

/** Whether the process recorded as a run's driver still runs here (the same process: its start time matches). */
export function supervisorOf(run: Pick<RunRecord, "pid" | "pidStartTime" | "host">): Supervisor {
  if (run.pid === undefined) return "gone";
  if (run.host !== undefined && run.host !== hostname()) return "elsewhere";
  const stat = procStat(run.pid);
  // A zombie has exited (nobody has reaped it yet); another start time means the pid was reused.
  if (stat === undefined || stat.state === "Z" || (run.pidStartTime !== undefined && run.pidStartTime !== stat.startTime)) return "gone";
  return run.pid === process.pid ? "self" : "alive";
}

function procStat(pid: number): ProcStat | undefined {
  try {
    return parseProcStat(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return undefined;
  }
}

/**
 * Collects one run: each of its task worktrees that still exists is made safe and removed. A run that may not
 * be collected yet (see `judgeRun`) comes back with `skipped` set; the run service calls this at a run's end.
 */
export async function collectRun(store: Store, runId: string, options: CollectOptions = {}): Promise<RunCollection> {
  const run = await store.getRun(runId);
  if (run === undefined) throw new NotFoundError(`no run "${runId}"`);
  const verdict = judgeRun(run, { now: options.now ?? Date.now(), supervisor: supervisorOf(run) });
  return verdict.collect ? collectWorktrees(store, run, options) : emptyCollection(run, verdict.reason);
}

/** Collects every finished run (or the ones named) of a repository; see `collectRun`. */
export async function collectGarbage(store: Store, options: GcOptions): Promise<GcResult> {
  const now = options.now ?? Date.now();
  const named = options.runIds !== undefined && options.runIds.length > 0;
  const runs: RunRecord[] = [];
  if (named) {
    // Every named run is checked before anything is done: one that has not ended is a usage error.
    for (const id of options.runIds ?? []) {
      const run = await store.getRun(id);
      if (run === undefined) throw new NotFoundError(`no run "${id}"`, { hint: "`orch list` shows the runs of this repository" });
      if (!isTerminalRun(run.status)) {
        throw new UsageError(`run ${run.id} has not finished (it is ${run.status}); orch gc only collects runs that have ended`, {
          hint: `wait for it to end, or end it first: orch stop ${run.id}`,
        });
      }
      if (!runs.some((r) => r.id === run.id)) runs.push(run);
    }
  } else {
    runs.push(...(await store.listRuns({ limit: 1_000_000 })).reverse());
  }
  const result: GcResult = { dryRun: options.dryRun === true, runs: [], skipped: [], worktreesRemoved: 0, wipCommits: 0, bytesFreed: 0, branchesDeleted: 0, branchesUnmerged: 0 };
  for (const run of runs) {
    const verdict = judgeRun(run, { now, supervisor: supervisorOf(run), olderThanMs: options.olderThanMs });
    if (!verdict.collect) {
      if (named) result.runs.push(emptyCollection(run, verdict.reason));
      else if (await hasWorktrees(store, run)) result.skipped.push({ runId: run.id, status: run.status, reason: verdict.reason });
      continue;
    }
    const collected = await collectWorktrees(store, run, { ...options, now });
    if (named || collected.worktrees.length > 0 || collected.branches.length > 0) result.runs.push(collected);
    result.branchesDeleted += collected.branchesDeleted;
    result.branchesUnmerged += collected.branches.filter(keptUnmerged).length;
    result.worktreesRemoved += collected.worktreesRemoved;
    result.wipCommits += collected.wipCommits;
    result.bytesFreed += collected.bytesFreed;
  }
  return result;
}

function emptyCollection(run: RunRecord, skipped: string | null): RunCollection {
  return { runId: run.id, status: run.status, skipped, worktrees: [], worktreesRemoved: 0, wipCommits: 0, bytesFreed: 0, branches: [], branchesDeleted: 0 };
}

/** A worktree orch made for a run: each implementer task's own, and the run branch's (where the planner, the merges and the integrators work). */
interface RunWorktree {
  id: string;
  worktree: string;
  branch: string;
  /** The run branch's: it holds only verified work, so nothing is ever committed on it here. */
  runBranch: boolean;
}

function worktreesOf(run: RunRecord, tasks: readonly TaskRecord[], paths: OrchPaths): RunWorktree[] {
  const own = tasks.filter((t) => t.role === "implementer").map((t) => ({ id: t.id, worktree: t.worktree, branch: t.branch, runBranch: false }));
  return [...own, { id: RUN_BRANCH_TASK, worktree: integrationWorktree(paths, run.id), branch: run.branch, runBranch: true }];
}

async function hasWorktrees(store: Store, run: RunRecord): Promise<boolean> {
  for (const w of worktreesOf(run, await store.listTasks(run.id), runPaths(run))) if (await exists(w.worktree)) return true;
  return false;
}

async function collectWorktrees(store: Store, run: RunRecord, options: CollectOptions): Promise<RunCollection> {
  const dryRun = options.dryRun === true;
  const by = options.by ?? `orch gc (pid ${process.pid})`;
  const repo = await inspectRepo(options.repoRoot ?? run.repoRoot);
  // The folder the run recorded; a run made before that has its worktrees in this repository's `.orch/worktrees/`.
  const paths = orchPaths(repo.root, run.settings.worktrees);
  const collection = emptyCollection(run, null);
  for (const task of worktreesOf(run, await store.listTasks(run.id), paths)) {
    const done = await collectWorktree({ repo, run, task, expected: worktreePath(paths, run.id, task.id), dryRun, by });
    if (done === undefined) continue;
    collection.worktrees.push(done);
    if (done.wipCommit !== null || (dryRun && done.action === "would-remove" && done.uncommitted.length > 0)) collection.wipCommits += 1;
    if (done.action === "removed" || done.action === "would-remove") {
      collection.worktreesRemoved += 1;
      collection.bytesFreed += done.bytes;
    }
  }
  if (options.branches !== undefined) {
    // After the worktrees: git keeps a branch that a worktree still has checked out (and so does gc).
    // A dry run changed nothing: it judges each branch as the real run would find it.
    const going = collection.worktrees.filter((w) => w.action === "would-remove");
    const freed = new Set(going.map((w) => w.branch));
    const wip = new Set(going.filter((w) => w.uncommitted.length > 0).map((w) => w.branch));
    collection.branches = await pruneRunBranches(repo, run.id, { dryRun, force: options.branches.force, freed, wip });
    collection.branchesDeleted = collection.branches.filter((b) => b.action === "deleted" || b.action === "would-delete").length;
  }
  if (dryRun) return collection;
  const acted = collection.worktrees.filter((w) => w.action === "removed" || w.wipCommit !== null);
  if (acted.some((w) => w.action === "removed")) {
    // The run's own folder goes too, but only when nothing else is left in it.
    await rmdir(join(paths.worktrees, run.id)).catch(() => undefined);
  }
  const deleted = collection.branches.filter((b) => b.action === "deleted");
  if (acted.length > 0 || deleted.length > 0) await store.append([collectedEvent(run.id, acted, deleted, by)]);
  return collection;
}

/** The journal's record of worktrees removed (or made safe with a work-in-progress commit) and branches deleted. */
export function collectedEvent(runId: string, acted: readonly WorktreeCollection[], deleted: readonly BranchCollection[], by: string): NewEvent {
  return {
    type: "run.collected",
    runId,
    data: {
      worktrees: acted.map((w) => ({
        taskId: w.taskId,
        path: w.path,
        branch: w.branch,
        removed: w.action === "removed",
        ...(w.wipCommit !== null ? { wipCommit: w.wipCommit } : {}),
        bytes: w.bytes,
      })),
      bytesFreed: acted.reduce((sum, w) => sum + (w.action === "removed" ? w.bytes : 0), 0),
      ...(deleted.length > 0 ? { branches: deleted.map((b) => ({ name: b.name, sha: b.sha, unmerged: b.unmerged })) } : {}),
      by,
    },
  };
}

/**
 * The worktree of one task of a run that goes on, once its work is integrated (its branch holds it): checked to
 * be orch's own and removed, as gc would, any work left uncommitted there first committed on its branch.
 * Undefined when it is gone already.
 */
export async function collectTaskWorktree(
  repo: { root: string; commonDir: string },
  run: RunRecord,
  task: Pick<TaskRecord, "id" | "worktree" | "branch">,
  by: string,
): Promise<WorktreeCollection | undefined> {
  const expected = worktreePath(runPaths(run), run.id, task.id);
  const wipMessage = wipCommitMessage(run.id, task.id, by, "Its work was integrated into the run branch, and these changes were left uncommitted in its worktree.");
  return collectWorktree({ repo, run, task: { id: task.id, worktree: task.worktree, branch: task.branch, runBranch: false }, expected, dryRun: false, by, wipMessage });
}

interface WorktreeJob {
  repo: { root: string; commonDir: string };
  run: RunRecord;
  task: RunWorktree;
  /** Where orch puts this task's worktree in this repository. */
  expected: string;
  dryRun: boolean;
  by: string;
  /** The work-in-progress commit's message; default: gc's, after the run ended. */
  wipMessage?: string;
}

/** One task's worktree: checked to be orch's own, made safe, removed. Undefined when there is none left. */
async function collectWorktree(job: WorktreeJob): Promise<WorktreeCollection | undefined> {
  const { repo, run, task, expected } = job;
  const path = resolve(task.worktree);
  const entry = (action: WorktreeAction, reason: string | null, more: Partial<WorktreeCollection> = {}): WorktreeCollection => ({
    taskId: task.id,
    path,
    branch: task.branch,
    action,
    reason,
    uncommitted: [],
    wipCommit: null,
    bytes: 0,
    ...more,
  });
  if (!(await exists(path))) {
    if (path !== expected && (await exists(expected))) {
      return entry("kept", `the run recorded its worktree at ${path}, not at ${expected} (was the repository moved? \`git worktree repair\` fixes git's records)`, { path: expected });
    }
    return undefined;
  }
  if (path !== expected) return entry("kept", `it is not where orch puts worktrees in ${repo.root} (${expected})`);
  // The common case in one launch: git's own files say the worktree is orch's, and git's refusal to remove a worktree
  // that holds anything uncommitted is the check of its changes. Anything else takes the long way, which tells why.
  if (!job.dryRun && (await isLinkedWorktreeOf(path, repo.commonDir, task.branch))) {
    const bytes = await diskUsage(path);
    if (await removeWorktree({ repo, path }).then(() => true, () => false)) return entry("removed", null, { bytes });
  }
  const owned = await ownWorktree(path, repo.commonDir, task.branch).catch((error: unknown) => toError(error));
  // git could not tell its changes this time (a damaged index, say): a failure, which a run tries again, not a verdict.
  if (owned instanceof Error) return entry("failed", owned.message.split("\n", 1)[0] ?? "");
  if (typeof owned === "string") return entry("kept", owned);

  let wipCommit: string | null = null;
  let uncommitted: string[] = [];
  let bytes = 0;
  try {
    uncommitted = owned.status.paths.sort();
    bytes = await diskUsage(path);
    if (task.runBranch && uncommitted.length > 0) {
      // Whatever is left there (a merge cut short) was never verified, and the run branch holds only verified work.
      return entry("kept", `the run branch's worktree holds changes that were never verified (${uncommitted.slice(0, 3).join(", ")}${uncommitted.length > 3 ? ", …" : ""}); look, then \`git worktree remove --force ${path}\``, { uncommitted, bytes });
    }
    if (job.dryRun) return entry("would-remove", null, { uncommitted, bytes });
    if (uncommitted.length > 0) wipCommit = (await commitAll({ worktree: path, message: job.wipMessage ?? wipCommitMessage(run.id, task.id, job.by) })) ?? null;
    // Without force: git refuses a worktree that still holds anything uncommitted, which is the last guard.
    await removeWorktree({ repo, path });
    return entry("removed", null, { uncommitted, wipCommit, bytes });
  } catch (error) {
    return entry("failed", toError(error).message.split("\n", 1)[0] ?? "", { uncommitted, wipCommit, bytes });
  }
}

/** What git sees inside `path` when it is the top of a worktree of this repository with `branch` checked out; else why it is not. */
async function ownWorktree(path: string, commonDir: string, branch: string): Promise<WorktreeInside | string> {
  const info = await lstat(path);
  if (info.isSymbolicLink() || !info.isDirectory()) return "it is not a folder orch made (a symbolic link or a file)";
  try {
    const found = await inspectWorktree(path);
    if (found.root !== (await realpath(path)) || found.commonDir !== commonDir) return "it is not a git worktree of this repository";
    if (found.currentBranch !== branch) {
      return `it has ${found.currentBranch === undefined ? "a detached HEAD" : `branch ${found.currentBranch}`} checked out, not orch's ${branch}`;
    }
    return found;
  } catch (error) {
    if (error instanceof GitError && error.args === STATUS_ARGS) throw error;
    const message = toError(error).message.split("\n", 1)[0] ?? "";
    // Outside the checkout, a plain folder has no repository above it at all.
    if (/not a git repository/.test(message)) return "it is not a git worktree of this repository";
    return `git cannot read it as a worktree: ${message}`;
  }
}

/** Bytes of every file below `dir` (symbolic links not followed): what removing it gives back. */
async function diskUsage(dir: string): Promise<number> {
  let total = 0;
  const pending = [dir];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    const entries = await readdir(next, { withFileTypes: true }).catch(() => []);
    for (const e of entries) {
      const full = join(next, e.name);
      if (e.isDirectory()) pending.push(full);
      else total += await lstat(full).then((s) => s.size, () => 0);
    }
  }
  return total;
}

async function exists(path: string): Promise<boolean> {
  return (await lstat(path).catch(() => undefined)) !== undefined;
}

/** `path` relative to the repository when it is inside it (for messages). */
export function shortPath(repoRoot: string, path: string): string {
  const rel = relative(repoRoot, path);
  return rel !== "" && !rel.startsWith("..") && !rel.startsWith(sep) ? rel : path;
}
