// The convergence loop for one task: prompt (goal, criteria, handoff) → agent → verify → commit, attempt
// after attempt, until every criterion is met or a limit, a stall or an escalation ends it. Every step is
// journaled before the loop moves on, so a crash loses nothing that finished.
import type { Permission } from "../agents/permission.js";
import type { AgentEvent } from "../core/agent-event.js";
import type { CriterionResult } from "../core/journal.js";
import { formatDuration } from "../core/duration.js";
import { PACING_REASON } from "../core/figures.js";
import { budgetLeft, spentBudget, type Budgets, type Spent } from "../core/budget.js";
import type { BreakerOptions } from "../core/circuit.js";
import { resumesAfter, retryDelay, type Failure } from "../core/failure.js";
import type { RecoveryPolicy } from "../core/recovery-policy.js";
import { buildHandoff, type AttemptSummary } from "../core/handoff.js";
import { attemptsWithoutRise } from "../core/progress.js";
import { buildPrompt } from "../core/prompt.js";
import type { StopMode } from "../core/run.js";
import { commitAll } from "../git/commit.js";
import { inspectRepo } from "../git/repo.js";
import type { RunRecord, TaskRecord } from "../store/store.js";
import { runAttempt } from "./attempt-runner.js";
import type { EngineDeps } from "./deps.js";
import type { EventWriter } from "./event-writer.js";
import { attemptId } from "./ids.js";
import { transcriptPath, type OrchPaths } from "./paths.js";
import { abortedConclusion, interruptDetail } from "./interrupt.js";
import { recoverPermissions } from "./denied-tools.js";
import { ModelChain, type ChainLink } from "./model-chain.js";
import type { RestoredTask } from "./restore.js";
import { outcomeOf, verify } from "./verify.js";

/** What the loop is doing, for the live status line. */
export type Activity =
  | { kind: "attempt"; attempt: number; maxAttempts: number; model: string | undefined }
  | { kind: "agent"; event: AgentEvent }
  | { kind: "verifying"; attempt: number }
  | { kind: "verified"; attempt: number; progress: number; passed: number; total: number }
  | { kind: "waiting"; until: number; reason: string };

export interface TaskContext {
  run: RunRecord;
  task: TaskRecord;
  permission: Permission;
  /** The run's agent and model first, then its fallbacks (other models, or other agents). */
  chain: ChainLink[];
  paths: OrchPaths;
  writer: EventWriter;
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
  /** What the journal holds of earlier attempts, when a supervisor takes over a run that had started. */
  restored?: RestoredTask | undefined;
  onActivity?: (activity: Activity) => void;
}

export type TaskConclusion =
  | { status: "succeeded"; reason: string; commit: string }
  | { status: "failed" | "stalled" | "blocked" | "stopped" | "aborted"; reason: string }
  /** Resumable: waiting for a human… */
  | { status: "waiting"; reason: string }
  /** …or paused on request (or Ctrl-C). */
  | { status: "paused"; reason: string };

