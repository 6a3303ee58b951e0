// Carries out the whole-run review before delivery (core/run-review.ts decides each step from the journal): a
// reviewer attempt, read-only, in the run branch's worktree, on the run branch's diff against its base; its verdict
// journaled on that attempt with the tip it judged; blocking findings made into a task of fixes for the scheduler.
// Invariant: every step's outcome is journaled before the next is decided, so a supervisor that takes the run over
// goes on from the same place; a review that crashed, hung or gave no parsable verdict is a failed attempt, never
// an approval.
import { setTimeout as sleep } from "node:timers/promises";
import { parseReview, reviewRecord } from "../core/review.js";
import { RUN_REVIEW_FAILURES, runReviewOff, runReviewPrompt, runReviewStep, type RunReviewStep } from "../core/run-review.js";
import type { Failure } from "../core/failure.js";
import { resetWorktree } from "../git/index.js";
import { revParse, treeOf } from "../git/compare.js";
import type { AttemptRecord, RunRecord, TaskRecord } from "../store/store.js";
import { runAttempt } from "./attempt-runner.js";
import type { EngineDeps } from "./deps.js";
import type { JournalWriter } from "./event-writer.js";
import { reviewAttemptId, taskBranch } from "./ids.js";
import type { ChainLink } from "./model-chain.js";
import { transcriptPath, worktreePath, type OrchPaths } from "./paths.js";
import { changeUnderReview, reviewerAttempt } from "./review.js";
import type { TaskActivity } from "./task-runner.js";

export interface RunReviewContext {
  run: RunRecord;
  reviewer: ChainLink | undefined;
  paths: OrchPaths;
  /** The run branch's worktree, where the reviewer reads. */
  integration: string;
  writer: JournalWriter;
  abort: AbortSignal;
  deadline: number;
  /** What the review does, as it happens (the foreground's live output), as a task's activity. */
  onActivity?: ((activity: TaskActivity) => void) | undefined;
}

/** What the run does after the review: deliver, drive the graph again (a task of fixes was added), or hold delivery. */
export type RunReviewOutcome = { kind: "deliver"; why: string } | { kind: "fix"; taskId: string } | { kind: "hold"; reason: string };

export async function reviewWholeRun(deps: EngineDeps, ctx: RunReviewContext): Promise<RunReviewOutcome> {
  const { run } = ctx;
  const review = run.settings.review;
  const settings = review?.on === true && ctx.reviewer !== undefined ? { wholeRun: review.wholeRun, wholeRunFixes: review.wholeRunFixes } : undefined;
  // Decided before anything is read: a run without the review asks git and the journal nothing here.
  const off = runReviewOff(settings);
  if (off !== undefined) return { kind: "deliver", why: off };
  for (;;) {
    if (ctx.abort.aborted) return { kind: "hold", reason: "the run was stopped during its whole-run review" };
    const tip = await revParse(ctx.integration, "HEAD");
    const [tasks, attempts] = await Promise.all([deps.store.listTasks(run.id), deps.store.listAttempts({ runId: run.id })]);
    const approvedWhole = await approvedAsWhole(ctx.integration, tip, tasks, attempts);
    const step: RunReviewStep = runReviewStep({ settings, baseSha: run.baseSha, tip, tasks, attempts, approvedWhole });
    switch (step.kind) {
      case "skip":
        return { kind: "deliver", why: step.why };
      case "approved":
        return { kind: "deliver", why: `the whole-run review approved ${tip.slice(0, 12)}` };
      case "hold":
        return { kind: "hold", reason: step.reason };
      case "fix": {
        const position = tasks.length;
        await ctx.writer.write({
          type: "task.created",
          runId: run.id,
          taskId: step.taskId,
          data: {
            title: `fix what the whole-run review found (round ${step.record.round})`,
            goal: `${run.goal}\n\n${step.goal}`,
            criteria: run.criteria,
            branch: taskBranch(run.id, step.taskId),
            worktree: worktreePath(ctx.paths, run.id, step.taskId),
            role: "implementer",
            dependsOn: [],
            position,
          },
        });
        return { kind: "fix", taskId: step.taskId };
      }
      case "review":
        if (step.number > 1) await pause(backoffMs(attempts.filter((a) => a.taskId === step.taskId).at(-1)?.failure, step.number, deps.now()), ctx.abort);
        await reviewOnce(deps, ctx, step, tip, tasks);
        break;
    }
  }
}

/**
 * The commit a task's reviewer approved that was the run's whole change: the run integrated one task only, and the
 * tip's tree is that commit's. Its review read the same diff (from the run's base) that the pull request shows.
 */
