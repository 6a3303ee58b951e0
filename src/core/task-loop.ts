// The convergence loop of one task as a fold of its journal: `evolve` folds one event into the loop's state,
// `decide` returns the one step to carry out next (start an attempt on this link with this handoff, verify,
// commit, end the attempt, note, wait, sleep, end the task). Both are pure; the engine's interpreter
// (engine/converge.ts) carries the steps out and journals what happened, which is folded again. A supervisor
// taking a run over replays the task's journal through the same `evolve`, so live driving and takeover share
// one algorithm: whatever the journal holds decides what comes next, and nothing else does. The state's types are
// in task-loop-state.ts (re-exported here); the review's part of the fold and of decide in task-loop-review.ts.
import { resumesAfter, retryDelay, type Failure } from "./failure.js";
import type { AgentEvent } from "./agent-event.js";
import { budgetLeft, spentBudget } from "./budget.js";
import { formatDuration } from "./duration.js";
import { PACING_REASON } from "./figures.js";
import { buildHandoff, type AttemptSummary } from "./handoff.js";
import { abortedConclusion, interruptDetail } from "./interrupt.js";
import { labelOf, linkAnswered, linkFailed, moveOn, newChain, nextLink, startOn } from "./model-chain.js";
import { attemptsWithoutRise, outcomeOf } from "./progress.js";
import { judge, review, reviewExited, reviewFinished, reviewStarted, roundsOf } from "./task-loop-review.js";
import { ended, spending, type LoopConfig, type LoopEvent, type LoopInput, type LoopPhase, type LoopStep, type OpenAttempt, type ReviewDue, type TaskConclusion, type TaskLoop } from "./task-loop-state.js";

export * from "./task-loop-state.js";

export function initialLoop(config: LoopConfig): TaskLoop {
  return {
    phase: { kind: "ready" },
    attempts: 0,
    summaries: [],
    history: [],
    stallBase: 0,
    chain: newChain(config.labels.length),
    previousSession: undefined,
    consecutiveFailures: 0,
    spent: { usd: 0, tokens: 0 },
    granted: [],
    refusedBefore: [],
    deniedAgain: [],
    notes: [],
    success: undefined,
    sentBack: undefined,
    reviews: 0,
    reviewFailures: 0,
    lastReview: undefined,
  };
}

/** The task's loop after `events` (the task's journal, oldest first). */
export function replay(config: LoopConfig, events: Iterable<LoopEvent>, from: TaskLoop = initialLoop(config)): TaskLoop {
  let state = from;
  for (const event of events) state = evolve(config, state, event);
  return state;
}

/** Folds one of the task's journal events into its loop. Total: an event that does not concern the loop leaves it as it is. */
export function evolve(config: LoopConfig, state: TaskLoop, event: LoopEvent): TaskLoop {
  switch (event.type) {
    case "attempt.started": {
      const { data } = event;
      if (data.role === "reviewer") return reviewStarted(state, event);
      const link = data.link ?? config.linkOf(data.agent, data.model);
      const attempt: OpenAttempt = {
        id: event.attemptId ?? "",
        number: data.number,
        agent: data.agent,
        model: data.model,
        link,
        sessionId: data.resumedSession,
        actions: [],
        lastText: undefined,
        result: undefined,
      };
      return { ...state, attempts: Math.max(state.attempts, data.number), chain: startOn(state.chain, link, event.at), phase: { kind: "running", attempt } };
    }
    case "agent.emitted": {
      // Agent text only moves the attempt's last words: of a run of text lines, the last one decides (`supersededBy`).
      if (state.phase.kind !== "running") return state;
      const attempt = withAgentEvent(state.phase.attempt, event.data);
      return attempt === state.phase.attempt ? state : { ...state, phase: { kind: "running", attempt } };
    }
    case "attempt.exited":
      return state.phase.kind === "running" && state.phase.attempt.review !== undefined ? reviewExited(state, event) : exited(config, state, event);
    case "verify.completed": {
      if (state.phase.kind !== "exited" || state.phase.failure !== undefined) return state;
      return { ...state, phase: { kind: "verified", attempt: state.phase.attempt, results: event.data.criteria, progress: event.data.progress } };
    }
    case "attempt.finished":
      return state.phase.kind === "exited" && state.phase.attempt.review !== undefined ? reviewFinished(config, state, state.phase.attempt.review, event) : finished(config, state, event);
    case "task.waited":
      return { ...state, phase: { kind: "waiting", until: event.data.until, reason: event.data.reason } };
    case "run.noted":
      return state.notes.includes(event.data.message) ? { ...state, notes: state.notes.filter((note) => note !== event.data.message) } : state;
    case "run.resumed":
      // A person resumed the run: a task that waited for one (refused credentials, say) tries again.
      return state.phase.kind === "ended" && state.phase.conclusion.status === "waiting" ? { ...state, phase: { kind: "ready" } } : state;
    case "task.reverted":
      // The task's work left the run branch: its loop goes on from there, told why.
      return { ...state, phase: { kind: "ready" }, success: undefined, sentBack: event.data.reason };
    case "task.finished":
      return { ...state, phase: { kind: "ended", conclusion: concluded(event.data.status, event.data.reason, event.data.commit) } };
    case "task.reopened":
      // New limits: the loop goes on from its journal, its attempts counted on and its handoff kept.
      return state.phase.kind === "ended" ? { ...state, phase: { kind: "ready" } } : state;
    default:
      return state;
  }
}

