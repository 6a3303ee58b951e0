// The state of one task's convergence loop, its inputs and its steps: the types `core/task-loop.ts` folds and
// decides with, and the helpers its parts share (`core/task-loop-review.ts` is the review's part). Pure.
import type { Failure } from "./failure.js";
import type { AgentEvent } from "./agent-event.js";
import type { Budgets } from "./budget.js";
import type { BreakerOptions } from "./circuit.js";
import type { AttemptSummary } from "./handoff.js";
import type { CriterionResult, EventBody, Limits } from "./journal.js";
import type { Chain } from "./model-chain.js";
import type { RecoveryPolicy } from "./recovery-policy.js";
import type { StopMode } from "./run.js";
import type { Permission } from "./run-settings.js";
import type { ReviewFinding, ReviewRecord } from "./review.js";

/** How a task's loop ends. */
export type TaskConclusion =
  | { status: "succeeded"; reason: string; commit: string }
  | { status: "failed" | "stalled" | "blocked" | "stopped" | "aborted"; reason: string }
  /** Resumable: waiting for a human… */
  | { status: "waiting"; reason: string }
  /** …or paused on request (or Ctrl-C). */
  | { status: "paused"; reason: string };

/** What the fold needs to know of the run and the task; fixed for the task's life. */
export interface LoopConfig {
  readonly criteria: readonly string[];
  readonly limits: Limits;
  /** One per link of the chain (the run's agent and model, then its fallbacks), as the journal names them. */
  readonly labels: readonly string[];
  readonly breaker: BreakerOptions;
  readonly policy: RecoveryPolicy;
  readonly permission: Permission;
  /** The chain link of an attempt journaled without one (journals written before links were journaled). */
  readonly linkOf: (agent: string, model: string | undefined) => number;
  /** A reviewer judges every verified commit before it may be merged; absent: the task is not reviewed. */
  readonly review?: { readonly maxRounds: number } | undefined;
}

/** A review the task needs: of this commit, made by this attempt of the implementer, whose criteria gave these results. */
export interface ReviewDue {
  readonly commit: string;
  readonly attempt: number;
  /** Who made it. */
  readonly agent: string;
  readonly model: string | undefined;
  readonly round: number;
  readonly results: readonly CriterionResult[];
}

/** A reviewer's attempt that failed is tried again this many times in all, then the task escalates. */
export const MAX_REVIEW_TRIES = 3;

/** The attempt under way, as its events tell it. */
export interface OpenAttempt {
  readonly id: string;
  readonly number: number;
  readonly agent: string;
  readonly model: string | undefined;
  readonly link: number;
  readonly sessionId: string | undefined;
  /** One short line per tool call, for the handoff. */
  readonly actions: readonly string[];
  readonly lastText: string | undefined;
  readonly result: Extract<AgentEvent, { type: "result" }> | undefined;
  /** A reviewer's attempt: the review it makes. */
  readonly review?: ReviewDue | undefined;
}

export type LoopPhase =
  /** Between attempts: the next one starts unless a limit, a request or a circuit says otherwise. */
  | { readonly kind: "ready" }
  | { readonly kind: "running"; readonly attempt: OpenAttempt }
  /**
   * The agent exited: cleanly (verify next) or with a failure (end the attempt next). `cut`: stopped from outside
   * (an abort, Ctrl-C, the supervisor's death), which is no verdict on the model or the work.
   */
  | { readonly kind: "exited"; readonly attempt: OpenAttempt; readonly failure: Failure | undefined; readonly cut: boolean }
  | { readonly kind: "verified"; readonly attempt: OpenAttempt; readonly results: readonly CriterionResult[]; readonly progress: number }
  /** A failed attempt the policy retries: a backoff comes first. */
  | { readonly kind: "backoff"; readonly failure: Failure }
  /** A verified attempt failed and the run paces its attempts (`--interval`). */
  | { readonly kind: "pacing" }
  | { readonly kind: "waiting"; readonly until: number; readonly reason: string }
  /** The criteria passed and the work is committed: a reviewer judges the commit next (not before `notBefore`). */
  | { readonly kind: "reviewing"; readonly due: ReviewDue; readonly notBefore: number }
  | { readonly kind: "ended"; readonly conclusion: TaskConclusion };

