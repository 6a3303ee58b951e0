// Branch names and their existence. Invariant: a branch orch is about to create is checked here first,
// so that a clash is a UsageError in plain words before anything is written.
import { UsageError } from "../core/errors.js";
import { git, gitFailure, gitOk } from "./exec.js";
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
  const checked = await git(["check-ref-format", "--branch", name], repo.root);
  if (checked.exitCode !== 0 || name.startsWith("-")) {
    throw new UsageError(`"${name}" is not a valid branch name`, {
      hint: "use letters, digits, '-', '_', '.' and '/' (see `git check-ref-format`)",
    });
  }
  if (await branchExists(repo, name)) {
    throw new UsageError(`branch "${name}" already exists`, {
      hint: `choose another name, or delete it first: git branch -D ${name}`,
    });
  }
  const clash = await clashingBranch(repo, name);
  if (clash !== undefined) {
    throw new UsageError(`branch "${name}" cannot be created next to the existing branch "${clash}"`, {
      hint: "git stores a branch name as a path, so one cannot be a folder of the other; choose another name",
    });
  }
}

async function clashingBranch(repo: RepoRoot, name: string): Promise<string | undefined> {
  const parts = name.split("/");
  for (let i = 1; i < parts.length; i++) {
    const parent = parts.slice(0, i).join("/");
    if (await branchExists(repo, parent)) return parent;
  }
  const below = await gitOk(["for-each-ref", "--count=1", "--format=%(refname)", `refs/heads/${name}/`], repo.root);
  const ref = below.trim();
  return ref === "" ? undefined : ref.slice("refs/heads/".length);
}

/** Deletes a local branch. Without `force`, git refuses a branch that is not merged. */
export async function deleteBranch(repo: RepoRoot, name: string, options: { force?: boolean } = {}): Promise<void> {
  await gitOk(["branch", options.force === true ? "-D" : "-d", "--", name], repo.root);
}
