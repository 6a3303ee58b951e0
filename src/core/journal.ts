// The journal's event catalogue: every state change of orch is one of these, written append-only.
// Payloads are zod schemas so that rows read back (from SQLite or Postgres) are parsed, never cast.
import { z } from "zod";
import { AgentEvent, TokenUsage } from "./agent-event.js";
import { FAILURE_KINDS, type FailureKind } from "./failure.js";
import { ReviewRecord } from "./review.js";
import { NOTICE_KINDS } from "./notice-kind.js";
import { TERMINAL_RUN_STATUSES } from "./run.js";
import { TERMINAL_TASK_STATUSES } from "./task.js";

const failureKind = z.enum(FAILURE_KINDS as [FailureKind, ...FailureKind[]]);
export const FailureSchema = z.object({
  kind: failureKind,
  detail: z.string(),
  resetAt: z.number().optional(),
  httpStatus: z.number().int().optional(),
});

export const Limits = z.object({
  maxAttempts: z.number().int().positive(),
  maxMs: z.number().positive(),
  budgetUsd: z.number().positive().optional(),
  budgetTokens: z.number().int().positive().optional(),
  taskBudgetUsd: z.number().positive().optional(),
  taskBudgetTokens: z.number().int().positive().optional(),
  intervalMs: z.number().nonnegative(),
  stallAttempts: z.number().int().positive(),
  stallTimeoutMs: z.number().positive(),
  attemptTimeoutMs: z.number().positive(),
  /** Longest single verify command; absent in runs made before it, where the attempt timeout bounded verify. */
  verifyTimeoutMs: z.number().positive().optional(),
  /** After a stop or pause request (or SIGTERM), how long a running attempt may go on before it is stopped. */
  drainGraceMs: z.number().nonnegative().optional(),
  /** The agent's process tree is stopped above this RSS; absent: no cap. */
  agentMaxRssBytes: z.number().int().positive().optional(),
  /** Transcript parts rotate past this size (default 64), and this many compressed parts are kept (default 10). */
  transcriptMaxMb: z.number().positive().optional(),
  transcriptKeep: z.number().int().nonnegative().optional(),
});
export type Limits = z.infer<typeof Limits>;

export const TestCountsSchema = z.object({
  passed: z.number().int().nonnegative(),
  failed: z.number().int().nonnegative(),
  skipped: z.number().int().nonnegative(),
  total: z.number().int().nonnegative(),
  runner: z.string(),
});

export const CriterionResult = z.object({
  command: z.string(),
  exitCode: z.number().int().nullable(),
  passed: z.boolean(),
  score: z.number().min(0).max(1),
  durationMs: z.number().nonnegative(),
  timedOut: z.boolean(),
  tests: TestCountsSchema.optional(),
  /** The end of the command's output, for the handoff and the report. */
  outputTail: z.string(),
});
export type CriterionResult = z.infer<typeof CriterionResult>;

export const AgentSpec = z.object({
  agent: z.string(),
  model: z.string().optional(),
  fallbackModels: z.array(z.string()).default([]),
});

const runCreated = z.object({
  type: z.literal("run.created"),
  data: z.lazy(() => z.object({
    goal: z.string(),
    repoRoot: z.string(),
    baseBranch: z.string(),
    baseSha: z.string(),
    branch: z.string(),
    agent: AgentSpec,
    criteria: z.array(z.string()),
    limits: Limits,
    config: z.record(z.string(), z.unknown()),
  })),
});
/** The process driving a run: where it runs and how to recognise it (a pid is reused; its start time is not). */
const Supervisor = z.object({ pid: z.number().int(), pidStartTime: z.string().optional(), host: z.string(), detached: z.boolean() });
export type Supervisor = z.infer<typeof Supervisor>;
const runStarted = z.object({ type: z.literal("run.started"), data: Supervisor });
/** A new supervisor took the run over; `reconciled` says what it found of the one before and what it did. */
const runResumed = z.object({
  type: z.literal("run.resumed"),
  data: z.lazy(() => Supervisor.extend({ from: z.enum(["paused", "waiting", "crashed"]), reconciled: z.array(z.string()) })),
});
const runStopRequested = z.object({
  type: z.literal("run.stop-requested"),
  data: z.lazy(() => z.object({ mode: z.enum(["stop", "pause", "abort"]), by: z.string() })),
});
const runWaiting = z.object({ type: z.literal("run.waiting"), data: z.lazy(() => z.object({ reason: z.string() })) });
const runPaused = z.object({ type: z.literal("run.paused"), data: z.lazy(() => z.object({ reason: z.string() })) });
const runFinished = z.object({
  type: z.literal("run.finished"),
  data: z.lazy(() => z.object({ status: z.enum(TERMINAL_RUN_STATUSES), reason: z.string(), report: z.string().optional() })),
});

