// Worktrees for tasks: created on a new branch from a base commit, inspected, removed.
// Invariant: the user's own working tree, index and current branch are never touched.
import { existsSync, rmSync } from "node:fs";
import { readdir, readFile, realpath, stat } from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";
import * as path from "node:path";
import { UsageError } from "../core/errors.js";
import { assertNewBranch } from "./branch.js";
import { assertRevision, git, gitFailure, gitMessage, gitOk, gitScript, UNATTENDED } from "./exec.js";
import { currentBranchOf, resolvedPaths, type RepoInfo } from "./repo.js";

type RepoRoot = Pick<RepoInfo, "root">;

const RACED = /failed to read \S*worktrees\/\S+\/(commondir|gitdir)/;
const RACE_RETRIES = 5;

export interface Worktree {
  /** Absolute path, symlinks resolved. */
  readonly path: string;
  readonly branch: string;
  readonly baseSha: string;
}

/**
 * `git worktree add -b <branch> <path> <baseSha>`. A relative path is taken from the repository root;
 * missing parent folders are created by git. A taken or clashing branch, or a non-empty path, is a
 * UsageError and nothing is written.
 */
export async function createWorktree(options: {
  repo: RepoRoot;
  path: string;
  branch: string;
  baseSha: string;
  /** The caller checked the branch name free already (a planned run checks all of its branches up front). */
  branchChecked?: boolean;
}): Promise<Worktree> {
  const { repo, branch, baseSha } = options;
  assertRevision(baseSha, "base");
  const target = path.resolve(repo.root, options.path);
  if (options.branchChecked !== true) await assertNewBranch(repo, branch);
  if (!(await isAbsentOrEmptyDir(target))) {
    throw new UsageError(`${target} already exists and is not empty`, {
      hint: "remove it, or let orch pick another worktree path",
    });
  }
  const args = ["worktree", "add", "--quiet", "-b", branch, target, baseSha];
  let result = await git(args, repo.root);
  // Two `worktree add` at once can trip over each other's half-written metadata ("failed to read
  // .git/worktrees/x/commondir") after the branch was made: the worktree is added again on that branch.
  for (let retry = 1; result.exitCode !== 0 && RACED.test(result.stderr) && retry <= RACE_RETRIES; retry++) {
    await sleep(10 * retry);
    const again = (await git(["rev-parse", "--verify", "--quiet", `refs/heads/${branch}`], repo.root)).exitCode === 0;
    result = await git(again ? ["worktree", "add", "--quiet", target, branch] : args, repo.root);
  }
  if (result.exitCode !== 0) {
    if (/already exists/.test(result.stderr)) {
      throw new UsageError(`cannot create worktree: ${gitMessage(result.stderr)}`, {
        hint: "choose another branch name or worktree path",
      });
    }
    throw gitFailure(args, result);
  }
  return { path: await realpath(target), branch, baseSha };
}

/**
 * A worktree at `path` on the existing `branch`, made again where it is gone (a run's end removed it; a run
 * reopened with new limits goes on there). One still there is left as it is. Returns whether it was made.
 */
export async function restoreWorktree(options: { repo: RepoRoot; path: string; branch: string }): Promise<boolean> {
  const target = path.resolve(options.repo.root, options.path);
  if (existsSync(target)) return false;
  assertRevision(options.branch, "branch");
  // The removed worktree's metadata may linger (a folder deleted by hand): prune it so that the branch is free.
  await gitOk(["worktree", "prune"], options.repo.root);
  await gitOk(["worktree", "add", "--quiet", target, options.branch], options.repo.root);
  return true;
}

/**
 * Moves a worktree's branch, index and files to `sha` (`git reset --hard`): only for a worktree that holds nothing
 * of anyone's to lose (one made ahead of its task, the run branch's own between merges). Untracked files stay;
 * hooks do not run.
 */
export async function resetWorktree(worktree: string, sha: string): Promise<void> {
  assertRevision(sha, "commit");
  await gitOk([...UNATTENDED, "reset", "--quiet", "--hard", sha], worktree);
}

