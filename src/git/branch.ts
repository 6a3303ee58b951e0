// Branch names and their existence. Invariant: a branch orch is about to create is checked here first,
// so that a clash is a UsageError in plain words before anything is written.
import { UsageError } from "../core/errors.js";
import { assertRevision, git, gitFailure, gitOk } from "./exec.js";
import type { RepoInfo } from "./repo.js";

type RepoRoot = Pick<RepoInfo, "root">;

export async function branchExists(repo: RepoRoot, name: string): Promise<boolean> {
  const args = ["show-ref", "--verify", "--quiet", `refs/heads/${name}`];
  const result = await git(args, repo.root);
  if (result.exitCode === 0) return true;
  if (result.exitCode === 1) return false;
  throw gitFailure(args, result);
}

/**
 * Throws a UsageError unless `name` can be created as a new branch: a valid name, not taken, and not
 * clashing with an existing branch as a folder would (`orch/x` blocks `orch/x/task` and the reverse).
 */
export async function assertNewBranch(repo: RepoRoot, name: string): Promise<void> {
  await assertNewBranches(repo, [name]);
}

/**
 * `assertNewBranch` for many names at once (a planned run's branches): the existing branches are listed once, so
 * checking two hundred names costs one git call, not a thousand. The names must not clash with each other either.
 */
export async function assertNewBranches(repo: RepoRoot, names: readonly string[]): Promise<void> {
  for (const name of names) await assertBranchName(repo, name);
  const listed = await gitOk(["for-each-ref", "--format=%(refname)", "refs/heads/"], repo.root);
  const existing = new Set(listed.split("\n").filter((ref) => ref !== "").map((ref) => ref.slice("refs/heads/".length)));
  const taken = new Set<string>();
  for (const name of names) {
    if (existing.has(name) || taken.has(name)) {
      throw new UsageError(`branch "${name}" already exists`, {
        hint: `choose another name, or delete it first: git branch -D ${name}`,
      });
    }
    const clash = clashingBranch(name, existing) ?? clashingBranch(name, taken);
    if (clash !== undefined) {
      throw new UsageError(`branch "${name}" cannot be created next to the existing branch "${clash}"`, {
        hint: "git stores a branch name as a path, so one cannot be a folder of the other; choose another name",
      });
    }
    taken.add(name);
  }
}

/** A name of plain segments (letters, digits, `-`, `_`, `.`) that git accepts without asking it. */
const PLAIN_SEGMENT = /^(?!\.)[A-Za-z0-9._-]+(?<!\.lock)(?<!\.)$/;

async function assertBranchName(repo: RepoRoot, name: string): Promise<void> {
  const plain = !name.startsWith("-") && name !== "HEAD" && !name.includes("..") && name.split("/").every((segment) => PLAIN_SEGMENT.test(segment));
  if (plain) return;
  const checked = await git(["check-ref-format", "--branch", name], repo.root);
  if (checked.exitCode !== 0 || name.startsWith("-")) {
    throw new UsageError(`"${name}" is not a valid branch name`, {
      hint: "use letters, digits, '-', '_', '.' and '/' (see `git check-ref-format`)",
    });
  }
}

/** A branch among `branches` that is a folder of `name`, or that `name` is a folder of. */
function clashingBranch(name: string, branches: ReadonlySet<string>): string | undefined {
  const parts = name.split("/");
  for (let i = 1; i < parts.length; i++) {
    const parent = parts.slice(0, i).join("/");
    if (branches.has(parent)) return parent;
  }
  for (const branch of branches) if (branch.startsWith(`${name}/`)) return branch;
  return undefined;
}

/** Deletes a local branch. Without `force`, git refuses a branch that is not merged. */
export async function deleteBranch(repo: RepoRoot, name: string, options: { force?: boolean } = {}): Promise<void> {
  await gitOk(["branch", options.force === true ? "-D" : "-d", "--", name], repo.root);
}

export interface BranchTip {
  readonly name: string;
  readonly sha: string;
}

/** The local branches under `prefix/` (`orch/<run>`), with the commit each points at. */
export async function branchesUnder(repo: RepoRoot, prefix: string): Promise<BranchTip[]> {
  const listed = await gitOk(["for-each-ref", "--format=%(objectname) %(refname)", `refs/heads/${prefix}/`], repo.root);
  return listed
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => {
      const space = line.indexOf(" ");
      return { sha: line.slice(0, space), name: line.slice(space + 1 + "refs/heads/".length) };
    });
}

/**
 * How many commits reachable from `sha` are on no local branch outside `outside/` (`orch`): 0 when every commit
 * of it is also on a branch of the user's own (it was merged, or never held any work of its own).
 */
export async function commitsOnlyUnder(repo: RepoRoot, sha: string, outside: string): Promise<number> {
  assertRevision(sha, "sha");
  const counted = await gitOk(["rev-list", "--count", sha, "--not", `--exclude=${outside}/*`, "--branches"], repo.root);
  return Number(counted.trim());
}

/** Every branch checked out in a worktree of the repository (the main one too), with that worktree's path. */
export async function checkedOutBranches(repo: RepoRoot): Promise<Map<string, string>> {
  const listed = await gitOk(["worktree", "list", "--porcelain"], repo.root);
  const found = new Map<string, string>();
  let path = "";
  for (const line of listed.split("\n")) {
    if (line.startsWith("worktree ")) path = line.slice("worktree ".length);
    else if (line.startsWith("branch refs/heads/")) found.set(line.slice("branch refs/heads/".length), path);
  }
  return found;
}

/**
 * Deletes branch `name` only if it still points at `sha` (one compare-and-delete in git): false when it moved or
 * went meanwhile. The caller checks first that no worktree has it checked out (git does not, here).
 */
export async function deleteBranchAt(repo: RepoRoot, name: string, sha: string): Promise<boolean> {
  assertRevision(sha, "sha");
  const args = ["update-ref", "-d", `refs/heads/${name}`, sha];
  const result = await git(args, repo.root);
  if (result.exitCode === 0) return true;
  if (/but expected|unable to resolve reference/.test(result.stderr)) return false;
  throw gitFailure(args, result);
}
