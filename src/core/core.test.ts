import { describe, expect, it } from "vitest";
import { transitionAttempt, type AttemptState } from "./attempt.js";
import { formatDuration, formatTimestamp, parseDuration } from "./duration.js";
import { backoffDelay, retryDelay, tierOf, FAILURE_KINDS, type FailureKind } from "./failure.js";
import { describeFigures, PACING_REASON, recoveryFigures } from "./figures.js";
import { allows, atStart, CLOSED, countsAgainstModel, recordFailure, recordSuccess } from "./circuit.js";
import { recoveryPolicy } from "./recovery-policy.js";
import { budgetLeft, spentBudget, type Spent } from "./budget.js";
import { buildHandoff, type AttemptSummary } from "./handoff.js";
import { attemptsWithoutRise, isStalled, progressOf } from "./progress.js";
import { buildPrompt } from "./prompt.js";
import { InvalidTransitionError, transitionRun, type RunState } from "./run.js";
import { transitionTask } from "./task.js";
import { slugify, summarizeList, tailLines } from "./text.js";

describe("run transitions", () => {
  const pending: RunState = { status: "pending" };
  it("goes pending → running → finished and keeps the start time", () => {
    const running = transitionRun(pending, { type: "run.started", at: 10 });
    expect(running).toEqual({ status: "running", startedAt: 10 });
    expect(transitionRun(running, { type: "run.finished", at: 20, status: "succeeded", reason: "done" })).toEqual({
      status: "succeeded",
      startedAt: 10,
      endedAt: 20,
      reason: "done",
    });
  });
  it("refuses to leave a terminal state or to start twice", () => {
    const done = transitionRun(pending, { type: "run.finished", at: 1, status: "aborted", reason: "x" });
    expect(() => transitionRun(done, { type: "run.started", at: 2 })).toThrow(InvalidTransitionError);
    const running = transitionRun(pending, { type: "run.started", at: 1 });
    expect(() => transitionRun(running, { type: "run.started", at: 2 })).toThrow(/cannot take run.started while running/);
  });
  it("keeps a stop request across waiting and lets abort override stop", () => {
    let s = transitionRun(pending, { type: "run.started", at: 1 });
    s = transitionRun(s, { type: "run.stop-requested", at: 2, mode: "stop" });
    s = transitionRun(s, { type: "run.waiting", at: 3, reason: "credentials" });
    expect(s).toEqual({ status: "waiting", startedAt: 1, reason: "credentials", stopRequested: "stop" });
    s = transitionRun(s, { type: "run.stop-requested", at: 4, mode: "abort" });
    s = transitionRun(s, { type: "run.stop-requested", at: 5, mode: "stop" });
    expect("stopRequested" in s && s.stopRequested).toBe("abort");
  });
});

describe("reopening with new limits", () => {
  const ended = (status: "failed" | "stopped" | "succeeded" | "aborted" | "stalled"): RunState => ({ status, startedAt: 5, endedAt: 9, reason: "x" });
  it("reopens a run that failed or was stopped as paused, keeping its start; a live run only takes the limits", () => {
    expect(transitionRun(ended("failed"), { type: "run.extended", at: 10, reason: "more" })).toEqual({ status: "paused", startedAt: 5, reason: "more" });
    expect(transitionRun(ended("stopped"), { type: "run.extended", at: 10, reason: "more" })).toMatchObject({ status: "paused" });
    const paused: RunState = { status: "paused", startedAt: 1, reason: "p" };
    expect(transitionRun(paused, { type: "run.extended", at: 10, reason: "more" })).toBe(paused);
  });
  it("refuses to reopen a run that succeeded, stalled or was aborted", () => {
    for (const status of ["succeeded", "stalled", "aborted"] as const) {
      expect(() => transitionRun(ended(status), { type: "run.extended", at: 10, reason: "more" })).toThrow(/cannot take run.extended/);
    }
  });
  it("reopens an ended task that did not succeed: running if it had started, pending if asked", () => {
    const failed = transitionTask({ status: "running", startedAt: 3 }, { type: "task.finished", at: 4, status: "failed", reason: "limit" });
    expect(transitionTask(failed, { type: "task.reopened", at: 5, to: "running" })).toEqual({ status: "running", startedAt: 3 });
    const blocked = transitionTask({ status: "pending" }, { type: "task.finished", at: 4, status: "blocked", reason: "dep" });
    expect(transitionTask(blocked, { type: "task.reopened", at: 5, to: "pending" })).toEqual({ status: "pending" });
    expect(() => transitionTask(blocked, { type: "task.reopened", at: 5, to: "running" })).toThrow(InvalidTransitionError);
    const running = transitionTask({ status: "pending" }, { type: "task.started", at: 1 });
    expect(() => transitionTask(running, { type: "task.reopened", at: 5, to: "running" })).toThrow(InvalidTransitionError);
    const done = transitionTask(running, { type: "task.finished", at: 2, status: "succeeded", reason: "ok", commit: "abc" });
    expect(() => transitionTask(done, { type: "task.reopened", at: 5, to: "running" })).toThrow(/cannot take task.reopened while succeeded/);
  });
});