/**
 * Whether folding `later` right after `earlier` leaves the same state as folding `later` alone: true for two agent
 * text lines, each of which only replaces the attempt's last words. An interpreter may then fold only the last
 * line of a run of them (agent output is the hot path: one line, one new state otherwise), and a replay of the
 * journal, which folds every line, still reaches the same state.
 */
export function supersededBy(earlier: LoopEvent, later: LoopEvent): boolean {
  return (
    earlier.type === "agent.emitted" &&
    later.type === "agent.emitted" &&
    earlier.data.type === "text" &&
    later.data.type === "text" &&
    earlier.taskId === later.taskId &&
    earlier.attemptId === later.attemptId
  );
}

/** The one step to carry out next. */
export function decide(config: LoopConfig, state: TaskLoop, input: LoopInput): LoopStep {
  const [note] = state.notes;
  if (note !== undefined) return { kind: "note", message: note };
  const { phase } = state;
  switch (phase.kind) {
    case "ended":
      return { kind: "end", conclusion: phase.conclusion };
    case "running":
      // The interpreter closes every attempt it starts, and a takeover closes what a dead supervisor left open.
      throw new Error(`attempt ${phase.attempt.id} is still open in the journal; the loop cannot go on before it is closed`);
    case "exited":
      if (phase.failure !== undefined) return { kind: "fail-attempt", attemptId: phase.attempt.id, progress: 0, failure: phase.failure };
      if (phase.attempt.review !== undefined) return judge(phase.attempt, phase.attempt.review);
      return { kind: "verify", attemptId: phase.attempt.id, number: phase.attempt.number };
    case "reviewing":
      return review(config, state, phase, input);
    case "verified":
      return verdict(config, phase, input);
    case "backoff": {
      if (interrupted(input) || state.attempts >= config.limits.maxAttempts) return next(config, state, input);
      const delayMs = retryDelay(phase.failure, state.consecutiveFailures, input.now, input.random);
      if (delayMs <= 0) return next(config, state, input);
      return { kind: "wait", until: input.now + delayMs, delayMs, reason: `${phase.failure.kind}: ${phase.failure.detail}` };
    }
    case "pacing":
      if (interrupted(input)) return next(config, state, input);
      return { kind: "wait", until: input.now + config.limits.intervalMs, delayMs: config.limits.intervalMs, reason: PACING_REASON };
    case "waiting":
      if (!interrupted(input) && input.now < phase.until) return { kind: "sleep", until: phase.until };
      return next(config, state, input);
    case "ready":
      return next(config, state, input);
  }
}

/** The task's success, when the journal holds one that still stands. */
export function successOf(state: TaskLoop | undefined): Extract<TaskConclusion, { status: "succeeded" }> | undefined {
  return state?.phase.kind === "ended" && state.phase.conclusion.status === "succeeded" ? state.phase.conclusion : undefined;
}

// ---- evolve's parts ----------------------------------------------------------------------------------------------

