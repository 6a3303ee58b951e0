// The task loop's fold, alone: scenarios fed as events with the steps asserted, and a model-based test that drives
// random loops (faults, fallbacks, stalls, denied tools, budgets, pacing, stop requests, aborts) with a scripted
// interpreter, cuts each journal after every write, rebuilds the state from the prefix and lets `decide` go on: the
// loop ends as the one never cut, with the same events, and a cut inside an attempt still ends cleanly.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { AgentEvent } from "./agent-event.js";
import { DEFAULT_BREAKER } from "./circuit.js";
import { FAILURE_KINDS, type Failure, type FailureKind } from "./failure.js";
import { buildHandoff } from "./handoff.js";
import type { CriterionResult, EventBody, Limits, StoredEvent } from "./journal.js";
import { recoveryPolicy } from "./recovery-policy.js";
import type { Permission } from "./run-settings.js";
import { decide, evolve, initialLoop, replay, successOf, supersededBy, type LoopConfig, type LoopInput, type LoopStep, type TaskConclusion, type TaskLoop } from "./task-loop.js";

const LIMITS: Limits = { maxAttempts: 5, maxMs: 3_600_000, intervalMs: 0, stallAttempts: 2, stallTimeoutMs: 60_000, attemptTimeoutMs: 600_000 };

function configOf(over: Partial<LoopConfig> = {}): LoopConfig {
  return {
    criteria: ["npm test"],
    limits: LIMITS,
    labels: ["opus"],
    breaker: DEFAULT_BREAKER,
    policy: recoveryPolicy(),
    permission: "workspace-write",
    linkOf: () => 0,
    ...over,
  };
}

const INPUT: LoopInput = { now: 1_000, random: 0.5, deadline: Number.MAX_SAFE_INTEGER, stopRequested: undefined, aborted: undefined, runSpent: { usd: 0, tokens: 0 } };

// ---- scenarios ---------------------------------------------------------------------------------------------------

/** A tiny journal: events of one task, numbered and timed in order. */
class Journal {
  readonly events: StoredEvent[] = [];
  add(body: EventBody, attempt?: number, at = 1_000 + this.events.length): this {
    this.events.push({ ...body, seq: this.events.length + 1, at, runId: "r", taskId: "t", ...(attempt !== undefined ? { attemptId: `r.t.${attempt}` } : {}) } as StoredEvent);
    return this;
  }
  started(n: number, link = 0, resumedSession?: string): this {
    return this.add({ type: "attempt.started", data: { number: n, agent: "claude-code", model: "opus", transcript: "", link, ...(resumedSession ? { resumedSession } : {}) } }, n);
  }
  emitted(n: number, event: AgentEvent): this {
    return this.add({ type: "agent.emitted", data: event }, n);
  }
  exited(n: number, failure?: Failure, reason: "exited" | "aborted" | "orphaned" = "exited"): this {
    return this.add({ type: "attempt.exited", data: { exitCode: failure ? 1 : 0, signal: null, reason, durationMs: 10, ...(failure ? { failure } : {}) } }, n);
  }
  verified(n: number, passed: boolean[]): this {
    const criteria = passed.map((p, i): CriterionResult => ({ command: `c${i}`, exitCode: p ? 0 : 1, passed: p, score: p ? 1 : 0, durationMs: 1, timedOut: false, outputTail: "" }));
    return this.add({ type: "verify.completed", data: { criteria, progress: passed.filter(Boolean).length / Math.max(1, passed.length) } }, n);
  }
  finished(n: number, outcome: "succeeded" | "failed", failure?: Failure, progress = 0): this {
    return this.add({ type: "attempt.finished", data: { outcome, progress, ...(failure ? { failure } : {}), ...(outcome === "succeeded" ? { commit: `c${n}` } : {}) } }, n);
  }
  state(config = configOf()): TaskLoop {
    return replay(config, this.events);
  }
}

