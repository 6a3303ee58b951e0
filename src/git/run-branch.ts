// The run branch tasks integrate into, and task worktrees branched from it as it stands when they start.
// Invariant: a branch that exists is never moved here; one that is created is checked first (branch.ts).
import { UsageError } from "../core/errors.js";
import { assertNewBranch, branchExists } from "./branch.js";
import { assertRevision, git, gitFailure, gitOk } from "./exec.js";
import { isAncestor, resolveCommit } from "./merge-check.js";
import type { RepoInfo } from "./repo.js";
import { createWorktree, type Worktree } from "./worktree.js";

type RepoRoot = Pick<RepoInfo, "root">;

export interface EnsuredBranch {
  readonly name: string;
  /** Where the branch points now. */
  readonly sha: string;
  /** False when it already existed (a resumed run): it was left where it was. */
  readonly created: boolean;
}

/**
 * Creates branch `name` at commit `at` unless it exists. An existing branch must contain `at` (a run
 * branch only moves forward from its base); one that does not is someone else's, and a UsageError.
 */
export async function ensureBranch(options: { repo: RepoRoot; name: string; at: string }): Promise<EnsuredBranch> {
  const { repo, name, at } = options;
  const atSha = await resolveCommit(repo.root, at);
  if (!(await branchExists(repo, name))) {
    await assertNewBranch(repo, name);
    const args = ["branch", "--no-track", name, atSha];
    const result = await git(args, repo.root);
    if (result.exitCode === 0) return { name, sha: atSha, created: true };
    // Created by someone else between the check and now: treat it as existing.
    if (!/already exists/.test(result.stderr)) throw gitFailure(args, result);
  }
  const sha = (await gitOk(["rev-parse", "--verify", `refs/heads/${name}^{commit}`], repo.root)).trim();
  if (!(await isAncestor(repo.root, atSha, sha))) {
    throw new UsageError(`branch "${name}" already exists and does not contain ${atSha.slice(0, 12)}`, {
      hint: `it is not this run's branch; delete or rename it: git branch -m ${name} <new-name>`,
    });
  }
  return { name, sha, created: false };
}

/**
 * A worktree at `path` on a new branch started from the branch `from` as it stands now. createWorktree takes
 * a commit: handed a name, git would accept it but the Worktree would record the name, not the commit the
 * task started from, and a missing branch would be an internal GitError. Here `from` is resolved first.
 */
export async function createWorktreeFrom(options: {
  repo: RepoRoot;
  path: string;
  branch: string;
  from: string;
}): Promise<Worktree> {
  const { repo, from } = options;
  assertRevision(from, "from");
  const args = ["rev-parse", "--verify", "--quiet", `refs/heads/${from}^{commit}`];
  const result = await git(args, repo.root);
  if (result.exitCode !== 0) {
    if (result.exitCode !== 1 && !/^fatal: Needed a single revision/m.test(result.stderr)) throw gitFailure(args, result);
    throw new UsageError(`branch "${from}" does not exist in ${repo.root}`, {
      hint: "a task starts from an existing branch; create that one first",
    });
  }
  return createWorktree({ repo, path: options.path, branch: options.branch, baseSha: result.stdout.trim() });
}
