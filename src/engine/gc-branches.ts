// Pruning a finished run's branches (`orch gc --branches`): every local branch under `orch/<run>/` goes once
// nothing would be lost with it. Invariants: a branch holding a commit that no branch of the user's own holds
// (not merged) is kept unless the caller forces it; a branch checked out in any worktree is always kept; a branch
// is deleted only if it still points where it was judged (one compare-and-delete in git), and the journal keeps
// where each one pointed, so that `git branch NAME SHA` brings it back while git still has the commits.
import { toError } from "../core/errors.js";
import { branchesUnder, checkedOutBranches, commitsOnlyUnder, deleteBranchAt } from "../git/index.js";

/** The branches orch makes all live under this folder: `orch/<run>/<task>`, `orch/<run>/_run`. */
export const ORCH_BRANCHES = "orch";

export type BranchAction = "deleted" | "would-delete" | "kept" | "failed";

export interface BranchCollection {
  name: string;
  /** Where it pointed when judged (and, when deleted, where it pointed then). */
  sha: string;
  /** Commits on it that no branch outside `orch/` holds: 0 when it is merged (or never held work of its own). */
  unmerged: number;
  /** `kept`: left on purpose (see `reason`); `failed`: git refused (see `reason`). */
  action: BranchAction;
  reason: string | null;
  /** The worktree that has it checked out, which keeps it even with `force`. */
  checkedOutIn: string | null;
}

export interface PruneOptions {
  dryRun: boolean;
  /** Delete a branch with unmerged commits too (never one checked out in a worktree). */
  force: boolean;
  /** Branches whose worktree a dry run would remove first: not counted as checked out. */
  freed?: ReadonlySet<string>;
  /** Branches a dry run would first give a work-in-progress commit: one unmerged commit more than they have now. */
  wip?: ReadonlySet<string>;
}

/** Whether a branch was kept only for its unmerged commits: what `force` would delete. */
export const keptUnmerged = (b: BranchCollection): boolean => b.action === "kept" && b.checkedOutIn === null && b.unmerged > 0;

/** Judges and (unless a dry run) deletes each branch of the run. The caller makes sure the run has ended. */
export async function pruneRunBranches(repo: { root: string }, runId: string, options: PruneOptions): Promise<BranchCollection[]> {
  const branches = await branchesUnder(repo, `${ORCH_BRANCHES}/${runId}`);
  if (branches.length === 0) return [];
  const checkedOut = await checkedOutBranches(repo);
  const done: BranchCollection[] = [];
  for (const { name, sha } of branches) {
    let where: string | undefined;
    const entry = (action: BranchAction, reason: string | null, unmerged: number): BranchCollection => ({ name, sha, unmerged, action, reason, checkedOutIn: where ?? null });
    try {
      const unmerged = (await commitsOnlyUnder(repo, sha, ORCH_BRANCHES)) + (options.wip?.has(name) === true ? 1 : 0);
      where = options.freed?.has(name) === true ? undefined : checkedOut.get(name);
      if (where !== undefined) {
        done.push(entry("kept", `it is checked out in ${where}`, unmerged));
      } else if (unmerged > 0 && !options.force) {
        done.push(entry("kept", `${unmerged} commit${unmerged === 1 ? " is" : "s are"} on no other branch (not merged)`, unmerged));
      } else if (options.dryRun) {
        done.push(entry("would-delete", null, unmerged));
      } else if (await deleteBranchAt(repo, name, sha)) {
        done.push(entry("deleted", null, unmerged));
      } else {
        done.push(entry("kept", "it moved while gc looked at it", unmerged));
      }
    } catch (error) {
      done.push(entry("failed", toError(error).message.split("\n", 1)[0] ?? "", 0));
    }
  }
  return done;
}