describe("the task loop's fold, by scenario", () => {
  it("ignores the deliveries of notices: the same state, whatever the journal says of webhooks", () => {
    const config = configOf();
    const j = new Journal().started(1).exited(1, { kind: "crashed", detail: "boom" });
    const before = j.state(config);
    const d = { webhook: 0, host: "h", event: "task.escalated" as const, resolved: false, items: 1 };
    j.add({ type: "notify.failed", data: { ...d, attempts: 4, error: "HTTP 500" } })
      .add({ type: "notify.sent", data: { ...d, attempts: 1, status: 200 } })
      .add({ type: "notify.dropped", data: { deliveries: [d], reason: "the end" } });
    const after = j.events.slice(-3).reduce((state, event) => evolve(config, state, event), before);
    expect(after).toBe(before);
  });

  it("starts the first attempt on the first link with no handoff, verifies a clean exit, commits when every criterion passes", () => {
    const j = new Journal();
    expect(decide(configOf(), j.state(), INPUT)).toMatchObject({ kind: "attempt", number: 1, link: 0, resumeSession: undefined, handoff: "" });
    j.started(1).emitted(1, { type: "session.started", sessionId: "s1" }).exited(1);
    expect(decide(configOf(), j.state(), INPUT)).toEqual({ kind: "verify", attemptId: "r.t.1", number: 1 });
    j.verified(1, [true]);
    expect(decide(configOf(), j.state(), INPUT)).toEqual({ kind: "commit", attemptId: "r.t.1", number: 1, review: false });
    j.finished(1, "succeeded");
    expect(decide(configOf(), j.state(), INPUT)).toEqual({ kind: "end", conclusion: { status: "succeeded", reason: "all 1 criteria met on attempt 1", commit: "c1" } });
  });

  it("a failed verification goes into the next attempt's handoff, which resumes the session on the same link", () => {
    const j = new Journal().started(1).emitted(1, { type: "session.started", sessionId: "s1" }).emitted(1, { type: "tool.called", name: "Write", summary: "sum.js" }).exited(1).verified(1, [false]);
    const fail = decide(configOf(), j.state(), INPUT);
    expect(fail).toMatchObject({ kind: "fail-attempt", attemptId: "r.t.1", progress: 0, failure: { kind: "verify_failed", detail: "`c0` failed; progress 0%" } });
    j.finished(1, "failed", { kind: "verify_failed", detail: "`c0` failed; progress 0%" });
    const next = decide(configOf(), j.state(), INPUT);
    expect(next).toMatchObject({ kind: "attempt", number: 2, resumeSession: "s1" });
    expect(next.kind === "attempt" && next.handoff).toContain("Write sum.js");
  });

  it("a rate limit is backed off with a wait that is journaled; a supervisor taking over sleeps only what is left of it", () => {
    const limited: Failure = { kind: "rate_limited", detail: "429" };
    const j = new Journal().started(1).exited(1, limited).finished(1, "failed", limited);
    const wait = decide(configOf(), j.state(), INPUT);
    expect(wait).toMatchObject({ kind: "wait", reason: "rate_limited: 429" });
    if (wait.kind !== "wait") return;
    j.add({ type: "task.waited", data: { delayMs: wait.delayMs, until: wait.until, reason: wait.reason } });
    expect(decide(configOf(), j.state(), { ...INPUT, now: wait.until - 10 })).toEqual({ kind: "sleep", until: wait.until });
    expect(decide(configOf(), j.state(), { ...INPUT, now: wait.until })).toMatchObject({ kind: "attempt", number: 2 });
    // A stop request ends the wait at once.
    expect(decide(configOf(), j.state(), { ...INPUT, now: wait.until - 10, stopRequested: "stop" })).toEqual({
      kind: "end",
      conclusion: { status: "stopped", reason: "stopped on request after 1 attempt(s)" },
    });
  });

  it("refused credentials wait for a human; the run's resumption lets the task try again", () => {
    const refused: Failure = { kind: "auth_failed", detail: "401" };
    const j = new Journal().started(1).exited(1, refused).finished(1, "failed", refused);
    expect(decide(configOf(), j.state(), INPUT)).toEqual({ kind: "end", conclusion: { status: "waiting", reason: "the claude-code agent was refused by its model API: 401" } });
    j.add({ type: "run.resumed", data: { pid: 1, host: "h", detached: false, from: "waiting", reconciled: [] } });
    expect(decide(configOf(), j.state(), INPUT)).toMatchObject({ kind: "attempt", number: 2 });
  });

  it("an agent that cannot start blocks the task after one attempt, with no wait and no fallback, whatever the run chose", () => {
    const missing: Failure = { kind: "cannot_start", detail: "`./fixer.sh` is not in the task's worktree: commit it" };
    const j = new Journal().started(1).exited(1, missing).finished(1, "failed", missing);
    const chain = configOf({ labels: ["opus", "sonnet"], policy: recoveryPolicy({ cannot_start: "retry", crashed: "retry" }) });
    expect(decide(chain, j.state(chain), INPUT)).toEqual({ kind: "end", conclusion: { status: "blocked", reason: `cannot_start: ${missing.detail}` } });
  });

  it("a stall moves the chain on with a note written once, then stalls for good on the last link", () => {
    const config = configOf({ labels: ["opus", "sonnet"], limits: { ...LIMITS, stallAttempts: 1 } });
    const failed: Failure = { kind: "verify_failed", detail: "x" };
    const j = new Journal().started(1).exited(1).verified(1, [false]).finished(1, "failed", failed);
    expect(decide(config, j.state(config), INPUT)).toEqual({ kind: "note", message: "no progress for 1 attempts; switching to model sonnet" });
    j.add({ type: "run.noted", data: { message: "no progress for 1 attempts; switching to model sonnet" } });
    expect(decide(config, j.state(config), INPUT)).toMatchObject({ kind: "attempt", number: 2, link: 1, resumeSession: undefined });
    j.started(2, 1).exited(2).verified(2, [false]).finished(2, "failed", failed);
    expect(decide(config, j.state(config), INPUT)).toMatchObject({ kind: "end", conclusion: { status: "stalled" } });
  });

  it("an attempt cut short by an abort ends as the abort says; taken over later, the loop simply goes on", () => {
    const cut: Failure = { kind: "crashed", detail: "interrupted" };
    const j = new Journal().started(1).exited(1, cut, "aborted");
    const aborted = { ...INPUT, aborted: { reason: "interrupt" } };
    expect(decide(configOf(), j.state(), aborted)).toMatchObject({ kind: "fail-attempt", failure: cut });
    j.finished(1, "failed", cut);
    expect(decide(configOf(), j.state(), aborted)).toEqual({ kind: "end", conclusion: { status: "paused", reason: "interrupted (Ctrl-C or a second termination signal)" } });
    // No backoff and no verdict on the model: the next supervisor starts attempt 2 at once.
    expect(decide(configOf(), j.state(), INPUT)).toMatchObject({ kind: "attempt", number: 2 });
  });

  it("reopened with new limits, a task that ended on its attempt limit goes on with the next attempt and the same handoff", () => {
    const limited = configOf({ limits: { ...LIMITS, maxAttempts: 2, stallAttempts: 5 } });
    const failure: Failure = { kind: "verify_failed", detail: "`c0` failed; progress 0%" };
    const changes = { stat: " sum.js | 1 +", hunks: "diff --git a/sum.js b/sum.js" };
    const j = new Journal().started(1).exited(1).verified(1, [false]).finished(1, "failed", failure).started(2).exited(2).verified(2, [false]);
    j.add({ type: "attempt.finished", data: { outcome: "failed", progress: 0, failure, changes } }, 2);
    expect(decide(limited, j.state(limited), INPUT)).toMatchObject({ kind: "end", conclusion: { status: "failed", reason: "reached the limit of 2 attempts; best progress 0%" } });
    j.add({ type: "task.finished", data: { status: "failed", reason: "reached the limit of 2 attempts; best progress 0%" } });
    const handoffBefore = buildHandoff(j.state(limited).summaries);
    expect(handoffBefore).toContain("sum.js | 1 +");
    j.add({ type: "task.reopened", data: { to: "running", reason: "reached the limit of 2 attempts; best progress 0%" } });
    const more = configOf({ limits: { ...LIMITS, maxAttempts: 4, stallAttempts: 5 } });
    expect(decide(more, j.state(more), INPUT)).toMatchObject({ kind: "attempt", number: 3, handoff: handoffBefore });
  });

  it("a reverted success is no success: the loop goes on, told why", () => {
    const j = new Journal().started(1).exited(1).verified(1, [true]).finished(1, "succeeded");
    expect(successOf(j.state())?.commit).toBe("c1");
    j.add({ type: "task.reverted", data: { merge: "m", revert: "v", reason: "the run's criteria failed" } });
    expect(successOf(j.state())).toBeUndefined();
    expect(j.state().sentBack).toBe("the run's criteria failed");
    expect(decide(configOf(), j.state(), INPUT)).toMatchObject({ kind: "attempt", number: 2 });
  });

  it("tools denied twice below full permission block the task; at full they are granted once, then blocked if refused again", () => {
    const denied = (n: number) => new Journal().emitted(n, { type: "result", ok: true, deniedTools: ["Bash"] });
    const failed: Failure = { kind: "verify_failed", detail: "x" };
    const j = new Journal().started(1);
    j.events.push(...denied(1).events.map((e) => ({ ...e, seq: j.events.length + 1 })));
    j.exited(1).verified(1, [false]).finished(1, "failed", failed).started(2);
    j.events.push(...denied(2).events.map((e) => ({ ...e, seq: j.events.length + 1 })));
    j.exited(2).verified(2, [false]).finished(2, "failed", failed);
    expect(decide(configOf(), j.state(), INPUT)).toMatchObject({ kind: "end", conclusion: { status: "blocked", reason: expect.stringContaining("keeps needing Bash") } });
    const full = configOf({ permission: "full", limits: { ...LIMITS, stallAttempts: 5 } });
    expect(j.state(full).granted).toEqual(["Bash"]);
    // The grant is said in the journal before anything else happens.
    const grant = "allowing Bash from the next attempt on: the agent was denied them and the permission level is full";
    expect(decide(full, j.state(full), INPUT)).toEqual({ kind: "note", message: grant });
    j.add({ type: "run.noted", data: { message: grant } });
    expect(decide(full, j.state(full), INPUT)).toMatchObject({ kind: "end", conclusion: { status: "blocked", reason: expect.stringContaining("refused again although allowed") } });
  });

  it("a budget spent ends the task before another attempt, and the attempt limit before the time limit", () => {
    const spent = new Journal().started(1).add({ type: "attempt.exited", data: { exitCode: 0, signal: null, reason: "exited", durationMs: 1, costUsd: 2 } }, 1).verified(1, [false]);
    spent.finished(1, "failed", { kind: "verify_failed", detail: "x" });
    const config = configOf({ limits: { ...LIMITS, taskBudgetUsd: 1 } });
    expect(decide(config, spent.state(config), INPUT)).toEqual({ kind: "end", conclusion: { status: "failed", reason: "spent $2.00 of the task's $1.00 budget" } });
    const one = configOf({ limits: { ...LIMITS, maxAttempts: 1 } });
    expect(decide(one, spent.state(one), { ...INPUT, now: Number.MAX_SAFE_INTEGER })).toMatchObject({ kind: "end", conclusion: { reason: "reached the limit of 1 attempts; best progress 0%" } });
  });
});