describe("task transitions", () => {
  it("needs a commit to succeed and a start to have run", () => {
    const running = transitionTask({ status: "pending" }, { type: "task.started", at: 1 });
    expect(() => transitionTask(running, { type: "task.finished", at: 2, status: "succeeded", reason: "ok" })).toThrow(InvalidTransitionError);
    expect(transitionTask(running, { type: "task.finished", at: 2, status: "succeeded", reason: "ok", commit: "abc" })).toMatchObject({
      status: "succeeded",
      commit: "abc",
    });
    expect(transitionTask({ status: "pending" }, { type: "task.finished", at: 2, status: "stopped", reason: "stop" })).toEqual({
      status: "stopped",
      endedAt: 2,
      reason: "stop",
    });
  });
});

describe("attempt transitions", () => {
  const starting: AttemptState = { status: "starting", startedAt: 0 };
  it("only succeeds after verification", () => {
    const running = transitionAttempt(starting, { type: "attempt.spawned", at: 1, pid: 9 });
    expect(() => transitionAttempt(running, { type: "attempt.finished", at: 2, outcome: "succeeded", progress: 1 })).toThrow(InvalidTransitionError);
    const verifying = transitionAttempt(running, { type: "attempt.exited", at: 2 });
    expect(verifying.status).toBe("verifying");
    expect(transitionAttempt(verifying, { type: "attempt.finished", at: 3, outcome: "succeeded", progress: 1 }).status).toBe("succeeded");
  });
  it("fails at exit with the failure kept, and a failed finish needs a failure", () => {
    const failed = transitionAttempt(starting, { type: "attempt.exited", at: 1, failure: { kind: "crashed", detail: "ENOENT" } });
    expect(failed).toMatchObject({ status: "failed", failure: { kind: "crashed" } });
    const verifying = transitionAttempt({ status: "running", startedAt: 0, pid: 1 }, { type: "attempt.exited", at: 1 });
    expect(() => transitionAttempt(verifying, { type: "attempt.finished", at: 2, outcome: "failed", progress: 0.5 })).toThrow(InvalidTransitionError);
  });
});

describe("failure tiers and backoff", () => {
  it("puts every kind in a tier", () => {
    for (const kind of FAILURE_KINDS) expect(["retry", "fallback", "escalate"]).toContain(tierOf(kind));
    expect(tierOf("auth_failed")).toBe("escalate");
    expect(tierOf("rate_limited")).toBe("retry");
    expect(tierOf("overloaded")).toBe("fallback");
  });
  it("doubles from 2 s with jitter and a cap", () => {
    expect(backoffDelay(1, 0)).toBe(1_000);
    expect(backoffDelay(1, 1)).toBe(2_000);
    expect(backoffDelay(3, 1)).toBe(8_000);
    expect(backoffDelay(30, 1)).toBe(300_000);
  });
  it("sleeps until a reported reset instead of guessing", () => {
    expect(retryDelay({ kind: "rate_limited", detail: "", resetAt: 60_000 }, 1, 10_000, 0.5)).toBe(50_000);
    expect(retryDelay({ kind: "verify_failed", detail: "" }, 4, 0, 0.5)).toBe(0);
  });
  it("a reset sooner than the backoff is honoured the first time, and paced by the backoff after that", () => {
    const soon = { kind: "rate_limited" as const, detail: "", resetAt: 10_500 };
    expect(retryDelay(soon, 1, 10_000, 1)).toBe(500);
    expect(retryDelay(soon, 2, 10_000, 1)).toBe(4_000);
    expect(retryDelay(soon, 3, 10_000, 0)).toBe(4_000);
    // A far reset still wins.
    expect(retryDelay({ ...soon, resetAt: 3_600_000 }, 5, 0, 1)).toBe(3_600_000);
  });
});

