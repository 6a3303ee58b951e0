// Finds the repository a command was started in and the base a run starts from.
// Invariant: inspecting and resolving only read; they write nothing to the repository or the disk.
import { realpath, stat } from "node:fs/promises";
import * as path from "node:path";
import { UsageError } from "../core/errors.js";
import { GitError, git, gitFailure, gitOk, type GitResult } from "./exec.js";
import { LOCATE_ARGS, takeRepoLookup } from "./locate.js";

export interface RepoInfo {
  /** Top level of the working tree the command runs in, symlinks resolved. */
  readonly root: string;
  /** Absolute git common dir, shared by every worktree of the repository (holds info/exclude). */
  readonly commonDir: string;
  /** The checked-out branch; undefined when HEAD is detached. */
  readonly currentBranch: string | undefined;
  readonly headSha: string;
}

export interface BaseRef {
  /** A branch name, or "HEAD" when the run starts from a detached HEAD. */
  readonly branch: string;
  readonly sha: string;
}

export async function inspectRepo(cwd: string): Promise<RepoInfo> {
  const dir = path.resolve(cwd);
  const info = await stat(dir).catch(() => undefined);
  if (info === undefined) {
    throw new UsageError(`${dir} does not exist`, { hint: "cd into your project and try again" });
  }
  if (!info.isDirectory()) {
    throw new UsageError(`${dir} is not a directory`, { hint: "cd into your project and try again" });
  }

  // One git call finds all four on the common path (a repository with a commit); anything else takes the
  // longer path below, whose separate calls tell the cases apart for the error.
  const located = await locate(dir);
  const [toplevel, common, headSha, head] = located.stdout.split("\n");
  if (located.exitCode === 0 && toplevel && common && headSha !== undefined && /^[0-9a-f]{40,64}$/.test(headSha) && head) {
    return { ...(await resolvedPaths(dir, toplevel, common)), currentBranch: currentBranchOf(head), headSha };
  }
  return inspectRepoStepwise(dir);
}

/** LOCATE_ARGS's answer in `dir`: the one the CLI's entry asked for already, if it asked there, else git's now. */
async function locate(dir: string): Promise<GitResult> {
  return (await takeRepoLookup(dir)) ?? (await git(LOCATE_ARGS, dir));
}

async function inspectRepoStepwise(dir: string): Promise<RepoInfo> {
  const args = ["rev-parse", "--show-toplevel", "--git-common-dir"];
  const located = await git(args, dir);
  if (located.exitCode !== 0) throw notARepository(dir, args, located.stderr, located.exitCode);
  const [toplevel, common] = located.stdout.split("\n");
  if (!toplevel || !common) {
    throw new GitError(`git ${args.join(" ")} printed no paths`, {
      args,
      exitCode: 0,
      stderr: located.stderr,
    });
  }
  const { root, commonDir } = await resolvedPaths(dir, toplevel, common);
  const headSha = await commitSha(root, "HEAD");
  if (headSha === undefined) {
    throw new UsageError(`the repository at ${root} has no commit yet`, {
      hint: 'make a first commit (git add -A && git commit -m "first commit") and try again',
    });
  }
  return { root, commonDir, currentBranch: await symbolicBranch(root), headSha };
}

/** The top level and the common dir git printed for `dir`, as absolute paths with symlinks resolved. */
export async function resolvedPaths(dir: string, toplevel: string, common: string): Promise<{ root: string; commonDir: string }> {
  // --git-common-dir may be relative to the directory git ran in.
  const [root, commonDir] = await Promise.all([realpath(toplevel), realpath(path.resolve(dir, common))]);
  return { root, commonDir };
}

/** The branch checked out, from `rev-parse --symbolic-full-name HEAD`'s answer; undefined for a detached HEAD. */
export function currentBranchOf(symbolicHead: string): string | undefined {
  return symbolicHead === "HEAD" ? undefined : branchName(symbolicHead);
}

function branchName(ref: string): string {
  return ref.startsWith("refs/heads/") ? ref.slice("refs/heads/".length) : ref;
}

function notARepository(dir: string, args: readonly string[], stderr: string, exitCode: number): Error {
  if (/not a git repository/i.test(stderr)) {
    return new UsageError(`${dir} is not a git repository`, {
      hint: "run `git init` there and make a first commit, or cd into your project",
    });
  }
  if (/must be run in a work tree/i.test(stderr)) {
    return new UsageError(`${dir} is inside a .git directory or a bare repository, not a working tree`, {
      hint: "cd into the project's working tree and try again",
    });
  }
  if (/dubious ownership/i.test(stderr)) {
    return new UsageError(`git refuses to work in ${dir}: it belongs to another user`, {
      hint: `if you trust it: git config --global --add safe.directory ${dir}`,
    });
  }
  return gitFailure(args, { stdout: "", stderr, exitCode });
}

/** The commit a revision names, or undefined when it names none. */
async function commitSha(root: string, rev: string): Promise<string | undefined> {
  const args = ["rev-parse", "--verify", "--quiet", `${rev}^{commit}`];
  const result = await git(args, root);
  if (result.exitCode === 0) return result.stdout.trim();
  if (result.exitCode === 1 || /^fatal: (Needed a single revision|ambiguous argument)/m.test(result.stderr)) {
    return undefined;
  }
  throw gitFailure(args, result);
}

async function symbolicBranch(root: string): Promise<string | undefined> {
  const args = ["symbolic-ref", "--quiet", "HEAD"];
  const result = await git(args, root);
  if (result.exitCode === 1) return undefined; // detached
  if (result.exitCode !== 0) throw gitFailure(args, result);
  return branchName(result.stdout.trim());
}

/**
 * The branch and commit a run starts from. Without `base`, the current branch (or the detached HEAD,
 * named "HEAD"). A base may be a local branch or a remote-tracking one such as `origin/main`.
 */
export async function resolveBase(repo: RepoInfo, base?: string): Promise<BaseRef> {
  // Without a base, the answer is what inspecting the repository read a moment ago.
  if (base === undefined) return { branch: repo.currentBranch ?? "HEAD", sha: repo.headSha };
  const name = base;
  if (name === "HEAD") {
    const sha = await commitSha(repo.root, "HEAD");
    if (sha === undefined) throw new GitError("HEAD names no commit", { args: [], exitCode: undefined, stderr: "" });
    return { branch: "HEAD", sha };
  }
  for (const ref of [`refs/heads/${name}`, `refs/remotes/${name}`]) {
    const sha = await commitSha(repo.root, ref);
    if (sha !== undefined) return { branch: name, sha };
  }
  const existing = await listBranches(repo.root);
  const shown = existing.slice(0, 5).join(", ");
  const more = existing.length > 5 ? ` and ${existing.length - 5} more` : "";
  throw new UsageError(`base branch "${name}" does not exist in ${repo.root}`, {
    hint: existing.length === 0 ? "the repository has no branches" : `existing branches: ${shown}${more}`,
  });
}

/** Local branch names, most recently committed first. */
export async function listBranches(root: string): Promise<string[]> {
  const out = await gitOk(
    ["for-each-ref", "--sort=-committerdate", "--format=%(refname)", "refs/heads/"],
    root,
  );
  return out
    .split("\n")
    .filter((line) => line.startsWith("refs/heads/"))
    .map((line) => line.slice("refs/heads/".length));
}