describe("agent text lines superseding each other", () => {
  const text = (t: string) => ({ type: "agent.emitted" as const, at: 1, taskId: "t", attemptId: "r.t.1", data: { type: "text" as const, text: t } });
  it("of a run of text lines only the last one matters: folding it alone gives the same state as folding them all", () => {
    fc.assert(
      fc.property(fc.array(fc.string(), { minLength: 1, maxLength: 20 }), fc.boolean(), (lines, running) => {
        const config = configOf();
        const start = running ? new Journal().started(1).emitted(1, { type: "tool.called", name: "Bash", summary: "ls" }).state() : initialLoop(config);
        const events = lines.map(text);
        for (const [i, later] of events.slice(1).entries()) expect(supersededBy(events[i] ?? later, later)).toBe(true);
        expect(replay(config, [events.at(-1) ?? text("")], start)).toEqual(replay(config, events, start));
      }),
    );
  });

  it("nothing else supersedes or is superseded: tool calls, results, another attempt's text", () => {
    const tool = { type: "agent.emitted" as const, at: 1, taskId: "t", attemptId: "r.t.1", data: { type: "tool.called" as const, name: "Bash", summary: "ls" } };
    expect(supersededBy(text("a"), tool)).toBe(false);
    expect(supersededBy(tool, text("a"))).toBe(false);
    expect(supersededBy(text("a"), { ...text("b"), attemptId: "r.t.2" })).toBe(false);
    expect(supersededBy(text("a"), { type: "attempt.exited", at: 1, taskId: "t", attemptId: "r.t.1", data: { exitCode: 0, signal: null, reason: "exited", durationMs: 1 } })).toBe(false);
  });
});