function withAgentEvent(attempt: OpenAttempt, event: AgentEvent): OpenAttempt {
  switch (event.type) {
    case "session.started":
      return { ...attempt, sessionId: event.sessionId, model: event.model ?? attempt.model };
    case "tool.called":
      return { ...attempt, actions: [...attempt.actions, `${event.name} ${event.summary}`.trim()] };
    case "text":
      return { ...attempt, lastText: event.text };
    case "result":
      return { ...attempt, result: event, sessionId: event.sessionId ?? attempt.sessionId };
    default:
      return attempt;
  }
}

function exited(config: LoopConfig, state: TaskLoop, event: Extract<LoopEvent, { type: "attempt.exited" }>): TaskLoop {
  if (state.phase.kind !== "running") return state;
  const { data } = event;
  const attempt: OpenAttempt = { ...state.phase.attempt, sessionId: data.sessionId ?? state.phase.attempt.sessionId, model: data.model ?? state.phase.attempt.model };
  const tokens = data.usage === undefined ? 0 : data.usage.inputTokens + data.usage.outputTokens;
  const spent = { usd: state.spent.usd + (data.costUsd ?? 0), tokens: state.spent.tokens + tokens };
  const denied = attempt.result?.deniedTools ?? [];
  const full = config.permission === "full";
  const deniedAgain = full ? [] : denied.filter((tool) => state.refusedBefore.includes(tool));
  const refusedBefore = full ? [] : denied;
  const cut = data.reason === "aborted" || data.reason === "orphaned";
  const base = { ...state, spent, deniedAgain, refusedBefore };
  if (data.failure !== undefined) return { ...base, phase: { kind: "exited", attempt, failure: data.failure, cut } };
  // The model answered: whatever verification says next, its API is healthy.
  return { ...base, consecutiveFailures: 0, chain: linkAnswered(state.chain), phase: { kind: "exited", attempt, failure: undefined, cut } };
}

function finished(config: LoopConfig, state: TaskLoop, event: Extract<LoopEvent, { type: "attempt.finished" }>): TaskLoop {
  const { phase } = state;
  if (phase.kind !== "exited" && phase.kind !== "verified") return state;
  const { attempt } = phase;
  const { data } = event;
  if (data.outcome === "succeeded") {
    const commit = data.commit ?? "";
    if (data.awaitsReview === true && phase.kind === "verified") {
      const due: ReviewDue = { commit, attempt: attempt.number, agent: attempt.agent, model: attempt.model, round: roundsOf(state) + 1, results: phase.results };
      return { ...state, reviewFailures: 0, sentBack: undefined, phase: { kind: "reviewing", due, notBefore: 0 } };
    }
    return {
      ...state,
      success: { attemptId: attempt.id, number: attempt.number, commit },
      sentBack: undefined,
      phase: { kind: "ended", conclusion: { status: "succeeded", reason: `all ${config.criteria.length} criteria met on attempt ${attempt.number}`, commit } },
    };
  }
  const failure: Failure = data.failure ?? { kind: "crashed", detail: "the attempt failed" };
  const summary: AttemptSummary = {
    number: attempt.number,
    agent: attempt.agent,
    model: attempt.model,
    failure,
    criteria: phase.kind === "verified" ? [...phase.results] : [],
    finalText: attempt.result?.text ?? attempt.lastText,
    actions: [...attempt.actions],
    deniedTools: attempt.result?.deniedTools ?? [],
    progress: phase.kind === "verified" ? phase.progress : 0,
    changes: data.changes,
  };
  const after = { ...state, summaries: [...state.summaries, summary] };
  if (phase.kind === "verified") {
    if (failure.kind === "verify_failed" || failure.kind === "verify_error") return verifiedFailure(config, after, phase, failure);
    // Stopped from outside after its verification: the verdict stands, the loop goes on when it is driven again.
    return { ...after, history: [...state.history, phase.progress], consecutiveFailures: 0, previousSession: sessionOf(attempt), phase: { kind: "ready" } };
  }
  return agentFailure(config, after, phase.attempt, failure, phase.cut, event.at);
}