describe("durations", () => {
  it("parses what users type", () => {
    expect(parseDuration("30s")).toBe(30_000);
    expect(parseDuration("5m")).toBe(300_000);
    expect(parseDuration("1h30m")).toBe(5_400_000);
    expect(parseDuration("250ms")).toBe(250);
    expect(parseDuration("2")).toBe(2_000);
    expect(parseDuration("1.5h")).toBe(5_400_000);
  });
  it("rejects what is not a duration", () => {
    for (const bad of ["", "abc", "5x", "m5", "-3s", "5m junk"]) expect(parseDuration(bad)).toBeUndefined();
  });
  it("prints durations and clocks", () => {
    expect(formatDuration(350)).toBe("350ms");
    expect(formatDuration(65_000)).toBe("1m 05s");
    expect(formatDuration(3_723_000)).toBe("1h 02m");
    expect(formatTimestamp(Date.UTC(2026, 11, 7, 0, 0, 4))).toBe("2026-12-07 00:00:04Z");
    expect(formatTimestamp(Date.UTC(2026, 11, 7, 13, 5, 59, 999), { zone: false })).toBe("2026-12-07 13:05:59");
  });
});

describe("progress and stall detection", () => {
  it("averages criterion scores", () => {
    expect(progressOf([])).toBe(0);
    expect(progressOf([1, 0.5])).toBe(0.75);
  });
  it("counts attempts that did not raise the best figure", () => {
    expect(attemptsWithoutRise([0, 0, 0])).toBe(3);
    expect(attemptsWithoutRise([0.5, 0.5, 0.5])).toBe(2);
    expect(attemptsWithoutRise([0.5, 0.2, 0.5])).toBe(2);
    expect(attemptsWithoutRise([0.2, 0.5])).toBe(0);
    expect(isStalled([0, 0, 0], 3)).toBe(true);
    expect(isStalled([0.5, 0.5, 0.5], 3)).toBe(false);
    expect(isStalled([0.5, 0.5, 0.5, 0.4], 3)).toBe(true);
  });
});

describe("handoff", () => {
  const failing = (n: number, output: string): AttemptSummary => ({
    number: n,
    agent: "claude-code",
    model: "m",
    failure: { kind: "verify_failed", detail: "npm test failed" },
    criteria: [
      { command: "npm test", exitCode: 1, passed: false, score: 0.5, durationMs: 10, timedOut: false, outputTail: output, tests: { passed: 1, failed: 1, skipped: 0, total: 2, runner: "vitest" } },
      { command: "tsc --noEmit", exitCode: 0, passed: true, score: 1, durationMs: 10, timedOut: false, outputTail: "" },
    ],
    finalText: `I changed sum.js (attempt ${n})`,
    actions: ["Write src/sum.js", "Bash npm test", "Bash npm test"],
    progress: 0.75,
  });
  it("is empty before the first attempt", () => {
    expect(buildHandoff([])).toBe("");
  });
  it("shows the newest failure's output and what was tried", () => {
    const text = buildHandoff([failing(1, "old output"), failing(2, "expected 3, got 2")]);
    expect(text).toContain("Earlier attempts on this task: 2");
    expect(text).toContain("### Attempt 2 (claude-code, m)");
    expect(text).toContain("expected 3, got 2");
    expect(text).not.toContain("old output");
    expect(text).toContain("criteria met 1/2");
    expect(text).toContain("- Bash npm test");
    expect(text.match(/Bash npm test/g)?.length).toBe(2); // repeated calls collapse within one attempt
  });
  it("tells the next attempt which tools it was refused", () => {
    const text = buildHandoff([{ ...failing(1, "out"), deniedTools: ["WebFetch", "WebSearch"] }]);
    expect(text).toContain("Tools it was refused (not allowed in this run; do the work without them): WebFetch, WebSearch");
    expect(buildHandoff([failing(1, "out")])).not.toContain("refused");
  });
  it("shows what the newest failed attempt changed, after its verify output, and only for it", () => {
    const changes = { stat: " src/sum.js | 2 +-\n 1 file changed", hunks: "diff --git a/src/sum.js b/src/sum.js\n@@ -1 +1 @@\n-a\n+b" };
    const text = buildHandoff([{ ...failing(1, "one"), changes: { stat: " old.js | 1 +", hunks: "" } }, { ...failing(2, "expected 3, got 2"), changes }]);
    expect(text).toContain("What it changed (the worktree against its last commit; the changes are still there):\n```\n src/sum.js | 2 +-\n 1 file changed\n```");
    expect(text).toContain("The most relevant hunks:\n```diff\ndiff --git a/src/sum.js b/src/sum.js");
    expect(text.indexOf("expected 3, got 2")).toBeLessThan(text.indexOf("What it changed"));
    expect(text).not.toContain("old.js");
  });
  it("stays bounded however long the output and history", () => {
    const huge = Array.from({ length: 5_000 }, (_, i) => `line ${i} ${"x".repeat(50)}`).join("\n");
    const history = Array.from({ length: 40 }, (_, i) => failing(i + 1, huge));
    const text = buildHandoff(history);
    expect(text.length).toBeLessThanOrEqual(12_100);
    expect(text).toContain("line 4999");
    expect(text).toContain("- Attempt 1:");
  });
});