// ---- the model: random loops, driven by a scripted interpreter, cut after every write -----------------------------

type AttemptScript =
  | { end: "clean"; passes: boolean[]; actions: number; session: boolean; denied: string[]; costUsd: number }
  | { end: "failure"; kind: FailureKind; resetInMs: number | undefined; actions: number; session: boolean };

/** What a reviewer's attempt does: answers with a verdict, answers with no verdict, or fails as an agent fails. */
type ReviewScript =
  | { end: "answer"; verdict: "approve" | "request_changes"; severities: ("P0" | "P1" | "P2" | "P3")[] }
  | { end: "garbage" }
  | { end: "failure"; kind: FailureKind };

interface World {
  config: LoopConfig;
  /** Attempt n plays `attempts[(n - 1) % length]`. */
  attempts: AttemptScript[];
  /** Reviewer attempt n plays `reviews[(n - 1) % length]` (when the config has reviews). */
  reviews: ReviewScript[];
  /** A stop request (or an abort) arrives once the journal holds this many events. */
  stopAfter: number | undefined;
  stopMode: "stop" | "pause";
  abortAfter: number | undefined;
  abortReason: "interrupt" | "abort" | "deadline";
}

/** A run of the scripted interpreter: its journal, grouped by write (a cut falls between writes), and its end. */
interface Driven {
  writes: StoredEvent[][];
  conclusion: TaskConclusion;
  steps: LoopStep[];
}