/** The agent's attempt failed before verification: the recovery policy says what comes next. */
function agentFailure(config: LoopConfig, state: TaskLoop, attempt: OpenAttempt, failure: Failure, cut: boolean, at: number): TaskLoop {
  // Turns the agent finished before a hang, a crash or an API limit are not paid for twice: the next attempt
  // resumes that session. A context overflow, or output orch could not read, starts afresh with the handoff. Only
  // a session that did work (tool calls): a CLI refused on its first request may have named a session it never
  // saved, or only an error text of its own, and resuming that would buy nothing.
  const worthResuming = attempt.sessionId !== undefined && attempt.actions.length > 0 && resumesAfter(failure.kind);
  const base: TaskLoop = {
    ...state,
    previousSession: worthResuming && attempt.sessionId !== undefined ? { id: attempt.sessionId, link: attempt.link } : undefined,
    consecutiveFailures: state.consecutiveFailures + 1,
  };
  // Stopped from outside: no verdict on the model, no backoff; the loop goes on when it is driven again.
  if (cut) return { ...base, phase: { kind: "ready" } };
  if (failure.kind === "auth_failed") return ended(base, { status: "waiting", reason: `the ${attempt.agent} agent was refused by its model API: ${failure.detail}` });
  if (failure.kind === "budget_exceeded") return ended(base, { status: "failed", reason: failure.detail });
  const action = config.policy(failure.kind);
  if (action === "escalate") return ended(base, { status: "blocked", reason: `${failure.kind}: ${failure.detail}` });
  // A reported reset keeps the model out until then.
  const reopenAt = failure.resetAt !== undefined && failure.resetAt > at ? failure.resetAt : undefined;
  const { chain, after } = linkFailed(base.chain, failure, action, at, config.breaker, reopenAt);
  if (after === "fallback") return { ...base, chain, consecutiveFailures: 0, phase: { kind: "ready" } };
  if (after === "circuit_open") return { ...base, chain, phase: { kind: "ready" } };
  // No wait when the attempt limit ends the task anyway: it would only delay the report.
  return { ...base, chain, phase: state.attempts < config.limits.maxAttempts ? { kind: "backoff", failure } : { kind: "ready" } };
}

/** The agent finished but the criteria did not all pass. */
function verifiedFailure(config: LoopConfig, state: TaskLoop, phase: Extract<LoopPhase, { kind: "verified" }>, failure: Failure): TaskLoop {
  if (failure.kind === "verify_error") return ended(state, { status: "blocked", reason: `${failure.detail}; fix the command or the environment` });
  const history = [...state.history, phase.progress];
  let next: TaskLoop = { ...state, history, previousSession: sessionOf(phase.attempt) };
  const permission = deniedTools(config, next, phase.attempt.result?.deniedTools ?? []);
  if ("conclusion" in permission) return ended(next, permission.conclusion);
  next = permission.state;
  const { stallAttempts } = config.limits;
  if (attemptsWithoutRise(history.slice(next.stallBase)) >= stallAttempts) {
    const moved = moveOn(next.chain);
    if (moved === undefined) {
      const failing = phase.results.filter((r) => !r.passed).map((r) => `\`${r.command}\``);
      const best = Math.max(...history);
      return ended(next, { status: "stalled", reason: `progress has not risen for ${stallAttempts} attempts (best ${percent(best)}); still failing: ${failing.join(", ")}` });
    }
    next = {
      ...next,
      chain: moved,
      stallBase: history.length,
      previousSession: undefined,
      notes: [...next.notes, `no progress for ${stallAttempts} attempts; switching to model ${labelOf(config.labels, moved.current)}`],
    };
  }
  const pace = config.limits.intervalMs > 0 && next.attempts < config.limits.maxAttempts;
  return { ...next, phase: pace ? { kind: "pacing" } : { kind: "ready" } };
}

/**
 * Tools the CLI denied in an attempt that did not succeed. At `full`, the level allows any tool: the denied ones are
 * granted to the next attempts (Claude as root allows tools one by one). Below it, the agent is told in the handoff
 * to do without them; denied again in the next attempt, the task is escalated with the tools named, since only a
 * human can widen the permission level.
 */
function deniedTools(config: LoopConfig, state: TaskLoop, denied: readonly string[]): { state: TaskLoop } | { conclusion: TaskConclusion } {
  if (denied.length === 0) return { state };
  if (config.permission === "full") {
    const fresh = denied.filter((tool) => !state.granted.includes(tool));
    if (fresh.length === 0) {
      return { conclusion: { status: "blocked", reason: `permission_denied: ${denied.join(", ")} refused again although allowed; the CLI's own settings deny them` } };
    }
    const note = `allowing ${fresh.join(", ")} from the next attempt on: the agent was denied them and the permission level is full`;
    return { state: { ...state, granted: [...state.granted, ...fresh], notes: [...state.notes, note] } };
  }
  if (state.deniedAgain.length > 0) {
    return {
      conclusion: {
        status: "blocked",
        reason: `permission_denied: the agent keeps needing ${state.deniedAgain.join(", ")}, which the ${config.permission} permission level does not allow; run again with --permission full, or allow them in the agent's own settings`,
      },
    };
  }
  return { state };
}