/** A task's role: planner (plans the run), implementer (a task of the plan or a fix), integrator (mends a merge
 * conflict), reviewer (the whole-run review before delivery: reads, changes nothing). */
export const TaskRole = z.enum(["planner", "implementer", "integrator", "reviewer"]);
export type TaskRole = z.infer<typeof TaskRole>;
export const Risk = z.enum(["low", "medium", "high"]);
/** What the planner (or the user's plan file) says of a task beyond its goal. */
export const TaskSpec = z.object({
  before: z.string().optional(),
  after: z.string().optional(),
  acceptance: z.array(z.string()).default([]),
  files: z.array(z.string()).default([]),
  testPlan: z.string().optional(),
});
export type TaskSpec = z.infer<typeof TaskSpec>;

const taskCreated = z.object({
  type: z.literal("task.created"),
  data: z.lazy(() => z.object({
    title: z.string(),
    goal: z.string(),
    criteria: z.array(z.string()),
    branch: z.string(),
    worktree: z.string(),
    role: TaskRole.optional(),
    dependsOn: z.array(z.string()).optional(),
    priority: z.number().optional(),
    risk: Risk.optional(),
    /** The task's place in the plan (its file is `NN-slug.md`). */
    position: z.number().int().nonnegative().optional(),
    spec: TaskSpec.optional(),
  })),
});
/** The task's work was merged into the run branch (by orch, or by an integrator task after a conflict). */
const taskIntegrated = z.object({
  type: z.literal("task.integrated"),
  data: z.lazy(() => z.object({ merge: z.string(), integrator: z.string().optional() })),
});
/** Merged, the run's criteria failed on the run branch: the merge was reverted and the task goes on. */
const taskReverted = z.object({
  type: z.literal("task.reverted"),
  data: z.lazy(() => z.object({ merge: z.string(), revert: z.string(), reason: z.string() })),
});
/**
 * Found on takeover: the task's merge (or the merge and its revert) is at the run branch's tip, made by a supervisor
 * that died before it journaled the outcome. The graph settles it before any other merge goes on top of it.
 */
const taskMergeFound = z.object({
  type: z.literal("task.merge-found"),
  data: z.lazy(() => z.object({ merge: z.string(), reverted: z.boolean() })),
});
const taskStarted = z.object({ type: z.literal("task.started"), data: z.lazy(() => z.object({})) });
const taskFinished = z.object({
  type: z.literal("task.finished"),
  data: z.lazy(() => z.object({ status: z.enum(TERMINAL_TASK_STATUSES), reason: z.string(), commit: z.string().optional() })),
});

