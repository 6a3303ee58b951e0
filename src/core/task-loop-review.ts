// The review's part of a task's loop, pure: how the fold takes a reviewer's attempt (started, exited, finished
// with a verdict on the commit under review or without one) and what `decide` does while a commit is due for
// review (start the reviewer, or end the task first) and when the reviewer has finished its turn (judge).
import { retryDelay, type Failure } from "./failure.js";
import { budgetLeft, spentBudget } from "./budget.js";
import type { AttemptSummary } from "./handoff.js";
import { abortedConclusion } from "./interrupt.js";
import { blockingFindings, describeFinding, parseReview, reviewHandoff, reviewRecord } from "./review.js";
import { ended, MAX_REVIEW_TRIES, spending, type LoopConfig, type LoopEvent, type LoopInput, type LoopPhase, type LoopStep, type OpenAttempt, type ReviewDue, type TaskLoop } from "./task-loop-state.js";

/** Review rounds that gave a verdict so far. */
export const roundsOf = (state: TaskLoop): number => state.lastReview?.round ?? 0;

export function reviewStarted(state: TaskLoop, event: Extract<LoopEvent, { type: "attempt.started" }>): TaskLoop {
  if (state.phase.kind !== "reviewing") return state;
  const { data } = event;
  const attempt: OpenAttempt = {
    id: event.attemptId ?? "",
    number: data.number,
    agent: data.agent,
    model: data.model,
    link: data.link ?? 0,
    sessionId: undefined,
    actions: [],
    lastText: undefined,
    result: undefined,
    review: state.phase.due,
  };
  return { ...state, reviews: Math.max(state.reviews, data.number), phase: { kind: "running", attempt } };
}

/** A reviewer's agent exited: its cost is the task's; its failures are no verdict on the implementer's models. */
export function reviewExited(state: TaskLoop, event: Extract<LoopEvent, { type: "attempt.exited" }>): TaskLoop {
  if (state.phase.kind !== "running") return state;
  const { data } = event;
  const tokens = data.usage === undefined ? 0 : data.usage.inputTokens + data.usage.outputTokens;
  const spent = { usd: state.spent.usd + (data.costUsd ?? 0), tokens: state.spent.tokens + tokens };
  const cut = data.reason === "aborted" || data.reason === "orphaned";
  const attempt = { ...state.phase.attempt, model: data.model ?? state.phase.attempt.model };
  return { ...state, spent, phase: { kind: "exited", attempt, failure: data.failure, cut } };
}

/**
 * A reviewer's attempt closed. An approval of the commit under review ends the task with it; changes requested go
 * back to the implementer with the findings, until the rounds run out; a review that gave no verdict is tried again
 * (after a backoff, unless it was cut short from outside), and escalates when it keeps failing.
 */
export function reviewFinished(config: LoopConfig, state: TaskLoop, due: ReviewDue, event: Extract<LoopEvent, { type: "attempt.finished" }>): TaskLoop {
  if (state.phase.kind !== "exited") return state;
  const { data } = event;
  const record = data.review;
  if (data.outcome === "succeeded" && record !== undefined && record.commit === due.commit) {
    const after = { ...state, lastReview: record, reviewFailures: 0 };
    if (record.approved) {
      const by = `${state.phase.attempt.agent}${state.phase.attempt.model !== undefined ? `:${state.phase.attempt.model}` : ""}`;
      return {
        ...after,
        success: { attemptId: state.phase.attempt.id, number: due.attempt, commit: due.commit },
        phase: {
          kind: "ended",
          conclusion: { status: "succeeded", reason: `all ${config.criteria.length} criteria met on attempt ${due.attempt}; approved by the reviewer (${by})`, commit: due.commit },
        },
      };
    }
    const blocking = blockingFindings(record, record.round).findings;
    const maxRounds = config.review?.maxRounds ?? 1;
    if (record.round >= maxRounds) {
      const first = blocking[0];
      const what = first !== undefined ? `; first: ${describeFinding(first)}` : record.summary.trim() !== "" ? `: ${record.summary.trim()}` : "";
      return ended(after, { status: "blocked", reason: `the reviewer still asks for changes after ${record.round} round(s) of review${what}` });
    }
    const summary: AttemptSummary = {
      number: due.attempt,
      agent: due.agent,
      model: due.model,
      criteria: [...due.results],
      actions: [],
      progress: 1,
      review: reviewHandoff(record),
    };
    return { ...after, summaries: [...state.summaries, summary], previousSession: undefined, phase: { kind: "ready" } };
  }
  const failure: Failure = data.failure ?? { kind: "bad_output", detail: "the reviewer's attempt ended without a verdict" };
  if (state.phase.cut) return { ...state, phase: { kind: "reviewing", due, notBefore: event.at } };
  const failures = state.reviewFailures + 1;
  if (failures >= MAX_REVIEW_TRIES) {
    return ended({ ...state, reviewFailures: failures }, { status: "blocked", reason: `the review of ${due.commit.slice(0, 12)} failed ${failures} times; last: ${failure.kind}: ${failure.detail}` });
  }
  const delay = Math.max(0, retryDelay(failure, failures, event.at, 0.5));
  return { ...state, reviewFailures: failures, phase: { kind: "reviewing", due, notBefore: event.at + delay } };
}

/** A commit is due for review: start the reviewer when nothing stops the task first. */
export function review(config: LoopConfig, state: TaskLoop, phase: Extract<LoopPhase, { kind: "reviewing" }>, input: LoopInput): LoopStep {
  if (input.aborted !== undefined) return { kind: "end", conclusion: abortedConclusion(input.aborted.reason) };
  if (input.stopRequested === "stop") return { kind: "end", conclusion: { status: "stopped", reason: `stopped on request before the review of ${phase.due.commit.slice(0, 12)}` } };
  if (input.stopRequested === "pause") return { kind: "end", conclusion: { status: "paused", reason: `paused on request before the review of ${phase.due.commit.slice(0, 12)}` } };
  if (input.now >= input.deadline) return { kind: "end", conclusion: { status: "failed", reason: `reached the time limit before the review of ${phase.due.commit.slice(0, 12)}` } };
  const { budgets, spent } = spending(config, state, input);
  const overBudget = spentBudget(budgets, spent);
  if (overBudget !== undefined) return { kind: "end", conclusion: { status: "failed", reason: overBudget } };
  if (input.now < phase.notBefore) return { kind: "sleep", until: phase.notBefore };
  const earlier = state.lastReview !== undefined && !state.lastReview.approved ? blockingFindings(state.lastReview, state.lastReview.round).findings : [];
  return { kind: "review", number: state.reviews + 1, due: phase.due, earlier, budgetLeft: budgetLeft(budgets, spent) };
}

/** The reviewer finished its turn: its last words are its verdict, or the review failed. */
export function judge(attempt: OpenAttempt, due: ReviewDue): LoopStep {
  const parsed = parseReview(attempt.result?.text ?? attempt.lastText);
  if (!parsed.ok) return { kind: "fail-attempt", attemptId: attempt.id, progress: 0, failure: { kind: "bad_output", detail: parsed.error } };
  return { kind: "judge", attemptId: attempt.id, record: reviewRecord(parsed.answer, due) };
}
