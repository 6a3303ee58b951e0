// The interpreter of one task's convergence loop: it asks the pure fold (core/task-loop.ts) for the next step,
// carries it out (an agent's attempt, verification, a commit, a note, a wait) and journals what happened; every
// event it writes is folded back before the next step is chosen. A supervisor taking a run over starts from the
// task's journal replayed through the same fold, so a crash loses nothing that finished and repeats nothing.
import type { Permission } from "../agents/permission.js";
import type { AgentEvent } from "../core/agent-event.js";
import type { BreakerOptions } from "../core/circuit.js";
import type { NewEvent, StoredEvent } from "../core/journal.js";
import type { RecoveryPolicy } from "../core/recovery-policy.js";
import { verifyTimeoutMs } from "../core/progress.js";
import { buildPrompt } from "../core/prompt.js";
import { reviewPrompt } from "../core/review.js";
import type { StopMode } from "../core/run.js";
import { decide, evolve, initialLoop, replay, supersededBy, type LoopConfig, type LoopEvent, type TaskConclusion, type TaskLoop } from "../core/task-loop.js";
import { attemptChanges, type AttemptChanges } from "../core/diff-excerpt.js";
import { commitWork } from "../git/index.js";
import { worktreeChanges } from "../git/compare.js";
import { resetWorktree } from "../git/worktree.js";
import type { RunRecord, Store, TaskRecord } from "../store/store.js";
import { runAttempt } from "./attempt-runner.js";
import type { EngineDeps } from "./deps.js";
import type { JournalWriter } from "./event-writer.js";
import { attemptId, reviewAttemptId } from "./ids.js";
import { changeUnderReview, reviewerAttempt } from "./review.js";
import { chainLabels, linkIndex, type ChainLink } from "./model-chain.js";
import { transcriptPath, type OrchPaths } from "./paths.js";
import { verify } from "./verify.js";

export type { TaskConclusion } from "../core/task-loop.js";

/** What the loop is doing, for the live status line. */
export type Activity =
  | { kind: "attempt"; attempt: number; maxAttempts: number; model: string | undefined }
  | { kind: "agent"; event: AgentEvent }
  | { kind: "verifying"; attempt: number }
  | { kind: "reviewing"; round: number; agent: string; model: string | undefined }
  | { kind: "verified"; attempt: number; progress: number; passed: number; total: number; timedOut: readonly string[] }
  | { kind: "waiting"; until: number; reason: string }
  /** The loop concluded: whoever shows the task's state forgets it. */
  | { kind: "ended"; status: TaskConclusion["status"] };

export interface TaskContext {
  run: RunRecord;
  task: TaskRecord;
  permission: Permission;
  /** The run's agent and model first, then its fallbacks (other models, or other agents). */
  chain: ChainLink[];
  /** Who reviews the task's verified commits, when the run has reviews (core/review.ts). */
  reviewer?: ChainLink | undefined;
  paths: OrchPaths;
  writer: JournalWriter;
  /** Aborting stops the running agent at once; `reason` says why ("abort", "interrupt", "deadline"). */
  abort: AbortSignal;
  /** Aborted when a stop (or abort) is requested: ends waits early, lets a running attempt finish. */
  stop: AbortSignal;
  stopRequested(): StopMode | undefined;
  /** Epoch ms at which the run's time limit is reached. */
  deadline: number;
  recovery: { policy: RecoveryPolicy; breaker: BreakerOptions };
  /** Run memory for the prompt: what holds beyond the handoff (a task sent back after a reverted merge, say). */
  notes?: readonly string[] | undefined;
  /** git's `-c` identity options for orch's commits, when the caller asked git once for the whole run. */
  identity?: readonly string[] | undefined;
  /** Commits the verified work and returns the commit (default: everything in the worktree, on its branch). */
  commit?: ((message: string) => Promise<string>) | undefined;
  /** The task's loop as its journal folds to, when it had started before (a takeover, a task sent back). */
  state?: TaskLoop | undefined;
  onActivity?: (activity: Activity) => void;
}