const attemptStarted = z.object({
  type: z.literal("attempt.started"),
  data: z.lazy(() => z.object({
    number: z.number().int().positive(),
    agent: z.string(),
    model: z.string().optional(),
    transcript: z.string(),
    resumedSession: z.string().optional(),
    /** The attempt's place in the task's chain of agents and models (absent in journals written before it). */
    link: z.number().int().nonnegative().optional(),
    /** A reviewer's attempt, and the commit it reviews (absent: the task's implementer). */
    role: z.literal("reviewer").optional(),
    reviews: z.string().optional(),
  })),
});
/** `startTime`: the process's start time (from /proc), so that a later supervisor can tell it from a reused pid. */
const attemptSpawned = z.object({
  type: z.literal("attempt.spawned"),
  data: z.lazy(() => z.object({ pid: z.number().int(), startTime: z.string().optional() })),
});
const agentEmitted = z.object({ type: z.literal("agent.emitted"), data: AgentEvent });
const attemptExited = z.object({
  type: z.literal("attempt.exited"),
  data: z.lazy(() => z.object({
    exitCode: z.number().int().nullable(),
    signal: z.string().nullable(),
    /** `orphaned`: the supervisor died during the attempt; a later one found the agent gone or stopped it. */
    reason: z.enum(["exited", "hung", "timeout", "aborted", "memory", "spawn_failed", "budget", "repeated_failure", "orphaned"]),
    durationMs: z.number().nonnegative(),
    sessionId: z.string().optional(),
    model: z.string().optional(),
    usage: TokenUsage.optional(),
    costUsd: z.number().nonnegative().optional(),
    failure: FailureSchema.optional(),
    stderrTail: z.string().optional(),
    /** The highest RSS sampled of the agent's process tree; absent when none was taken. */
    peakRssBytes: z.number().int().nonnegative().optional(),
    /** API retries the agent CLI reported making inside this attempt. */
    apiRetries: z.number().int().nonnegative().optional(),
    /** How long the agent CLI said it waited before those retries. */
    apiRetryWaitMs: z.number().nonnegative().optional(),
  })),
});
const verifyCompleted = z.object({
  type: z.literal("verify.completed"),
  data: z.lazy(() => z.object({ criteria: z.array(CriterionResult), progress: z.number().min(0).max(1) })),
});
const attemptFinished = z.object({
  type: z.literal("attempt.finished"),
  data: z.lazy(() => z.object({
    outcome: z.enum(["succeeded", "failed"]),
    progress: z.number().min(0).max(1),
    failure: FailureSchema.optional(),
    commit: z.string().optional(),
    /** A failed attempt: what its worktree holds changed against its last commit, bounded (core/diff-excerpt.ts). */
    changes: z.object({ stat: z.string(), hunks: z.string() }).optional(),
    /** An implementer's success that a reviewer must approve before its commit may be merged. */
    awaitsReview: z.boolean().optional(),
    /** A reviewer's attempt that answered: its verdict on the commit it judged. */
    review: ReviewRecord.optional(),
  })),
});
/** The loop waits before the next attempt (backoff, a reported reset time, or `--interval`). */
const taskWaited = z.object({
  type: z.literal("task.waited"),
  data: z.lazy(() => z.object({ delayMs: z.number().nonnegative(), until: z.number(), reason: z.string() })),
});
/**
 * A note for humans: a model switch, a stall warning, anything the report should show in its timeline. A
 * `warning` (something orch could not do, e.g. write a transcript) is also shown by `orch status`.
 */
/**
 * New limits for a run (`orch resume RUN --max-attempts N --max-hours H`), with the ones they replace. A run that
 * ended failed or stopped is reopened (paused) by it; its tasks that ended on a limit come with `task.reopened`.
 */
const runExtended = z.object({
  type: z.literal("run.extended"),
  data: z.lazy(() => z.object({
    maxAttempts: z.number().int().positive(),
    maxMs: z.number().positive(),
    previous: z.object({ maxAttempts: z.number().int().positive(), maxMs: z.number().positive() }),
    by: z.string(),
  })),
});
/** A task that ended on a limit goes on under new limits: its loop folds on from its journal, the same handoff. */
const taskReopened = z.object({
  type: z.literal("task.reopened"),
  data: z.lazy(() => z.object({ to: z.enum(["running", "pending"]), reason: z.string() })),
});
/**
 * The approval gate judged a task's verified commit (core/approval.ts): its risk level and the rules that fired,
 * and whether it goes on to the merge queue by itself or waits for a human.
 */
const taskAssessed = z.object({
  type: z.literal("task.assessed"),
  data: z.lazy(() => z.object({
    commit: z.string(),
    level: Risk,
    /** Each rule that fired, in plain words with its evidence. */
    rules: z.array(z.string()),
    decision: z.enum(["integrate", "human"]),
    why: z.string(),
  })),
});
/** A human let a waiting task's commit go on to the merge queue (`orch approve`). */
const taskApproved = z.object({
  type: z.literal("task.approved"),
  data: z.lazy(() => z.object({ commit: z.string(), by: z.string(), reason: z.string().optional() })),
});
/** A human turned a waiting task's commit down (`orch reject`); the task's end comes in the same write. */
const taskRejected = z.object({
  type: z.literal("task.rejected"),
  data: z.lazy(() => z.object({ commit: z.string(), by: z.string(), reason: z.string() })),
});
const runNoted = z.object({ type: z.literal("run.noted"), data: z.lazy(() => z.object({ message: z.string(), level: z.literal("warning").optional() })) });
/**
 * `orch gc` (or the run itself, at its end) removed task worktrees of a finished run. Branches are kept; work
 * left uncommitted in a worktree went first into a work-in-progress commit on its branch (`wipCommit`).
 */