describe("prompt and text helpers", () => {
  it("puts goal, criteria and handoff in the prompt", () => {
    const p = buildPrompt({ goal: "fix it", criteria: ["npm test"], attempt: 2, maxAttempts: 5, handoff: "HANDOFF" });
    expect(p).toContain("# Goal\nfix it");
    expect(p).toContain("- `npm test`");
    expect(p).toContain("attempt 2 of at most 5");
    expect(p).toContain("HANDOFF");
    expect(buildPrompt({ goal: "g", criteria: [], attempt: 1, maxAttempts: 1, handoff: "" })).not.toContain("Earlier attempts");
  });
  it("slugifies for branch names", () => {
    expect(slugify("Make the failing tests pass!")).toBe("make-the-failing-tests-pass");
    expect(slugify("Ünïcödé & symbols")).toBe("unicode-symbols");
    expect(slugify("a very long goal that goes on and on and on forever", 20).length).toBeLessThanOrEqual(20);
    expect(slugify("!!!")).toBe("");
  });
  it("keeps the tail of long output", () => {
    expect(tailLines("a\nb\nc\nd", 2, 100)).toBe("[… 2 earlier lines cut]\nc\nd");
    expect(tailLines("short", 10, 100)).toBe("short");
  });
});

describe("recovery figures", () => {
  const attempt = (taskId: string, number: number, failure?: FailureKind, apiRetries = 0) => ({ taskId, number, failure, apiRetries });
  it("counts failures by kind, recovered vs escalated, waits on limits and retry calls", () => {
    const figures = recoveryFigures(
      [
        attempt("a", 1, "rate_limited", 2),
        attempt("a", 2, "verify_failed"),
        attempt("a", 3, "hung"),
        attempt("a", 4),
        attempt("b", 1, "overloaded", 1),
        attempt("b", 2, "auth_failed"),
      ],
      [
        { delayMs: 1_500, reason: "rate_limited: 429" },
        { delayMs: 30_000, reason: PACING_REASON },
        { delayMs: 2_000, reason: "hung: no output" },
      ],
    );
    expect(figures.failuresByKind).toEqual({ rate_limited: 1, verify_failed: 1, hung: 1, overloaded: 1, auth_failed: 1 });
    // Task a's rate limit and hang were followed by attempts the agent finished; task b never got an answer
    // after its overload (auth_failed ended it), so both of b's count as escalated.
    expect(figures).toMatchObject({ recovered: 2, escalated: 2, recoveryRate: 0.5, waitedMs: 3_500, retryCalls: 3 + 2 });
    expect(describeFigures(figures, formatDuration)).toBe(
      "rate_limited 1, verify_failed 1, hung 1, overloaded 1, auth_failed 1 · recovered 2 of 4 (50%) · waited 3s on limits and backoff · 5 retry calls",
    );
  });
  it("counts an attempt stopped from outside as interrupted: no failure, nothing recovered or escalated", () => {
    const figures = recoveryFigures([{ ...attempt("a", 1, "crashed"), interrupted: true }, attempt("a", 2)], []);
    expect(figures).toMatchObject({ failuresByKind: {}, interrupted: 1, recovered: 0, escalated: 0, recoveryRate: null, retryCalls: 0 });
    expect(describeFigures(figures, formatDuration)).toBe("no failures · 1 interrupted");
  });
  it("counts the waits a CLI made before its own retries", () => {
    const figures = recoveryFigures([{ taskId: "a", number: 1, failure: undefined, apiRetries: 2, apiRetryWaitMs: 3_000 }], [{ delayMs: 500, reason: "x" }]);
    expect(figures).toMatchObject({ waitedMs: 3_500, retryCalls: 2 });
  });
  it("has no recovery rate when nothing but verification failed", () => {
    const figures = recoveryFigures([attempt("a", 1, "verify_failed"), attempt("a", 2)], []);
    expect(figures).toMatchObject({ recovered: 0, escalated: 0, recoveryRate: null, waitedMs: 0, retryCalls: 0 });
    expect(describeFigures(recoveryFigures([], []), formatDuration)).toBe("no failures");
  });
});

