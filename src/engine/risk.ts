// The risk of a task of a run, or of any range of commits: gathers the input of core/risk.ts from git and the
// journal and returns the level with the rules that fired. Read-only. The approval gate (next) calls
// `assessTask` on a task's verified commit and waits for a human when the level asks for one.
import { UsageError } from "../core/errors.js";
import { assessRisk, type RiskAssessment } from "../core/risk.js";
import type { RiskRule } from "../core/risk-rules.js";
import { changeBetween, changeSince, mergeBase, revParse } from "../git/index.js";
import type { RunRecord, Store, TaskRecord } from "../store/store.js";
import { taskChange, taskCommands } from "./task-change.js";

export interface ChangeRisk {
  readonly from: string;
  readonly to: string;
  /** How many shell commands of the agent were read; undefined for a range of commits (no agent). */
  readonly commands: number | undefined;
  readonly assessment: RiskAssessment;
}

/** A task's committed change and its agent's commands, judged by `rules`, with the planner's level as the floor. */
export async function assessTask(store: Store, run: RunRecord, task: TaskRecord, rules: readonly RiskRule[]): Promise<ChangeRisk> {
  const [change, commands] = await Promise.all([taskChange(run, task), taskCommands(store, run.id, task.id)]);
  const assessment = assessRisk({ files: change.files, commands, floor: task.risk, worktree: task.worktree }, rules);
  return { from: change.from, to: change.to, commands: commands.length, assessment };
}

/**
 * The approval gate's judgement of a task's verified `commit`: its change since it left the run branch, with the
 * commands of all its attempts, by `rules`. One round of git calls, beside the journal's read.
 */
export async function assessVerified(store: Store, run: RunRecord, task: TaskRecord, commit: string, rules: readonly RiskRule[]): Promise<RiskAssessment> {
  const [files, commands] = await Promise.all([changeSince(run.repoRoot, run.branch, commit), taskCommands(store, run.id, task.id)]);
  return assessRisk({ files, commands, floor: task.risk, worktree: task.worktree }, rules);
}

/** `A..B` (from A to B) or `A...B` (from where B left A), in the repository at `root`. */
export async function assessRange(root: string, range: string, rules: readonly RiskRule[]): Promise<ChangeRisk> {
  const match = /^(.+?)(\.\.\.?)(.+)$/.exec(range);
  const hint = "write the range as A..B (from A to B) or A...B (from where B left A), such as main..HEAD";
  if (match === null) throw new UsageError(`"${range}" is not a range of commits`, { hint });
  const [, a = "", dots, b = ""] = match;
  const commit = async (rev: string): Promise<string> => {
    const sha = rev.startsWith("-") ? "" : await revParse(root, rev).catch(() => "");
    if (sha === "") throw new UsageError(`"${rev}" names no commit in this repository`, { hint });
    return sha;
  };
  const [first, to] = await Promise.all([commit(a), commit(b)]);
  const from = dots === "..." ? await mergeBase(root, first, to) : first;
  const files = await changeBetween(root, from, to);
  return { from, to, commands: undefined, assessment: assessRisk({ files, commands: [] }, rules) };
}