const runCollected = z.object({
  type: z.literal("run.collected"),
  data: z.lazy(() => z.object({
    worktrees: z.array(
      z.object({
        taskId: z.string(),
        path: z.string(),
        branch: z.string(),
        removed: z.boolean(),
        wipCommit: z.string().optional(),
        bytes: z.number().int().nonnegative(),
      }),
    ),
    bytesFreed: z.number().int().nonnegative(),
    /** Branches deleted (`orch gc --branches`), with where each pointed: `git branch NAME SHA` brings one back. */
    branches: z.array(z.object({ name: z.string(), sha: z.string(), unmerged: z.number().int().nonnegative() })).optional(),
    by: z.string(),
  })),
});

/**
 * A notice's delivery to one webhook (engine/notifier.ts): the webhook by its place in `notify.webhooks` and its
 * host only (a URL's path or query, and its headers, may hold a token), the notice's kind, how many items it rolled
 * up, the tries made and the last HTTP status. Journal only: no projection changes.
 */
const Delivery = z.object({
  webhook: z.number().int().nonnegative(),
  host: z.string(),
  event: z.enum(NOTICE_KINDS),
  resolved: z.boolean(),
  items: z.number().int().positive(),
});
const notifySent = z.object({
  type: z.literal("notify.sent"),
  data: z.lazy(() => Delivery.extend({ attempts: z.number().int().positive(), status: z.number().int() })),
});
const notifyFailed = z.object({
  type: z.literal("notify.failed"),
  data: z.lazy(() => Delivery.extend({ attempts: z.number().int().nonnegative(), status: z.number().int().optional(), error: z.string() })),
});
/** Deliveries still pending when the run's end had waited for them as long as it may, or beyond the queue's bound. */
const notifyDropped = z.object({
  type: z.literal("notify.dropped"),
  data: z.lazy(() => z.object({ deliveries: z.array(Delivery), reason: z.string() })),
});
/**
 * One outcome of a succeeded run's delivery, written after its end: the run branch pushed (or not, and why), a pull
 * request opened or updated (or not, and the command that opens it). Names a remote, never its URL (a URL may
 * carry a token). Journal only: no projection, no fold reads it; the report and `orch status` show it.
 */
const DeliveryOutcome = z.discriminatedUnion("outcome", [
  z.object({ outcome: z.literal("pushed"), remote: z.string(), branch: z.string(), sha: z.string() }),
  z.object({ outcome: z.literal("push-failed"), remote: z.string(), branch: z.string(), sha: z.string(), reason: z.string(), command: z.string() }),
  z.object({ outcome: z.literal("push-skipped"), reason: z.string(), command: z.string().optional() }),
  z.object({ outcome: z.literal("pr-opened"), url: z.string(), number: z.number().int().positive().optional() }),
  z.object({ outcome: z.literal("pr-updated"), url: z.string(), number: z.number().int().positive().optional() }),
  z.object({ outcome: z.literal("pr-failed"), reason: z.string(), command: z.string() }),
  z.object({ outcome: z.literal("pr-skipped"), reason: z.string(), command: z.string().optional() }),
]);
export type DeliveryOutcome = z.infer<typeof DeliveryOutcome>;
const runDelivered = z.object({ type: z.literal("run.delivered"), data: DeliveryOutcome });

// Each event's data schema is built at its first parse (z.lazy): a command builds those of the events it reads,
// not the whole catalogue (`orch status` reads some ten kinds of some thirty: 3 ms of its start).
export const EventBody = z.discriminatedUnion("type", [
  runCreated,
  runStarted,
  runResumed,
  runStopRequested,
  runWaiting,
  runPaused,
  runFinished,
  runNoted,
  runCollected,
  runDelivered,
  runExtended,
  taskCreated,
  taskStarted,
  taskFinished,
  taskWaited,
  taskIntegrated,
  taskReverted,
  taskReopened,
  taskMergeFound,
  taskAssessed,
  taskApproved,
  taskRejected,
  attemptStarted,
  attemptSpawned,
  agentEmitted,
  attemptExited,
  verifyCompleted,
  attemptFinished,
  notifySent,
  notifyFailed,
  notifyDropped,
]);
export type EventBody = z.infer<typeof EventBody>;
export type EventType = EventBody["type"];
export type EventOf<T extends EventType> = Extract<EventBody, { type: T }>;

/** What a writer hands to the store: the body plus the ids it concerns. */
export type NewEvent = EventBody & { runId: string; taskId?: string | undefined; attemptId?: string | undefined; at?: number };

/** What the store hands back: with its sequence number and time. */
export type StoredEvent = EventBody & { seq: number; at: number; runId: string; taskId?: string | undefined; attemptId?: string | undefined };