const AGENT_KINDS = FAILURE_KINDS.filter((k) => k !== "verify_failed" && k !== "verify_error");
const arbAttempt: fc.Arbitrary<AttemptScript> = fc.oneof(
  fc.record({
    end: fc.constant("clean" as const),
    passes: fc.array(fc.boolean(), { minLength: 1, maxLength: 3 }),
    actions: fc.nat(3),
    session: fc.boolean(),
    denied: fc.constantFrom<string[]>([], ["Bash"]),
    costUsd: fc.constantFrom(0, 0.4),
  }),
  fc.record({
    end: fc.constant("failure" as const),
    kind: fc.constantFrom(...AGENT_KINDS),
    resetInMs: fc.option(fc.nat(20_000), { nil: undefined }),
    actions: fc.nat(2),
    session: fc.boolean(),
  }),
);
const arbReview: fc.Arbitrary<ReviewScript> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ end: fc.constant("answer" as const), verdict: fc.constantFrom<"approve" | "request_changes">("approve", "request_changes"), severities: fc.array(fc.constantFrom<"P0" | "P1" | "P2" | "P3">("P0", "P1", "P2", "P3"), { maxLength: 3 }) }) },
  { weight: 1, arbitrary: fc.constant({ end: "garbage" as const }) },
  { weight: 1, arbitrary: fc.record({ end: fc.constant("failure" as const), kind: fc.constantFrom<FailureKind>("crashed", "hung", "rate_limited", "timeout") }) },
);
const arbWorld: fc.Arbitrary<World> = fc
  .record({
    attempts: fc.array(arbAttempt, { minLength: 1, maxLength: 6 }),
    reviews: fc.array(arbReview, { minLength: 1, maxLength: 5 }),
    reviewRounds: fc.option(fc.integer({ min: 1, max: 3 }), { nil: undefined }),
    criteria: fc.integer({ min: 1, max: 3 }),
    links: fc.integer({ min: 1, max: 3 }),
    maxAttempts: fc.integer({ min: 1, max: 8 }),
    stallAttempts: fc.integer({ min: 1, max: 3 }),
    intervalMs: fc.constantFrom(0, 500),
    taskBudgetUsd: fc.option(fc.constantFrom(0.5, 1), { nil: undefined }),
    permission: fc.constantFrom<Permission>("read-only", "workspace-write", "full"),
    overrides: fc.dictionary(fc.constantFrom("rate_limited", "overloaded", "crashed", "hung"), fc.constantFrom("retry", "fallback", "escalate") as fc.Arbitrary<"retry" | "fallback" | "escalate">),
    stopAfter: fc.option(fc.integer({ min: 1, max: 60 }), { nil: undefined }),
    stopMode: fc.constantFrom<"stop" | "pause">("stop", "pause"),
    abortAfter: fc.option(fc.integer({ min: 1, max: 60 }), { nil: undefined }),
    abortReason: fc.constantFrom<"interrupt" | "abort" | "deadline">("interrupt", "abort", "deadline"),
  })
  .map((w) => ({
    config: configOf({
      criteria: Array.from({ length: w.criteria }, (_, i) => `c${i}`),
      labels: Array.from({ length: w.links }, (_, i) => `m${i}`),
      limits: { ...LIMITS, maxAttempts: w.maxAttempts, stallAttempts: w.stallAttempts, intervalMs: w.intervalMs, taskBudgetUsd: w.taskBudgetUsd },
      breaker: { failures: 2, cooldownMs: 5_000 },
      policy: recoveryPolicy(w.overrides),
      permission: w.permission,
      linkOf: () => 0,
      review: w.reviewRounds !== undefined ? { maxRounds: w.reviewRounds } : undefined,
    }),
    attempts: w.attempts,
    reviews: w.reviews,
    stopAfter: w.stopAfter,
    stopMode: w.stopMode,
    abortAfter: w.abortAfter,
    abortReason: w.abortReason,
  }));

const STEP_BOUND = 400;

/**
 * Drives the loop from `writes` (a journal prefix, already folded into `state`) to its end, as the engine's
 * interpreter would, with the world's agents and verify commands. Everything it does is a function of the journal:
 * the clock goes on from the last event's time, the random draw is the journal's length hashed.
 */
function drive(world: World, prefix: readonly StoredEvent[][]): Driven {
  const { config } = world;
  const writes = prefix.map((w) => [...w]);
  const all = () => writes.flat();
  let state = replay(config, all());
  let clock = all().at(-1)?.at ?? 0;
  const steps: LoopStep[] = [];
  const write = (...bodies: (EventBody & { attemptId?: string })[]) => {
    const group = bodies.map((body, i): StoredEvent => ({ ...body, runId: "r", taskId: "t", seq: all().length + i + 1, at: (clock += 7) }) as StoredEvent);
    writes.push(group);
    for (const event of group) state = evolve(config, state, event);
  };
  for (let n = 0; n < STEP_BOUND; n++) {
    const count = all().length;
    const input: LoopInput = {
      now: clock,
      random: ((count * 2_654_435_761) % 1_000) / 1_000,
      deadline: Number.MAX_SAFE_INTEGER,
      stopRequested: world.stopAfter !== undefined && count >= world.stopAfter ? world.stopMode : undefined,
      aborted: world.abortAfter !== undefined && count >= world.abortAfter ? { reason: world.abortReason } : undefined,
      runSpent: { usd: state.spent.usd, tokens: state.spent.tokens },
    };
    const step = decide(config, state, input);
    steps.push(step);
    const before = state;
    switch (step.kind) {
      case "end":
        return { writes, conclusion: step.conclusion, steps };
      case "note":
        write({ type: "run.noted", data: { message: step.message } });
        break;
      case "wait":
        write({ type: "task.waited", data: { delayMs: step.delayMs, until: step.until, reason: step.reason } });
        break;
      case "sleep":
        expect(step.until).toBeGreaterThan(clock);
        clock = step.until;
        continue;
      case "attempt":
        playAttempt(world, step, input, write, () => clock);
        break;
      case "verify": {
        const script = scriptOf(world, step.number);
        const passes = script.end === "clean" ? config.criteria.map((_, i) => script.passes[i % script.passes.length] ?? false) : [];
        const criteria = passes.map((p, i): CriterionResult => ({ command: `c${i}`, exitCode: p ? 0 : 1, passed: p, score: p ? 1 : 0, durationMs: 1, timedOut: false, outputTail: "" }));
        write({ type: "verify.completed", attemptId: step.attemptId, data: { criteria, progress: passes.filter(Boolean).length / passes.length } });
        break;
      }
      case "commit":
        write({ type: "attempt.finished", attemptId: step.attemptId, data: { outcome: "succeeded", progress: 1, commit: `commit-of-${step.attemptId}`, ...(step.review ? { awaitsReview: true } : {}) } });
        break;
      case "review":
        playReview(world, step, input, write);
        break;
      case "judge":
        write({ type: "attempt.finished", attemptId: step.attemptId, data: { outcome: "succeeded", progress: 1, commit: step.record.commit, review: step.record } });
        break;
      case "fail-attempt":
        write({ type: "attempt.finished", attemptId: step.attemptId, data: { outcome: "failed", progress: step.progress, failure: step.failure } });
        break;
    }
    // Every step but a sleep journals something, which changes the state: no step is chosen twice for one event.
    expect(state).not.toBe(before);
  }
  throw new Error(`the loop did not end within ${STEP_BOUND} steps`);
}