/** The fold's view of a run and one of its tasks. */
export function loopConfig(ctx: Pick<TaskContext, "run" | "task" | "chain" | "permission" | "recovery">): LoopConfig {
  const { review } = ctx.run.settings;
  return {
    criteria: ctx.task.criteria,
    limits: ctx.run.limits,
    labels: chainLabels(ctx.chain),
    breaker: ctx.recovery.breaker,
    policy: ctx.recovery.policy,
    permission: ctx.permission,
    linkOf: (agent, model) => linkIndex(ctx.chain, agent, model),
    // An integrator's commit is a merge of work that was reviewed on its own: it is not reviewed again.
    review: review?.on === true && ctx.task.role !== "integrator" ? { maxRounds: review.maxRounds } : undefined,
  };
}

/** The task's loop as its journal holds it: its events, and the run's resumptions (a human ends a wait for them). */
export async function replayTask(store: Store, config: LoopConfig, task: Pick<TaskRecord, "runId" | "id">): Promise<TaskLoop> {
  const [own, resumed] = await Promise.all([store.readEvents({ runId: task.runId, taskId: task.id }), store.readEvents({ runId: task.runId, types: ["run.resumed"] })]);
  return replay(config, merged(own, resumed));
}

export async function convergeTask(deps: EngineDeps, ctx: TaskContext): Promise<TaskConclusion> {
  const { run, task } = ctx;
  const config = loopConfig(ctx);
  let state = ctx.state ?? initialLoop(config);
  const ids = { runId: run.id, taskId: task.id };
  // Every event this loop writes is folded before the next step is chosen: the state is the journal's, live too.
  const writer = foldingWriter(ctx.writer, deps.now, (event) => {
    if (event.taskId === task.id) state = evolve(config, state, event);
  });
  // The run's spending as it stood when the loop began, plus what this loop spends from here.
  const spentAtStart = state.spent;
  const runSpent = () => ({
    usd: run.costUsd + state.spent.usd - spentAtStart.usd,
    tokens: run.tokensIn + run.tokensOut + state.spent.tokens - spentAtStart.tokens,
  });

  /** What bounds an agent's attempt (implementer or reviewer): its transcript, its time, memory and budget. */
  const boundsOf = (id: string) => (budget: { usd: number | undefined; tokens: number | undefined }) => {
    const limits = run.limits;
    return {
      worktree: task.worktree,
      transcript: transcriptPath(ctx.paths, run.id, id),
      stallTimeoutMs: limits.stallTimeoutMs,
      timeoutMs: Math.max(1_000, Math.min(limits.attemptTimeoutMs, ctx.deadline - deps.now())),
      maxRssBytes: limits.agentMaxRssBytes,
      transcriptMaxBytes: limits.transcriptMaxMb === undefined ? undefined : Math.max(1, Math.round(limits.transcriptMaxMb * 1024 * 1024)),
      transcriptKeep: limits.transcriptKeep,
      budgetUsdLeft: budget.usd,
      budgetTokensLeft: budget.tokens,
      signal: ctx.abort,
      onEvent: (event: AgentEvent) => ctx.onActivity?.({ kind: "agent", event }),
    };
  };

  for (;;) {
    writer.settle();
    const step = decide(config, state, {
      now: deps.now(),
      random: deps.random(),
      deadline: ctx.deadline,
      stopRequested: ctx.stopRequested(),
      aborted: ctx.abort.aborted ? { reason: ctx.abort.reason } : undefined,
      runSpent: runSpent(),
    });
    switch (step.kind) {
      case "end":
        ctx.onActivity?.({ kind: "ended", status: step.conclusion.status });
        return step.conclusion;
      case "note":
        await writer.write({ type: "run.noted", ...ids, data: { message: step.message } });
        break;
      case "wait":
        await writer.write({ type: "task.waited", ...ids, data: { delayMs: step.delayMs, until: step.until, reason: step.reason } });
        ctx.onActivity?.({ kind: "waiting", until: step.until, reason: step.reason });
        break;
      case "sleep":
        // A stop request, an abort, Ctrl-C and the time limit all end a wait early; the fold then says why.
        await deps.sleep(step.until - deps.now(), AbortSignal.any([ctx.stop, ctx.abort]));
        break;
      case "attempt": {
        const link = ctx.chain[step.link];
        if (link === undefined) throw new Error(`no agent at position ${step.link} of the chain`);
        const id = attemptId(run.id, task.id, step.number);
        const limits = run.limits;
        const attemptBounds = boundsOf(id);
        const prompt = buildPrompt({
          goal: task.goal,
          spec: task.spec === undefined ? undefined : { title: task.title, ...task.spec },
          ...(ctx.notes !== undefined ? { notes: ctx.notes } : {}),
          criteria: task.criteria,
          attempt: step.number,
          maxAttempts: limits.maxAttempts,
          handoff: step.handoff,
        });
        ctx.onActivity?.({ kind: "attempt", attempt: step.number, maxAttempts: limits.maxAttempts, model: link.model });
        await runAttempt(deps, writer, {
          ...ids,
          attemptId: id,
          number: step.number,
          link: step.link,
          note: step.switched,
          adapter: link.adapter,
          permission: ctx.permission,
          grantedTools: [...step.grantedTools],
          model: link.model,
          prompt,
          resumeSessionId: step.resumeSession,
          ...attemptBounds(step.budgetLeft),
        });
        break;
      }
      case "verify": {
        ctx.onActivity?.({ kind: "verifying", attempt: step.number });
        const outcome = await verify({
          criteria: task.criteria,
          cwd: task.worktree,
          env: deps.env,
          redactor: deps.redactor,
          owner: ids,
          timeoutMs: verifyTimeoutMs(run.limits, ctx.deadline - deps.now()),
          signal: ctx.abort,
          groups: deps.groups,
          note: (message) => writer.push({ type: "run.noted", ...ids, attemptId: step.attemptId, data: { message, level: "warning" } }),
        });
        await writer.write({ type: "verify.completed", ...ids, attemptId: step.attemptId, data: { criteria: outcome.results, progress: outcome.progress } });
        const passed = outcome.results.filter((r) => r.passed).length;
        const timedOut = outcome.results.filter((r) => r.timedOut).map((r) => r.command);
        ctx.onActivity?.({ kind: "verified", attempt: step.number, progress: outcome.progress, passed, total: task.criteria.length, timedOut });
        break;
      }
      case "commit": {
        const message = `orch: ${firstLineOf(task.goal)}\n\nRun ${run.id}, task ${task.id}, attempt ${step.number}.\nVerified: ${task.criteria.join("; ")}\n`;
        const commit =
          ctx.commit !== undefined
            ? await ctx.commit(message)
            : (await commitWork({ worktree: task.worktree, message, identity: ctx.identity })).commit;
        const awaitsReview = step.review ? { awaitsReview: true } : {};
        await writer.write({ type: "attempt.finished", ...ids, attemptId: step.attemptId, data: { outcome: "succeeded", progress: 1, commit, ...awaitsReview } });
        break;
      }
      case "review": {
        const reviewer = ctx.reviewer;
        if (reviewer === undefined) throw new Error(`task ${task.id} has a commit due for review, but the run has no reviewer`);
        const id = reviewAttemptId(run.id, task.id, step.number);
        const attemptBounds = boundsOf(id);
        const change = await changeUnderReview(task.worktree, run.branch, step.due.commit);
        const prompt = reviewPrompt({
          goal: task.goal,
          title: task.spec !== undefined ? task.title : undefined,
          criteria: task.criteria,
          acceptance: task.spec?.acceptance,
          commit: step.due.commit,
          round: step.due.round,
          stat: change.stat,
          diff: change.diff,
          results: step.due.results,
          earlier: step.earlier,
        });
        ctx.onActivity?.({ kind: "reviewing", round: step.due.round, agent: reviewer.adapter.name, model: reviewer.model });
        await runAttempt(deps, writer, {
          ...ids,
          attemptId: id,
          number: step.number,
          ...reviewerAttempt(reviewer, step.due.commit),
          prompt,
          ...attemptBounds(step.budgetLeft),
        });
        // Whatever a reviewer left in the worktree goes: the next attempt starts from the commit it judged.
        await resetWorktree(task.worktree, step.due.commit).catch(() => undefined);
        break;
      }
      case "judge":
        await writer.write({
          type: "attempt.finished",
          ...ids,
          attemptId: step.attemptId,
          data: { outcome: "succeeded", progress: 1, commit: step.record.commit, review: step.record },
        });
        break;
      case "fail-attempt": {
        const reviewing = state.phase.kind === "exited" && state.phase.attempt.review !== undefined;
        const changes = ctx.abort.aborted || reviewing ? undefined : await changesOf(task.worktree, state);
        await writer.write({ type: "attempt.finished", ...ids, attemptId: step.attemptId, data: { outcome: "failed", progress: step.progress, failure: step.failure, ...(changes !== undefined ? { changes } : {}) } });
        break;
      }
    }
  }
}