/**
 * Puts a worktree's tracked files and index back to its HEAD (untracked files stay) and says whether anything
 * was there to put back. For orch's own run branch worktree only, where every change is orch's and a change left
 * uncommitted is one cut short (a revert its supervisor died in).
 */
export async function discardChanges(worktree: string): Promise<boolean> {
  if ((await gitOk(["status", "--porcelain", "--untracked-files=no"], worktree)).trim() === "") return false;
  await resetWorktree(worktree, "HEAD");
  return true;
}

/**
 * Removes the index.lock a git command killed part-way left in a worktree (every later git command there would
 * refuse to run). Only for a worktree no live git command uses: one whose supervisor died. Whether one was there.
 */
export async function removeStaleIndexLock(worktree: string): Promise<boolean> {
  if (!existsSync(worktree)) return false;
  const result = await git(["rev-parse", "--git-path", "index.lock"], worktree);
  if (result.exitCode !== 0) return false;
  const lock = path.resolve(worktree, result.stdout.trim());
  if (!existsSync(lock)) return false;
  rmSync(lock, { force: true });
  return true;
}

async function isAbsentOrEmptyDir(target: string): Promise<boolean> {
  const info = await stat(target).catch(() => undefined);
  if (info === undefined) return true;
  return info.isDirectory() && (await readdir(target)).length === 0;
}

/**
 * Removes a worktree (its branch stays). Without `force`, one with uncommitted changes is a UsageError.
 * A worktree whose folder is already gone is pruned. Returns whether a folder was removed.
 */
export async function removeWorktree(options: { repo: RepoRoot; path: string; force?: boolean }): Promise<boolean> {
  const { repo } = options;
  const target = path.resolve(repo.root, options.path);
  if ((await stat(target).catch(() => undefined)) === undefined) {
    await gitOk(["worktree", "prune"], repo.root);
    return false;
  }
  // A locked worktree needs --force twice; orch only locks its own, so force means force.
  const args = ["worktree", "remove", ...(options.force === true ? ["--force", "--force"] : []), target];
  const result = await git(args, repo.root);
  if (result.exitCode === 0) return true;
  if (/contains modified or untracked files/.test(result.stderr)) {
    throw new UsageError(`the worktree ${target} has uncommitted changes`, {
      hint: "commit or discard them, or remove it with force",
    });
  }
  if (/is not a working tree/.test(result.stderr)) {
    throw new UsageError(`${target} is not a worktree of ${repo.root}`);
  }
  throw gitFailure(args, result);
}

export interface StatusEntry {
  /** The two-letter porcelain code, e.g. " M", "A ", "??", "R ". */
  readonly code: string;
  readonly path: string;
  /** The old path of a rename or copy. */
  readonly origPath?: string;
}

export interface WorktreeStatus {
  readonly dirty: boolean;
  /** Every changed path, untracked ones included; renames list the new path. */
  readonly paths: string[];
  readonly entries: StatusEntry[];
}

/**
 * Whether git's own files say plainly that `worktreePath` is a linked worktree of the repository whose common dir is
 * `commonDir` (absolute, symlinks resolved), registered at that very folder, with `branch` checked out: its `.git`
 * file names a folder under the common dir's `worktrees/`, whose `gitdir` file names this folder back and whose HEAD
 * is the branch (gitrepository-layout(5)). No process is started. False whenever anything reads otherwise or cannot
 * be read; a caller then asks git (inspectWorktree), which also tells why.
 */