export interface TaskLoop {
  readonly phase: LoopPhase;
  /** Attempts journaled so far (the next one is `attempts + 1`). */
  readonly attempts: number;
  /** Every ended attempt as the handoff tells it, oldest first (a success that was reverted is not among them). */
  readonly summaries: readonly AttemptSummary[];
  /** Progress of each verified attempt, oldest first, and where stall detection starts counting. */
  readonly history: readonly number[];
  readonly stallBase: number;
  readonly chain: Chain;
  /** The session the next attempt resumes, if it runs on the same link. */
  readonly previousSession: { readonly id: string; readonly link: number } | undefined;
  /** Failures since the last attempt the model answered: the backoff grows with them. */
  readonly consecutiveFailures: number;
  /** What this task's attempts spent. */
  readonly spent: { readonly usd: number; readonly tokens: number };
  /** Tools the CLI denied that the permission level allows: granted to every later attempt. */
  readonly granted: readonly string[];
  /** Tools denied in the last attempt, which the level does not allow. */
  readonly refusedBefore: readonly string[];
  /** Denied in the last attempt after being denied in the one before (below `full`). */
  readonly deniedAgain: readonly string[];
  /** Notes for the journal that the fold produced and the journal does not hold yet. */
  readonly notes: readonly string[];
  /** The task's last success that still stands (not reverted since). */
  readonly success: { readonly attemptId: string; readonly number: number; readonly commit: string } | undefined;
  /** Why the task's merge was last reverted, when it was sent back. */
  readonly sentBack: string | undefined;
  /** Reviewer attempts journaled so far (the next one is `reviews + 1`). */
  readonly reviews: number;
  /** Reviewer attempts in a row that gave no verdict on the commit under review. */
  readonly reviewFailures: number;
  /** The last review that gave a verdict. */
  readonly lastReview: ReviewRecord | undefined;
}

/** What the interpreter knows besides the journal: the clock, a random draw for jitter, and the requests. */
export interface LoopInput {
  readonly now: number;
  /** Uniform in [0, 1): the jitter of a backoff. */
  readonly random: number;
  /** Epoch ms at which the run's time limit is reached. */
  readonly deadline: number;
  readonly stopRequested: StopMode | undefined;
  /** Set when the task's abort signal fired, with its reason ("interrupt", "deadline", "abort" …). */
  readonly aborted: { readonly reason: unknown } | undefined;
  /** What the whole run has spent so far, this task included. */
  readonly runSpent: { readonly usd: number; readonly tokens: number };
}

export type LoopStep =
  | {
      readonly kind: "attempt";
      readonly number: number;
      readonly link: number;
      /** Said in the journal before the attempt starts, when the link changed. */
      readonly switched: string | undefined;
      readonly resumeSession: string | undefined;
      readonly grantedTools: readonly string[];
      readonly handoff: string;
      readonly budgetLeft: { readonly usd: number | undefined; readonly tokens: number | undefined };
    }
  | { readonly kind: "verify"; readonly attemptId: string; readonly number: number }
  /** Every criterion passed: commit the work and end the attempt as succeeded (a reviewer then judges it, when `review`). */
  | { readonly kind: "commit"; readonly attemptId: string; readonly number: number; readonly review: boolean }
  /** Start a reviewer's attempt on the commit due for review. */
  | {
      readonly kind: "review";
      readonly number: number;
      readonly due: ReviewDue;
      /** The findings that blocked the round before, for a later round's prompt. */
      readonly earlier: readonly ReviewFinding[];
      readonly budgetLeft: { readonly usd: number | undefined; readonly tokens: number | undefined };
    }
  /** The reviewer answered: journal its verdict, closing its attempt. */
  | { readonly kind: "judge"; readonly attemptId: string; readonly record: ReviewRecord }
  | { readonly kind: "fail-attempt"; readonly attemptId: string; readonly progress: number; readonly failure: Failure }
  | { readonly kind: "note"; readonly message: string }
  /** Journal a wait until `until`, then sleep. */
  | { readonly kind: "wait"; readonly until: number; readonly delayMs: number; readonly reason: string }
  /** Sleep until `until` (the wait is journaled already), or until a request ends it. */
  | { readonly kind: "sleep"; readonly until: number }
  | { readonly kind: "end"; readonly conclusion: TaskConclusion };

/** What the fold reads of a journal event: its body, its time, its task and attempt (a stored event, or one being written). */
export type LoopEvent = EventBody & { at: number; taskId?: string | undefined; attemptId?: string | undefined };

/** The loop ends with `conclusion`. */
export function ended(state: TaskLoop, conclusion: TaskConclusion): TaskLoop {
  return { ...state, phase: { kind: "ended", conclusion } };
}

/** The run's and the task's budgets, and what each has spent. */
export function spending(config: LoopConfig, state: TaskLoop, input: LoopInput) {
  const { limits } = config;
  const budgets: Budgets = { runUsd: limits.budgetUsd, runTokens: limits.budgetTokens, taskUsd: limits.taskBudgetUsd, taskTokens: limits.taskBudgetTokens };
  const spent = { runUsd: input.runSpent.usd, runTokens: input.runSpent.tokens, taskUsd: state.spent.usd, taskTokens: state.spent.tokens };
  return { budgets, spent };
}