function sessionOf(attempt: OpenAttempt): TaskLoop["previousSession"] {
  return attempt.sessionId === undefined ? undefined : { id: attempt.sessionId, link: attempt.link };
}

function concluded(status: Exclude<TaskConclusion["status"], "waiting" | "paused">, reason: string, commit: string | undefined): TaskConclusion {
  return status === "succeeded" ? { status, reason, commit: commit ?? "" } : { status, reason };
}

// ---- decide's parts ----------------------------------------------------------------------------------------------

function interrupted(input: LoopInput): boolean {
  return input.aborted !== undefined || (input.stopRequested !== undefined && input.stopRequested !== "abort");
}

/** The verdict on a verified attempt: commit it, or end it as failed (an abort ends it as cut short). */
function verdict(config: LoopConfig, phase: Extract<LoopPhase, { kind: "verified" }>, input: LoopInput): LoopStep {
  const { attempt } = phase;
  if (input.aborted !== undefined) {
    return { kind: "fail-attempt", attemptId: attempt.id, progress: phase.progress, failure: { kind: "crashed", detail: interruptDetail(input.aborted.reason) } };
  }
  const outcome = outcomeOf(config.criteria, [...phase.results]);
  if (outcome.allPassed) return { kind: "commit", attemptId: attempt.id, number: attempt.number, review: config.review !== undefined };
  const failing = outcome.results.filter((r) => !r.passed).map((r) => `\`${r.command}\``);
  const failure: Failure = outcome.broken
    ? { kind: "verify_error", detail: `the verify command \`${outcome.broken.command}\` cannot run (exit ${outcome.broken.exitCode})` }
    : { kind: "verify_failed", detail: `${failing.join(", ")} failed; progress ${percent(outcome.progress)}` };
  return { kind: "fail-attempt", attemptId: attempt.id, progress: outcome.progress, failure };
}

/** Between attempts: end the task, wait for a circuit, or start the next attempt. */
function next(config: LoopConfig, state: TaskLoop, input: LoopInput): LoopStep {
  const { limits } = config;
  const best = state.history.length === 0 ? 0 : Math.max(...state.history);
  if (input.aborted !== undefined) return { kind: "end", conclusion: abortedConclusion(input.aborted.reason) };
  if (input.stopRequested === "stop") return { kind: "end", conclusion: { status: "stopped", reason: `stopped on request after ${state.attempts} attempt(s)` } };
  if (input.stopRequested === "pause") return { kind: "end", conclusion: { status: "paused", reason: `paused on request after ${state.attempts} attempt(s)` } };
  if (state.attempts >= limits.maxAttempts) {
    return { kind: "end", conclusion: { status: "failed", reason: `reached the limit of ${limits.maxAttempts} attempts; best progress ${percent(best)}` } };
  }
  if (input.now >= input.deadline) {
    return { kind: "end", conclusion: { status: "failed", reason: `reached the time limit of ${formatDuration(limits.maxMs)}; best progress ${percent(best)}` } };
  }
  const { budgets, spent } = spending(config, state, input);
  const overBudget = spentBudget(budgets, spent);
  if (overBudget !== undefined) return { kind: "end", conclusion: { status: "failed", reason: overBudget } };

  const pick = nextLink(state.chain, config.labels, input.now);
  if ("waitUntil" in pick) return { kind: "wait", until: pick.waitUntil, delayMs: Math.max(0, pick.waitUntil - input.now), reason: pick.reason };
  const previous = state.previousSession;
  return {
    kind: "attempt",
    number: state.attempts + 1,
    link: pick.index,
    switched: pick.switched,
    resumeSession: previous !== undefined && previous.link === pick.index ? previous.id : undefined,
    grantedTools: state.granted,
    handoff: buildHandoff(state.summaries),
    budgetLeft: budgetLeft(budgets, spent),
  };
}

const percent = (p: number) => `${Math.round(p * 100)}%`;