function scriptOf(world: World, number: number): AttemptScript {
  const script = world.attempts[(number - 1) % world.attempts.length];
  if (script === undefined) throw new Error("no attempt script");
  return script;
}

/** One attempt's events, as the agent and runAttempt would journal them: the start (with a switch note), output, exit. */
function playAttempt(world: World, step: Extract<LoopStep, { kind: "attempt" }>, input: LoopInput, write: (...bodies: (EventBody & { attemptId?: string })[]) => void, now: () => number) {
  const attemptId = `r.t.${step.number}`;
  const script = scriptOf(world, step.number);
  const started: EventBody & { attemptId: string } = {
    type: "attempt.started",
    attemptId,
    data: { number: step.number, agent: "agent", model: `m${step.link}`, transcript: "", link: step.link, ...(step.resumeSession ? { resumedSession: step.resumeSession } : {}) },
  };
  if (step.switched !== undefined) write({ type: "run.noted", data: { message: step.switched } }, started);
  else write(started);
  if (script.session) write({ type: "agent.emitted", attemptId, data: { type: "session.started", sessionId: `s${step.number}` } });
  for (let i = 0; i < script.actions; i++) write({ type: "agent.emitted", attemptId, data: { type: "tool.called", name: "Bash", summary: `step ${i}` } });
  if (input.aborted !== undefined) {
    write({ type: "attempt.exited", attemptId, data: { exitCode: null, signal: "SIGTERM", reason: "aborted", durationMs: 5, failure: { kind: "crashed", detail: "stopped from outside" } } });
    return;
  }
  if (script.end === "clean") {
    write({ type: "agent.emitted", attemptId, data: { type: "result", ok: true, deniedTools: script.denied } });
    write({ type: "attempt.exited", attemptId, data: { exitCode: 0, signal: null, reason: "exited", durationMs: 5, costUsd: script.costUsd } });
    return;
  }
  const failure: Failure = { kind: script.kind, detail: `${script.kind} in attempt ${step.number}`, ...(script.resetInMs !== undefined ? { resetAt: now() + script.resetInMs } : {}) };
  write({ type: "attempt.exited", attemptId, data: { exitCode: 1, signal: null, reason: "exited", durationMs: 5, failure } });
}

/** A reviewer's attempt, as runAttempt journals it: the start (role and commit), its answer as text, the exit. */
function playReview(world: World, step: Extract<LoopStep, { kind: "review" }>, input: LoopInput, write: (...bodies: (EventBody & { attemptId?: string })[]) => void) {
  const attemptId = `r.t.r${step.number}`;
  const script = world.reviews[(step.number - 1) % world.reviews.length];
  if (script === undefined) throw new Error("no review script");
  write({ type: "attempt.started", attemptId, data: { number: step.number, agent: "reviewer", model: "other", transcript: "", role: "reviewer", reviews: step.due.commit } });
  if (input.aborted !== undefined) {
    write({ type: "attempt.exited", attemptId, data: { exitCode: null, signal: "SIGTERM", reason: "aborted", durationMs: 5, failure: { kind: "crashed", detail: "stopped from outside" } } });
    return;
  }
  if (script.end === "failure") {
    write({ type: "attempt.exited", attemptId, data: { exitCode: 1, signal: null, reason: "exited", durationMs: 5, failure: { kind: script.kind, detail: `${script.kind} in review ${step.number}` } } });
    return;
  }
  const findings = script.end === "answer" ? script.severities.map((severity, i) => ({ file: `f${i}.ts`, startLine: i + 1, severity, confidence: 0.5, what: "w", why: "y" })) : [];
  const text = script.end === "answer" ? `Reviewed.\n\`\`\`json\n${JSON.stringify({ verdict: script.verdict, summary: "s", findings })}\n\`\`\`` : "Looks fine to me!";
  write({ type: "agent.emitted", attemptId, data: { type: "text", text } });
  write({ type: "attempt.exited", attemptId, data: { exitCode: 0, signal: null, reason: "exited", durationMs: 5 } });
}

