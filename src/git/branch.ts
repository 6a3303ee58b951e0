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