/**
 * What a failed attempt left changed in its worktree, for the handoff: the diff stat and the hunks most relevant to
 * the failing verify output, bounded. Nothing when git cannot tell (a worktree gone): the handoff does without.
 */
async function changesOf(worktree: string, state: TaskLoop): Promise<AttemptChanges | undefined> {
  const failing = state.phase.kind === "verified" ? state.phase.results.filter((r) => !r.passed).map((r) => r.outputTail).join("\n") : "";
  try {
    const { stat, diff } = await worktreeChanges(worktree);
    return attemptChanges(stat, diff, failing);
  } catch {
    return undefined;
  }
}

/**
 * A writer that stamps each event with its time and hands it to `fold` before passing it on, so that the loop's
 * state follows what it journals, in the journal's order and with the journal's times. An event that the next
 * one supersedes (`supersededBy`: agent text, line after line) is held back and folded only if nothing supersedes
 * it, before any other event and whenever `settle` is called: the state is the same as if every line had been
 * folded, without a new state per line. The loop calls `settle` before it reads its state.
 */
export function foldingWriter(inner: JournalWriter, now: () => number, fold: (event: LoopEvent) => void): JournalWriter & { settle(): void } {
  let held: LoopEvent | undefined;
  const settle = () => {
    if (held === undefined) return;
    const event = held;
    held = undefined;
    fold(event);
  };
  // The event is the writer's from here on: stamped in place, not copied (every agent line passes here).
  const timed = (event: NewEvent) => Object.assign(event, { at: event.at ?? now() });
  const stamp = (event: NewEvent): NewEvent => {
    const stamped = timed(event);
    if (held !== undefined && !supersededBy(held, stamped)) settle();
    if (isSupersedable(stamped)) held = stamped;
    else fold(stamped);
    return stamped;
  };
  return {
    push: (event) => inner.push(stamp(event)),
    write: (...events) => {
      const stamped = events.map(stamp);
      settle();
      return inner.write(...stamped);
    },
    writeUnlessStopped: async (...events) => {
      // What was held back is in the writer's buffer, written first whatever happens to these: folded first.
      settle();
      // Folded only once written: a refused write leaves the loop as it was.
      const stamped = events.map(timed);
      const refused = await inner.writeUnlessStopped(...stamped);
      if (refused === undefined) for (const event of stamped) fold(event);
      return refused;
    },
    flush: () => {
      settle();
      return inner.flush();
    },
    settle,
  };
}

/** Whether a later event may supersede this one (checked against itself: the kind of event, not its content). */
const isSupersedable = (event: LoopEvent): boolean => supersededBy(event, event);

/** Two runs of events, each in journal order, as one. */
function merged(a: readonly StoredEvent[], b: readonly StoredEvent[]): StoredEvent[] {
  return [...a, ...b].sort((x, y) => x.seq - y.seq);
}

const firstLineOf = (text: string) => (text.trim().split("\n")[0] ?? "").slice(0, 72);
