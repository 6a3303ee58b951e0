// What a reviewer is shown of a task's work: the change its commit makes against where the task's branch and the
// run branch last met (the work a merge would bring), as a stat and a diff bounded for a prompt.
import { mergeBase, workDiff } from "../git/compare.js";
import type { ChainLink } from "./model-chain.js";

/**
 * What every reviewer's attempt is, beside its ids, prompt and bounds: the reviewer's agent and model, judging
 * `commit`, read-only (whatever it would change is not the work under review), in a fresh session.
 */
export function reviewerAttempt(reviewer: ChainLink, commit: string) {
  return { reviews: commit, adapter: reviewer.adapter, permission: "read-only" as const, grantedTools: [] as string[], model: reviewer.model, resumeSessionId: undefined };
}

/** A diff longer than this is cut in the prompt, saying so (the reviewer can read the files in the worktree). */
export const REVIEW_DIFF_MAX_CHARS = 60_000;

export async function changeUnderReview(worktree: string, runBranch: string, commit: string): Promise<{ stat: string; diff: string }> {
  const base = await mergeBase(worktree, runBranch, commit).catch(() => `${commit}^`);
  const [stat, diff] = await Promise.all([workDiff({ cwd: worktree, base, to: commit, stat: true }), workDiff({ cwd: worktree, base, to: commit })]);
  const cut = diff.length > REVIEW_DIFF_MAX_CHARS;
  return {
    stat: stat.trimEnd(),
    diff: cut ? `${diff.slice(0, REVIEW_DIFF_MAX_CHARS)}\n[… the diff is cut at ${REVIEW_DIFF_MAX_CHARS} characters; read the rest in the worktree: git diff ${base.slice(0, 12)} ${commit.slice(0, 12)}]` : diff.trimEnd(),
  };
}
