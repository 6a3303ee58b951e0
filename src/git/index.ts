// The git room's public surface: repository inspection, exclusion, task worktrees, commits, comparisons.
// The raw git runner stays private to the room.
export { GitError } from "./exec.js";
export { inspectRepo, resolveBase, listBranches } from "./repo.js";
export type { RepoInfo, BaseRef } from "./repo.js";
export { branchExists, assertNewBranch, assertNewBranches, deleteBranch, branchesUnder, commitsOnlyUnder, checkedOutBranches, deleteBranchAt } from "./branch.js";
export type { BranchTip } from "./branch.js";
export { ensureExcluded } from "./exclude.js";
export { createWorktree, discardChanges, inspectWorktree, isLinkedWorktreeOf, removeWorktree, STATUS_ARGS, resetWorktree, restoreWorktree, worktreeStatus } from "./worktree.js";
export type { Worktree, WorktreeInside, WorktreeStatus, StatusEntry } from "./worktree.js";
export { commitAll, commitWork } from "./commit.js";
export { treeEntryAt, isIgnored } from "./tree.js";
export type { TreeEntryKind } from "./tree.js";
export { diffStat, changedFiles, commitsOn, mergeBase, workDiff, revParse } from "./compare.js";
export { changeBetween, changeSince } from "./change.js";
export type { DiffStat, CommitSummary, WorkDiffOptions } from "./compare.js";
export { checkMerge } from "./merge-check.js";
export type { MergeCheck, MergeConflict, MergeMessage, ConflictKind } from "./merge-check.js";
export {
  mergeInto,
  startConflictedMerge,
  finishMerge,
  abortMerge,
  revertMerge,
  MergeConflictError,
  UnresolvedConflictError,
} from "./merge.js";
export type { MarkerHit } from "./merge.js";
export { ensureBranch, createWorktreeFrom } from "./run-branch.js";
export type { EnsuredBranch } from "./run-branch.js";
export { pushBranch, readRemoteConfig, withoutCredentials, type RemoteConfig } from "./push.js";
export type { PushResult, PushOptions } from "./push.js";