describe("circuit breaker", () => {
  const options = { failures: 3, cooldownMs: 1_000 };
  it("opens after the configured failures in a row, or at once when asked, and lets one probe through after the cool-down", () => {
    let b = recordFailure(CLOSED, 0, options);
    b = recordFailure(b, 0, options);
    expect(b).toEqual({ state: "closed", failures: 2 });
    b = recordFailure(b, 10, options);
    expect(b).toEqual({ state: "open", until: 1_010 });
    expect(allows(b, 500)).toBe(false);
    expect(allows(b, 1_010)).toBe(true);
    expect(atStart(b, 1_010)).toEqual({ state: "half-open" });
    expect(recordFailure(CLOSED, 5, options, true)).toEqual({ state: "open", until: 1_005 });
  });
  it("stays open until a reported reset rather than for the whole cool-down", () => {
    const long = { failures: 1, cooldownMs: 600_000 };
    expect(recordFailure(CLOSED, 1_000, long, false, 3_000)).toEqual({ state: "open", until: 3_000 });
    expect(recordFailure({ state: "half-open" }, 1_000, long, false, 5_000)).toEqual({ state: "open", until: 5_000 });
    // A reset already past is no reason to come back at once.
    expect(recordFailure(CLOSED, 1_000, long, false, 500)).toEqual({ state: "open", until: 601_000 });
  });
  it("re-opens on a failed probe and closes on an answer", () => {
    expect(recordFailure({ state: "half-open" }, 2_000, options)).toEqual({ state: "open", until: 3_000 });
    expect(recordSuccess()).toEqual(CLOSED);
    expect(atStart(CLOSED, 0)).toEqual(CLOSED);
  });
  it("counts only failures that speak of the model's API", () => {
    expect(countsAgainstModel("overloaded")).toBe(true);
    expect(countsAgainstModel("rate_limited")).toBe(true);
    expect(countsAgainstModel("verify_failed")).toBe(false);
    expect(countsAgainstModel("context_exceeded")).toBe(false);
  });
});

describe("recovery policy", () => {
  it("follows the tiers by default and lets a run choose per kind, except the fixed kinds", () => {
    const defaults = recoveryPolicy();
    expect(defaults("rate_limited")).toBe("retry");
    expect(defaults("overloaded")).toBe("fallback");
    expect(defaults("cannot_start")).toBe("escalate");
    const chosen = recoveryPolicy({ rate_limited: "escalate", auth_failed: "retry", verify_failed: "escalate", cannot_start: "retry" });
    expect(chosen("rate_limited")).toBe("escalate");
    expect(chosen("auth_failed")).toBe("escalate");
    expect(chosen("verify_failed")).toBe("retry");
    // No retry mends a missing executable: it ends the task at once, whatever a run chose.
    expect(chosen("cannot_start")).toBe("escalate");
  });
});

describe("budgets", () => {
  const spent = (over: Partial<Spent> = {}): Spent => ({ runUsd: 0, runTokens: 0, taskUsd: 0, taskTokens: 0, ...over });
  it("says which budget is spent", () => {
    expect(spentBudget({}, spent({ runUsd: 99 }))).toBeUndefined();
    expect(spentBudget({ runUsd: 1 }, spent({ runUsd: 1.2 }))).toBe("spent $1.20 of the run's $1.00 budget");
    expect(spentBudget({ runUsd: 5, taskUsd: 1 }, spent({ runUsd: 1.2, taskUsd: 1.2 }))).toBe("spent $1.20 of the task's $1.00 budget");
    expect(spentBudget({ taskTokens: 100 }, spent({ taskTokens: 150 }))).toBe("used 150 of the task's 100 token budget");
  });
  it("leaves the next attempt the tighter of the run's and the task's room", () => {
    expect(budgetLeft({ runUsd: 5, taskUsd: 2 }, spent({ runUsd: 4, taskUsd: 0.5 }))).toEqual({ usd: 1, tokens: undefined });
    expect(budgetLeft({ taskTokens: 1_000 }, spent({ taskTokens: 400 }))).toEqual({ usd: undefined, tokens: 600 });
  });
});

describe("summarizeList", () => {
  const ids = Array.from({ length: 9_995 }, (_, i) => `t${i}`);
  it("names a few and counts the rest, with thousands separated", () => {
    expect(summarizeList(ids, 5)).toBe("t0, t1, t2, t3, t4 and 9,990 more");
    expect(summarizeList(ids, 0)).toBe("9,995 more");
  });
  it("names all when they fit, or when no bound is given (JSON)", () => {
    expect(summarizeList(["a", "b"], 2)).toBe("a, b");
    expect(summarizeList(ids).split(", ")).toHaveLength(9_995);
  });
});