export async function isLinkedWorktreeOf(worktreePath: string, commonDir: string, branch: string): Promise<boolean> {
  try {
    const top = await realpath(worktreePath);
    // A symbolic link, or a path through one, is for the long way too.
    if (top !== path.resolve(worktreePath)) return false;
    const pointer = await readFile(path.join(top, ".git"), "utf8");
    if (!pointer.startsWith("gitdir: ")) return false;
    const admin = await realpath(path.resolve(top, pointer.slice("gitdir: ".length).trim()));
    if (path.dirname(admin) !== path.join(commonDir, "worktrees")) return false;
    const [back, head] = await Promise.all([readFile(path.join(admin, "gitdir"), "utf8"), readFile(path.join(admin, "HEAD"), "utf8")]);
    const registered = await realpath(path.dirname(path.resolve(admin, back.trim())));
    return registered === top && head.trim() === `ref: refs/heads/${branch}`;
  } catch {
    return false;
  }
}

/** A worktree as git sees it from inside: what inspectRepo tells of its folder, and its changes. */
export interface WorktreeInside {
  /** Its top folder, symlinks resolved. */
  readonly root: string;
  /** The repository's common dir (absolute, symlinks resolved). */
  readonly commonDir: string;
  /** The branch checked out; undefined when HEAD is detached. */
  readonly currentBranch: string | undefined;
  readonly status: WorktreeStatus;
}

/**
 * Where a worktree belongs and what it holds uncommitted, in one launch (gc asks both of every worktree it removes,
 * and a run asks them of each task's as it is integrated). A `GitError` when git cannot read it as a worktree at all.
 */
export async function inspectWorktree(worktreePath: string): Promise<WorktreeInside> {
  const result = await gitScript(INSPECT_WORKTREE, [], worktreePath);
  const split = result.stdout.indexOf("\0");
  // The NUL is printed between the two parts: with it, the folder was read and only the status failed.
  if (result.exitCode !== 0) throw gitFailure(split === -1 ? INSPECT_ARGS : STATUS_ARGS, result);
  const [toplevel, common, head] = result.stdout.slice(0, split === -1 ? result.stdout.length : split).split("\n");
  if (split === -1 || !toplevel || !common || !head) throw gitFailure(INSPECT_ARGS, { ...result, exitCode: 1 });
  return {
    ...(await resolvedPaths(worktreePath, toplevel, common)),
    currentBranch: currentBranchOf(head),
    status: statusOf(result.stdout.slice(split + 1)),
  };
}

const INSPECT_ARGS = ["rev-parse", "--show-toplevel", "--git-common-dir", "--symbolic-full-name", "HEAD"] as const;
/** The args of the GitError when git read the folder but not its status (a damaged index, say): a failure, not a verdict. */
export const STATUS_ARGS = ["status", "--porcelain=v1", "-z", "--untracked-files=all"] as const;

// Like every git orch runs, the status takes no optional lock (gitEnv): when the folder turns out not to be a worktree
// of orch's (the caller decides that from the first part), nothing was written in whatever repository it is part of.
const INSPECT_WORKTREE = `git ${INSPECT_ARGS.join(" ")} || exit
printf '\\0'
exec git ${STATUS_ARGS.join(" ")}`;

/** Staged, unstaged and untracked changes of a worktree (ignored files are not changes). */
export async function worktreeStatus(worktreePath: string): Promise<WorktreeStatus> {
  return statusOf(await gitOk(STATUS_ARGS, worktreePath));
}

function statusOf(porcelainZ: string): WorktreeStatus {
  const entries = parsePorcelainZ(porcelainZ);
  return { dirty: entries.length > 0, paths: entries.map((e) => e.path), entries };
}

/** `XY path\0`, with a second `origPath\0` field after renames and copies. */
export function parsePorcelainZ(out: string): StatusEntry[] {
  const fields = out.split("\0");
  const entries: StatusEntry[] = [];
  for (let i = 0; i < fields.length; i++) {
    const field = fields[i];
    if (field === undefined || field.length < 4) continue;
    const code = field.slice(0, 2);
    const entryPath = field.slice(3);
    if (/[RC]/.test(code)) {
      const origPath = fields[++i];
      entries.push(origPath === undefined ? { code, path: entryPath } : { code, path: entryPath, origPath });
    } else {
      entries.push({ code, path: entryPath });
    }
  }
  return entries;
}