export async function convergeTask(deps: EngineDeps, ctx: TaskContext): Promise<TaskConclusion> {
  const { run, task, restored } = ctx;
  const limits = run.limits;
  const summaries: AttemptSummary[] = [...(restored?.summaries ?? [])];
  const history: number[] = [...(restored?.history ?? [])];
  let stallBase = 0;
  const chain = new ModelChain(ctx.chain, ctx.recovery.breaker, restored?.link ?? 0);
  /** Tools the CLI denied that the permission level allows: granted to every later attempt. */
  const granted = new Set<string>();
  /** Tools denied in the attempt before, which the level does not allow. */
  let refusedBefore = new Set<string>();
  let consecutiveFailures = restored?.consecutiveFailures ?? 0;
  const budgets: Budgets = {
    runUsd: limits.budgetUsd,
    runTokens: limits.budgetTokens,
    taskUsd: limits.taskBudgetUsd,
    taskTokens: limits.taskBudgetTokens,
  };
  const spent: Spent = {
    runUsd: run.costUsd,
    runTokens: run.tokensIn + run.tokensOut,
    taskUsd: restored?.spent.usd ?? 0,
    taskTokens: restored?.spent.tokens ?? 0,
  };
  let previousSession: { id: string; link: number } | undefined = restored?.previousSession;
  let number = restored?.number ?? task.attempts;
  const ids = { runId: run.id, taskId: task.id };
  const note = (message: string) => ctx.writer.write({ type: "run.noted", runId: run.id, data: { message } });
  const best = () => (history.length === 0 ? 0 : Math.max(...history));

  /** Verifies attempt `a`, whose agent finished cleanly; a conclusion ends the task, undefined goes on. */
  const verifyAttempt = async (a: {
    number: number;
    id: string;
    summary: AttemptSummary;
    sessionId: string | undefined;
    deniedTools: readonly string[];
    denial: readonly string[] | undefined;
    /** Results the journal already holds (the supervisor died after verifying): not run again. */
    verified?: CriterionResult[] | undefined;
  }): Promise<TaskConclusion | undefined> => {
    const finish = (outcome: "succeeded" | "failed", progress: number, failure?: Failure, commit?: string) =>
      ctx.writer.write({
        type: "attempt.finished",
        ...ids,
        attemptId: a.id,
        data: { outcome, progress, ...(failure ? { failure } : {}), ...(commit ? { commit } : {}) },
      });
    ctx.onActivity?.({ kind: "verifying", attempt: a.number });
    const outcome =
      a.verified !== undefined
        ? outcomeOf(task.criteria, a.verified)
        : await verify({
            criteria: task.criteria,
            cwd: task.worktree,
            env: deps.env,
            redactor: deps.redactor,
            owner: { runId: run.id, taskId: task.id },
            timeoutMs: Math.max(1_000, Math.min(limits.attemptTimeoutMs, ctx.deadline - deps.now())),
            signal: ctx.abort,
            groups: deps.groups,
          });
    if (a.verified === undefined) {
      await ctx.writer.write({ type: "verify.completed", ...ids, attemptId: a.id, data: { criteria: outcome.results, progress: outcome.progress } });
    }
    ctx.onActivity?.({
      kind: "verified",
      attempt: a.number,
      progress: outcome.progress,
      passed: outcome.results.filter((r) => r.passed).length,
      total: task.criteria.length,
    });
    if (ctx.abort.aborted) {
      await finish("failed", outcome.progress, { kind: "crashed", detail: interruptDetail(ctx.abort.reason) });
      return abortedConclusion(ctx.abort.reason);
    }

    if (outcome.allPassed) {
      const message = `orch: ${firstLineOf(task.goal)}\n\nRun ${run.id}, task ${task.id}, attempt ${a.number}.\nVerified: ${task.criteria.join("; ")}\n`;
      const commit = ctx.commit !== undefined ? await ctx.commit(message) : ((await commitAll({ worktree: task.worktree, message, identity: ctx.identity })) ?? (await inspectRepo(task.worktree)).headSha);
      await finish("succeeded", 1, undefined, commit);
      return { status: "succeeded", reason: `all ${task.criteria.length} criteria met on attempt ${a.number}`, commit };
    }

    const failed = outcome.results.filter((r) => !r.passed).map((r) => `\`${r.command}\``);
    const failure: Failure = outcome.broken
      ? { kind: "verify_error", detail: `the verify command \`${outcome.broken.command}\` cannot run (exit ${outcome.broken.exitCode})` }
      : { kind: "verify_failed", detail: `${failed.join(", ")} failed; progress ${percent(outcome.progress)}` };
    await finish("failed", outcome.progress, failure);
    summaries.push({ ...a.summary, failure, criteria: outcome.results, progress: outcome.progress });
    if (failure.kind === "verify_error") return { status: "blocked", reason: `${failure.detail}; fix the command or the environment` };
    history.push(outcome.progress);
    previousSession = a.sessionId === undefined ? undefined : { id: a.sessionId, link: chain.index };
    const permissionStop = await recoverPermissions(ctx.permission, a.deniedTools, a.denial, granted, note);
    if (permissionStop !== undefined) return permissionStop;

    if (attemptsWithoutRise(history.slice(stallBase)) >= limits.stallAttempts) {
      if (chain.moveOn()) {
        stallBase = history.length;
        previousSession = undefined;
        await note(`no progress for ${limits.stallAttempts} attempts; switching to model ${chain.label()}`);
      } else {
        return {
          status: "stalled",
          reason: `progress has not risen for ${limits.stallAttempts} attempts (best ${percent(best())}); still failing: ${failed.join(", ")}`,
        };
      }
    }
    return undefined;
  };

  if (restored?.succeeded !== undefined) {
    const done = restored.succeeded;
    return { status: "succeeded", reason: `all ${task.criteria.length} criteria met on attempt ${done.number}`, commit: done.commit ?? "" };
  }
  if (restored?.unverified !== undefined) {
    const { attempt, summary } = restored.unverified;
    const verdict = await verifyAttempt({ number: attempt.number, id: attempt.id, summary, sessionId: attempt.sessionId, deniedTools: summary.deniedTools ?? [], denial: undefined, verified: attempt.criteria });
    if (verdict !== undefined) return verdict;
  }

  for (;;) {
    if (ctx.abort.aborted) return abortedConclusion(ctx.abort.reason);
    const requested = ctx.stopRequested();
    if (requested === "stop") return { status: "stopped", reason: `stopped on request after ${number} attempt(s)` };
    if (requested === "pause") return { status: "paused", reason: `paused on request after ${number} attempt(s)` };
    if (number >= limits.maxAttempts) {
      return { status: "failed", reason: `reached the limit of ${limits.maxAttempts} attempts; best progress ${percent(best())}` };
    }
    if (deps.now() >= ctx.deadline) {
      return { status: "failed", reason: `reached the time limit of ${formatDuration(limits.maxMs)}; best progress ${percent(best())}` };
    }
    const budgetSpent = spentBudget(budgets, spent);
    if (budgetSpent !== undefined) return { status: "failed", reason: budgetSpent };

    const next = chain.next(deps.now());
    if ("waitUntil" in next) {
      await wait(deps, ctx, next.waitUntil - deps.now(), next.reason);
      continue;
    }
    if (next.switched !== undefined) await note(next.switched);
    number += 1;
    const { adapter, model } = chain.link();
    const id = attemptId(run.id, task.id, number);
    const resume = previousSession !== undefined && previousSession.link === chain.index ? previousSession.id : undefined;
    const prompt = buildPrompt({
      goal: task.goal,
      spec: task.spec === undefined ? undefined : { title: task.title, ...task.spec },
      ...(ctx.notes !== undefined ? { notes: ctx.notes } : {}),
      criteria: task.criteria,
      attempt: number,
      maxAttempts: limits.maxAttempts,
      handoff: buildHandoff(summaries),
    });
    ctx.onActivity?.({ kind: "attempt", attempt: number, maxAttempts: limits.maxAttempts, model });
    const result = await runAttempt(deps, ctx.writer, {
      ...ids,
      attemptId: id,
      number,
      adapter,
      permission: ctx.permission,
      grantedTools: [...granted],
      model,
      prompt,
      resumeSessionId: resume,
      worktree: task.worktree,
      transcript: transcriptPath(ctx.paths, run.id, id),
      stallTimeoutMs: limits.stallTimeoutMs,
      timeoutMs: Math.max(1_000, Math.min(limits.attemptTimeoutMs, ctx.deadline - deps.now())),
      maxRssBytes: limits.agentMaxRssBytes,
      transcriptMaxBytes: limits.transcriptMaxMb === undefined ? undefined : Math.max(1, Math.round(limits.transcriptMaxMb * 1024 * 1024)),
      transcriptKeep: limits.transcriptKeep,
      budgetUsdLeft: budgetLeft(budgets, spent).usd,
      budgetTokensLeft: budgetLeft(budgets, spent).tokens,
      signal: ctx.abort,
      onEvent: (event) => ctx.onActivity?.({ kind: "agent", event }),
    });
    const tokens = result.usage === undefined ? 0 : result.usage.inputTokens + result.usage.outputTokens;
    spent.runUsd += result.costUsd ?? 0;
    spent.taskUsd += result.costUsd ?? 0;
    spent.runTokens += tokens;
    spent.taskTokens += tokens;
    const finish = (outcome: "succeeded" | "failed", progress: number, failure?: Failure, commit?: string) =>
      ctx.writer.write({
        type: "attempt.finished",
        ...ids,
        attemptId: id,
        data: { outcome, progress, ...(failure ? { failure } : {}), ...(commit ? { commit } : {}) },
      });
    const summary: AttemptSummary = {
      number,
      agent: adapter.name,
      model: result.model,
      criteria: [],
      finalText: result.finalText,
      actions: result.actions,
      deniedTools: result.deniedTools,
      progress: 0,
    };
    const denial = ctx.permission === "full" ? undefined : result.deniedTools.filter((tool) => refusedBefore.has(tool));
    refusedBefore = new Set(ctx.permission === "full" ? [] : result.deniedTools);

    if (result.interrupted) {
      await finish("failed", 0, { kind: "crashed", detail: interruptDetail(ctx.abort.reason) });
      return abortedConclusion(ctx.abort.reason);
    }

    if (result.failure !== undefined) {
      const failure = result.failure;
      await finish("failed", 0, failure);
      summaries.push({ ...summary, failure });
      // Turns the agent finished before a hang, a crash or an API limit are not paid for twice: the next attempt
      // resumes that session. A context overflow, or output orch could not read, starts afresh with the handoff.
      // Only a session that did work (tool calls): a CLI refused on its first request may have named a session it
      // never saved, or only an error text of its own (Claude's synthetic "API Error" message), and resuming that
      // would buy nothing.
      const worthResuming = result.sessionId !== undefined && result.actions.length > 0 && resumesAfter(failure.kind);
      previousSession = worthResuming && result.sessionId !== undefined ? { id: result.sessionId, link: chain.index } : undefined;
      consecutiveFailures += 1;
      const action = ctx.recovery.policy(failure.kind);
      if (failure.kind === "auth_failed") {
        return { status: "waiting", reason: `the ${adapter.name} agent was refused by its model API: ${failure.detail}` };
      }
      if (failure.kind === "budget_exceeded") return { status: "failed", reason: failure.detail };
      if (action === "escalate") return { status: "blocked", reason: `${failure.kind}: ${failure.detail}` };
      // A reported reset keeps the model out until then, paced by the backoff.
      const reopenAt = () => (failure.resetAt === undefined ? undefined : deps.now() + retryDelay(failure, consecutiveFailures, deps.now(), deps.random()));
      const after = chain.failed(failure, action, deps.now(), reopenAt);
      if (after === "fallback") {
        consecutiveFailures = 0;
        continue;
      }
      if (after === "circuit_open") continue;
      // No wait when the attempt limit ends the task anyway: it would only delay the report.
      if (number < limits.maxAttempts) {
        const delay = retryDelay(failure, consecutiveFailures, deps.now(), deps.random());
        await wait(deps, ctx, delay, `${failure.kind}: ${failure.detail}`);
      }
      continue;
    }
    consecutiveFailures = 0;
    chain.succeeded();
    const verdict = await verifyAttempt({ number, id, summary, sessionId: result.sessionId, deniedTools: result.deniedTools, denial });
    if (verdict !== undefined) return verdict;
    if (limits.intervalMs > 0 && number < limits.maxAttempts) await wait(deps, ctx, limits.intervalMs, PACING_REASON);
  }
}

async function wait(deps: EngineDeps, ctx: TaskContext, delayMs: number, reason: string): Promise<void> {
  if (delayMs <= 0) return;
  const until = deps.now() + delayMs;
  await ctx.writer.write({ type: "task.waited", runId: ctx.run.id, taskId: ctx.task.id, data: { delayMs, until, reason } });
  ctx.onActivity?.({ kind: "waiting", until, reason });
  // A stop request, an abort, Ctrl-C and the time limit all end a wait early; the loop then says why.
  await deps.sleep(delayMs, AbortSignal.any([ctx.stop, ctx.abort]));
}

const percent = (p: number) => `${Math.round(p * 100)}%`;
const firstLineOf = (text: string) => (text.trim().split("\n")[0] ?? "").slice(0, 72);