async function approvedAsWhole(worktree: string, tip: string, tasks: readonly TaskRecord[], attempts: readonly AttemptRecord[]): Promise<string | undefined> {
  const integrated = tasks.filter((t) => t.role === "implementer" && t.integrated !== undefined);
  const only = integrated.length === 1 ? integrated[0] : undefined;
  if (only === undefined) return undefined;
  const approved = attempts.filter((a) => a.taskId === only.id && a.review?.approved === true).at(-1)?.review?.commit;
  if (approved === undefined) return undefined;
  const [mine, theirs] = await Promise.all([treeOf(worktree, tip), treeOf(worktree, approved).catch(() => undefined)]);
  return mine === theirs ? approved : undefined;
}

/** The wait before another try of a review that gave no verdict: until a limit lifts (at most a minute), else 2 s, 4 s. */
function backoffMs(failure: Failure | undefined, number: number, now: number): number {
  if (failure?.resetAt !== undefined) return Math.min(60_000, Math.max(0, failure.resetAt - now));
  return 1_000 * 2 ** Math.min(number - 1, 5);
}

async function pause(ms: number, signal: AbortSignal): Promise<void> {
  await sleep(ms, undefined, { signal }).catch(() => undefined);
}

/** One reviewer attempt on the run's tip, journaled from its start to its verdict or its failure. */
async function reviewOnce(deps: EngineDeps, ctx: RunReviewContext, step: Extract<RunReviewStep, { kind: "review" }>, tip: string, tasks: readonly { id: string; title: string; role: string }[]): Promise<void> {
  const { run, writer } = ctx;
  const reviewer = ctx.reviewer;
  if (reviewer === undefined) throw new Error(`run ${run.id} has no reviewer for its whole-run review`);
  const ids = { runId: run.id, taskId: step.taskId };
  if (step.create) {
    await writer.write(
      {
        type: "task.created",
        ...ids,
        data: { title: "review the whole run before delivery", goal: run.goal, criteria: [], branch: run.branch, worktree: ctx.integration, role: "reviewer", dependsOn: [] },
      },
      { type: "task.started", ...ids, data: {} },
    );
  }
  const change = await changeUnderReview(ctx.integration, run.baseSha, tip);
  const prompt = runReviewPrompt({
    goal: run.goal,
    criteria: run.criteria,
    base: run.baseSha,
    tip,
    tasks: tasks.filter((t) => t.role === "implementer").map((t) => ({ id: t.id, title: t.title })),
    stat: change.stat,
    diff: change.diff,
    round: step.round,
    earlier: step.earlier,
  });
  const attemptId = reviewAttemptId(run.id, step.taskId, step.number);
  ctx.onActivity?.({ kind: "reviewing", round: step.round, agent: reviewer.adapter.name, model: reviewer.model, taskId: step.taskId });
  const limits = run.limits;
  const result = await runAttempt(deps, writer, {
    ...ids,
    attemptId,
    number: step.number,
    ...reviewerAttempt(reviewer, tip),
    prompt,
    worktree: ctx.integration,
    transcript: transcriptPath(ctx.paths, run.id, attemptId),
    stallTimeoutMs: limits.stallTimeoutMs,
    timeoutMs: Math.max(1_000, Math.min(limits.attemptTimeoutMs, ctx.deadline - deps.now())),
    maxRssBytes: limits.agentMaxRssBytes,
    budgetUsdLeft: undefined,
    budgetTokensLeft: undefined,
    signal: ctx.abort,
    onEvent: (event) => ctx.onActivity?.({ kind: "agent", event, taskId: step.taskId }),
  });
  // Whatever a reviewer left in the worktree goes: the run branch is what was judged.
  await resetWorktree(ctx.integration, tip).catch(() => undefined);
  const parsed = result.failure === undefined ? parseReview(result.finalText) : undefined;
  const failure: Failure | undefined =
    result.failure ?? (parsed !== undefined && !parsed.ok ? { kind: "bad_output", detail: parsed.error } : result.interrupted ? { kind: "crashed", detail: "the review was stopped" } : undefined);
  if (failure !== undefined || parsed === undefined || !parsed.ok) {
    const failed = failure ?? { kind: "bad_output", detail: "the reviewer gave no verdict" };
    const last = step.number >= RUN_REVIEW_FAILURES && !ctx.abort.aborted;
    await writer.write(
      { type: "attempt.finished", ...ids, attemptId, data: { outcome: "failed", progress: 0, failure: failed } },
      ...(last || ctx.abort.aborted
        ? [{ type: "task.finished" as const, ...ids, data: { status: ctx.abort.aborted ? ("stopped" as const) : ("failed" as const), reason: `the whole-run review gave no verdict: ${failed.kind}: ${failed.detail}` } }]
        : []),
    );
    return;
  }
  const record = reviewRecord(parsed.answer, { commit: tip, round: step.round, attempt: step.number });
  await writer.write(
    { type: "attempt.finished", ...ids, attemptId, data: { outcome: "succeeded", progress: 1, commit: tip, review: record } },
    { type: "task.finished", ...ids, data: { status: "succeeded", reason: record.approved ? `approved ${tip.slice(0, 12)}` : `asked for changes on ${tip.slice(0, 12)}`, commit: tip } },
  );
}