/** A supervisor that died inside an attempt: the takeover closes it as cut short, as reconcile does. */
function closeOpenAttempt(config: LoopConfig, prefix: StoredEvent[][]): StoredEvent[][] {
  const state = replay(config, prefix.flat());
  if (state.phase.kind !== "running") return prefix;
  const last = prefix.flat().at(-1);
  const ids = { runId: "r", taskId: "t", attemptId: state.phase.attempt.id, at: (last?.at ?? 0) + 1 };
  const failure: Failure = { kind: "crashed", detail: "the supervisor died while the agent worked" };
  const seq = prefix.flat().length;
  return [
    ...prefix,
    [
      { type: "attempt.exited", ...ids, seq: seq + 1, data: { exitCode: null, signal: null, reason: "orphaned", durationMs: 1, failure } },
      { type: "attempt.finished", ...ids, seq: seq + 2, data: { outcome: "failed", progress: 0, failure } },
    ],
  ];
}

const strip = (writes: readonly StoredEvent[][]) => writes.flat().map(({ seq: _seq, ...event }) => event);

describe("the task loop's fold, cut after every write (model-based)", () => {
  it("replayed from any prefix between steps, decide goes on to the same end with the same events", () => {
    fc.assert(
      fc.property(arbWorld, (world) => {
        const whole = drive(world, []);
        // One write per step ends a step's journal except an attempt's, which runs from its start to its exit.
        for (let cut = 0; cut <= whole.writes.length; cut++) {
          const prefix = whole.writes.slice(0, cut);
          const open = replay(world.config, prefix.flat()).phase.kind === "running";
          if (open) continue;
          const resumed = drive(world, prefix);
          expect(resumed.conclusion).toEqual(whole.conclusion);
          expect(strip(resumed.writes)).toEqual(strip(whole.writes));
        }
      }),
      { numRuns: 300 },
    );
  });

  it("cut inside an attempt and closed as a takeover closes it, the loop still ends, never repeating a step or an attempt number", () => {
    fc.assert(
      fc.property(arbWorld, (world) => {
        const whole = drive(world, []);
        for (let cut = 1; cut <= whole.writes.length; cut++) {
          const prefix = whole.writes.slice(0, cut);
          if (replay(world.config, prefix.flat()).phase.kind !== "running") continue;
          const resumed = drive(world, closeOpenAttempt(world.config, prefix));
          const numbers = resumed.writes.flat().flatMap((e) => (e.type === "attempt.started" && e.data.role === undefined ? [e.data.number] : []));
          expect(new Set(numbers).size).toBe(numbers.length);
          expect(numbers).toEqual(numbers.map((_, i) => i + 1));
          const finishes = resumed.writes.flat().filter((e) => e.type === "attempt.finished").map((e) => e.attemptId);
          expect(new Set(finishes).size).toBe(finishes.length);
          expect(numbers.length).toBeLessThanOrEqual(world.config.limits.maxAttempts);
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe("reviews in the task loop's fold (model-based)", () => {
  const reviewed = arbWorld.filter((w) => w.config.review !== undefined);

  it("a task with reviews succeeds only on an approval that parsed, of the very commit it ends with; never in more rounds than allowed", () => {
    fc.assert(
      fc.property(reviewed, (world) => {
        const { writes, conclusion } = drive(world, []);
        const events = writes.flat();
        const verdicts = events.flatMap((e) => (e.type === "attempt.finished" && e.data.review !== undefined ? [e.data.review] : []));
        for (const record of verdicts) expect(record.round).toBeLessThanOrEqual(world.config.review?.maxRounds ?? 0);
        // A reviewer's success always carries its verdict: a review that gave none is a failed attempt.
        const reviewerIds = new Set(events.flatMap((e) => (e.type === "attempt.started" && e.data.role === "reviewer" ? [e.attemptId] : [])));
        for (const e of events) if (e.type === "attempt.finished" && reviewerIds.has(e.attemptId) && e.data.outcome === "succeeded") expect(e.data.review).toBeDefined();
        if (conclusion.status !== "succeeded") return;
        const last = verdicts.at(-1);
        expect(last?.approved).toBe(true);
        expect(last?.commit).toBe(conclusion.commit);
        // The commit approved is the one the reviewer was started on.
        const started = events.filter((e) => e.type === "attempt.started" && e.data.role === "reviewer").at(-1);
        expect(started?.type === "attempt.started" && started.data.reviews).toBe(conclusion.commit);
      }),
      { numRuns: 300 },
    );
  });

  it("changes requested go back to the implementer with the findings in the handoff; from round 2 only P0–P1 block", () => {
    const config = configOf({ review: { maxRounds: 3 } });
    const j = new Journal().started(1).exited(1).verified(1, [true]);
    j.add({ type: "attempt.finished", data: { outcome: "succeeded", progress: 1, commit: "c1", awaitsReview: true } }, 1);
    expect(decide(config, j.state(config), INPUT)).toMatchObject({ kind: "review", number: 1, due: { commit: "c1", attempt: 1, round: 1 }, earlier: [] });
    const review = (n: number, text: string) => {
      j.events.push({ type: "attempt.started", data: { number: n, agent: "codex", model: "gpt", transcript: "", role: "reviewer", reviews: "c1" }, seq: j.events.length + 1, at: 2_000 + n, runId: "r", taskId: "t", attemptId: `r.t.r${n}` } as StoredEvent);
      j.events.push({ type: "agent.emitted", data: { type: "text", text }, seq: j.events.length + 1, at: 2_000 + n, runId: "r", taskId: "t", attemptId: `r.t.r${n}` } as StoredEvent);
      j.events.push({ type: "attempt.exited", data: { exitCode: 0, signal: null, reason: "exited", durationMs: 1 }, seq: j.events.length + 1, at: 2_000 + n, runId: "r", taskId: "t", attemptId: `r.t.r${n}` } as StoredEvent);
    };
    const finding = (severity: string) => ({ file: "src/sum.js", startLine: 3, endLine: 4, severity, confidence: 0.9, what: "adds wrong", why: "off by one" });
    review(1, JSON.stringify({ verdict: "request_changes", summary: "one bug", findings: [finding("P1")] }));
    const judged = decide(config, j.state(config), INPUT);
    expect(judged).toMatchObject({ kind: "judge", attemptId: "r.t.r1", record: { commit: "c1", round: 1, approved: false } });
    if (judged.kind !== "judge") return;
    j.add({ type: "attempt.finished", data: { outcome: "succeeded", progress: 1, commit: "c1", review: judged.record } }, undefined);
    j.events[j.events.length - 1] = { ...j.events[j.events.length - 1], attemptId: "r.t.r1" } as StoredEvent;
    const next = decide(config, j.state(config), INPUT);
    expect(next).toMatchObject({ kind: "attempt", number: 2 });
    expect(next.kind === "attempt" && next.handoff).toContain("P1 src/sum.js:3-4 (confidence 0.9): adds wrong — off by one");
    // Round 2: a P2 alone does not block; the commit is approved.
    j.started(2).exited(2).verified(2, [true]);
    j.add({ type: "attempt.finished", data: { outcome: "succeeded", progress: 1, commit: "c2", awaitsReview: true } }, 2);
    const second = decide(config, j.state(config), INPUT);
    expect(second).toMatchObject({ kind: "review", number: 2, due: { commit: "c2", round: 2 }, earlier: [{ severity: "P1" }] });
  });

  it("an answer that is no verdict fails the review; three in a row escalate the task, and no approval ever comes of them", () => {
    const config = configOf({ review: { maxRounds: 3 } });
    const j = new Journal().started(1).exited(1).verified(1, [true]);
    j.add({ type: "attempt.finished", data: { outcome: "succeeded", progress: 1, commit: "c1", awaitsReview: true } }, 1);
    let at = 5_000;
    for (let n = 1; n <= 3; n++) {
      const id = `r.t.r${n}`;
      const push = (body: EventBody) => j.events.push({ ...body, seq: j.events.length + 1, at: (at += 10), runId: "r", taskId: "t", attemptId: id } as StoredEvent);
      push({ type: "attempt.started", data: { number: n, agent: "codex", transcript: "", role: "reviewer", reviews: "c1" } });
      push({ type: "agent.emitted", data: { type: "text", text: "LGTM" } });
      push({ type: "attempt.exited", data: { exitCode: 0, signal: null, reason: "exited", durationMs: 1 } });
      const step = decide(config, j.state(config), { ...INPUT, now: at });
      expect(step).toMatchObject({ kind: "fail-attempt", failure: { kind: "bad_output" } });
      if (step.kind !== "fail-attempt") return;
      push({ type: "attempt.finished", data: { outcome: "failed", progress: 0, failure: step.failure } });
    }
    expect(decide(config, j.state(config), { ...INPUT, now: Number.MAX_SAFE_INTEGER })).toMatchObject({ kind: "end", conclusion: { status: "blocked", reason: expect.stringContaining("the review of c1 failed 3 times") } });
    expect(successOf(j.state(config))).toBeUndefined();
  });
});
