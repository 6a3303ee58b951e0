// Classification of recorded Claude Code exits (the stream replayed, the exit as the CLI ended it) and of
// the cases no recording shows: stderr-only failures, signals, missing result lines, reset times in messages.
import { describe, expect, it } from "vitest";
import type { AgentExit } from "../agent.js";
import {
  agentExit as exit,
  exitAfter,
  fixturesIn,
  NOW,
  type ResultEvent,
  type RetryEvent,
} from "../../../test/support/agent-fixtures.js";
import { createClaudeCodeAdapter } from "./index.js";

const adapter = createClaudeCodeAdapter();
const fixtures = fixturesIn(new URL("./fixtures/", import.meta.url));

function classifyFixture(name: string, over: Partial<AgentExit> = {}) {
  return adapter.classify(exitAfter(fixtures.replay(name, adapter.createParser()), over));
}

function result(fields: Partial<ResultEvent>): ResultEvent {
  return { type: "result", ok: false, reason: "success", ...fields };
}

describe("classify recorded Claude Code exits", () => {
  it.each([
    "claude-tools.jsonl",
    "claude-529x2-maxretries2.jsonl",
    "claude-model-fallback.jsonl",
    "claude-bash-fail.jsonl",
    "claude-permission-denied.jsonl",
    "claude-resume.jsonl",
  ])("%s, exit 0 with an ok result: clean, verification decides", (name) => {
    expect(classifyFixture(name, { exitCode: 0 })).toBeUndefined();
  });

  it("max turns (exit 1): clean, verification decides", () => {
    expect(classifyFixture("claude-max-turns.jsonl", { exitCode: 1 })).toBeUndefined();
  });

  it("429 after ten retries: rate limited, reset after the CLI's last backoff delay", () => {
    expect(classifyFixture("claude-429-default.jsonl")).toEqual({
      kind: "rate_limited",
      httpStatus: 429,
      detail: "Claude API rate limit (HTTP 429): Number of request tokens has exceeded your per-minute rate limit",
      resetAt: NOW + 37_837,
    });
    expect(classifyFixture("claude-429-maxretries2.jsonl")).toMatchObject({ kind: "rate_limited", resetAt: NOW + 1_201 });
  });

  it("the recorded 'fallback-model' run hit 429s (the CLI falls back on 529 only): rate limited", () => {
    expect(classifyFixture("claude-529-fallback-model.jsonl")).toMatchObject({
      kind: "rate_limited",
      httpStatus: 429,
      resetAt: NOW + 2_063,
    });
  });

  it("401 with a result: auth failed in the CLI's words", () => {
    expect(classifyFixture("claude-401-maxretries2.jsonl")).toEqual({
      kind: "auth_failed",
      httpStatus: 401,
      detail: "Claude API rejected the credentials (HTTP 401): Invalid API key · Fix external API key",
    });
  });

  it("401 killed while the CLI was still retrying: auth failed from the retries", () => {
    expect(classifyFixture("claude-401.jsonl", { exitCode: null, signal: "SIGTERM" })).toEqual({
      kind: "auth_failed",
      httpStatus: 401,
      detail:
        "Claude API rejected the credentials (HTTP 401): still retrying (attempt 7, authentication_failed) when Claude Code stopped",
    });
  });

  it.each([
    ["claude-529-default.jsonl", 529, "Claude API overloaded or failing (HTTP 529): Overloaded. This is a server-side issue"],
    ["claude-503-maxretries2.jsonl", 503, "Claude API overloaded or failing (HTTP 503): Overloaded. This is a server-side issue"],
    ["claude-500-maxretries2.jsonl", 500, "Claude API overloaded or failing (HTTP 500): Internal server error."],
  ])("%s: overloaded", (name, httpStatus, detailStart) => {
    const failure = classifyFixture(name);
    expect(failure).toMatchObject({ kind: "overloaded", httpStatus });
    expect(failure?.detail.startsWith(detailStart)).toBe(true);
    expect(failure?.resetAt).toBeUndefined();
  });

  it("400 prompt too long: context exceeded", () => {
    const failure = classifyFixture("claude-400ctx.jsonl");
    expect(failure).toMatchObject({ kind: "context_exceeded", httpStatus: 400 });
    expect(failure?.detail).toMatch(/^Context window exceeded \(HTTP 400\): Prompt is too long · the request is ~250000 tokens/);
  });

  it("credit balance too low: quota exhausted", () => {
    expect(classifyFixture("claude-credit-low.jsonl")).toEqual({
      kind: "quota_exhausted",
      httpStatus: 400,
      detail: "Claude usage or credit limit reached (HTTP 400): Credit balance is too low",
    });
  });

  it("request timeout and refused connection: overloaded (network), retry-worthy", () => {
    expect(classifyFixture("claude-request-timeout.jsonl")).toEqual({
      kind: "overloaded",
      detail: "Could not reach the Claude API: Request timed out",
    });
    expect(classifyFixture("claude-server-down.jsonl")).toEqual({
      kind: "overloaded",
      detail: "Could not reach the Claude API: Unable to connect to API (ConnectionRefused)",
    });
  });

  it("empty stream (hang): the signal, the exit code and stderr decide", () => {
    expect(classifyFixture("claude-hang-default.jsonl", { exitCode: null, signal: "SIGKILL" })).toEqual({
      kind: "crashed",
      detail: "Claude Code was killed by SIGKILL",
    });
    expect(classifyFixture("claude-hang-default.jsonl", { exitCode: 0 })).toEqual({
      kind: "bad_output",
      detail: "Claude Code exited with code 0 but printed no result line",
    });
    expect(
      classifyFixture("claude-hang-default.jsonl", { exitCode: 1, stderrTail: "starting\nError: ENOMEM while reading\n\n" }),
    ).toEqual({ kind: "crashed", detail: "Claude Code exited with code 1: Error: ENOMEM while reading" });
  });
});

describe("classify what no recording shows", () => {
  it("an ok result is clean only with exit 0 and no signal", () => {
    const ok = result({ ok: true });
    expect(adapter.classify(exit({ exitCode: 0, result: ok }))).toBeUndefined();
    expect(adapter.classify(exit({ exitCode: 2, result: ok }))).toEqual({
      kind: "crashed",
      detail: "Claude Code reported success but exited with code 2",
    });
    expect(adapter.classify(exit({ exitCode: null, signal: "SIGTERM", result: ok }))?.kind).toBe("crashed");
  });

  it("stale retries do not outweigh an ok result", () => {
    const retries: RetryEvent[] = [{ type: "retry", attempt: 1, httpStatus: 529, error: "overloaded" }];
    expect(adapter.classify(exit({ exitCode: 0, result: result({ ok: true }), retries }))).toBeUndefined();
  });

  it("max turns in either spelling is clean", () => {
    expect(adapter.classify(exit({ result: result({ reason: "error_max_turns" }) }))).toBeUndefined();
    expect(adapter.classify(exit({ result: result({ reason: "max_turns" }) }))).toBeUndefined();
  });

  it("an execution error of no known cause is a crash in the CLI's words; the budget stop is budget_exceeded", () => {
    expect(adapter.classify(exit({ result: result({ reason: "error_during_execution", text: "boom\nmore" }) }))).toEqual({
      kind: "crashed",
      detail: "Claude Code ended with an error (error_during_execution): boom",
    });
    expect(adapter.classify(exit({ result: result({ reason: "error_max_budget_usd" }) }))?.kind).toBe("budget_exceeded");
  });

  it("usage limits are quota, with the reset time the message names", () => {
    const resetsAt = Math.floor(NOW / 1000) + 3_600;
    expect(adapter.classify(exit({ result: result({ httpStatus: 429, text: `Claude AI usage limit reached|${resetsAt}` }) }))).toEqual({
      kind: "quota_exhausted",
      httpStatus: 429,
      detail: `Claude usage or credit limit reached (HTTP 429): Claude AI usage limit reached|${resetsAt}`,
      resetAt: resetsAt * 1000,
    });
    const local = new Date(NOW);
    const threePm = new Date(local.getFullYear(), local.getMonth(), local.getDate(), 15, 0).getTime();
    const failure = adapter.classify(exit({ result: result({ text: "You've hit your limit · resets 3pm (Europe/Berlin)" }) }));
    expect(failure?.kind).toBe("quota_exhausted");
    const tomorrowThreePm = new Date(local.getFullYear(), local.getMonth(), local.getDate() + 1, 15, 0).getTime();
    expect(failure?.resetAt).toBe(threePm > NOW ? threePm : tomorrowThreePm);
    expect(adapter.classify(exit({ result: result({ text: "API Error: 400 Your quota has been exceeded" }) }))?.kind).toBe(
      "quota_exhausted",
    );
  });

  it("a 429 message with a relative wait gives that reset time, ahead of the retry delay", () => {
    const retries: RetryEvent[] = [{ type: "retry", attempt: 3, delayMs: 5_000, httpStatus: 429, error: "rate_limit" }];
    const text = "API Error: Request rejected (429) · Too many requests, try again in 30 seconds";
    expect(adapter.classify(exit({ result: result({ httpStatus: 429, text }), retries }))).toMatchObject({
      kind: "rate_limited",
      resetAt: NOW + 30_000,
    });
    expect(adapter.classify(exit({ result: result({ httpStatus: 429, text: "API Error: Request rejected (429)" }) }))).toEqual({
      kind: "rate_limited",
      httpStatus: 429,
      detail: "Claude API rate limit (HTTP 429): Request rejected (429)",
    });
  });

  it("retries with no HTTP status mean the API could not be reached", () => {
    const retries: RetryEvent[] = [{ type: "retry", attempt: 4, delayMs: 4_000, error: "unknown" }];
    expect(adapter.classify(exit({ exitCode: null, signal: "SIGTERM", retries }))).toEqual({
      kind: "overloaded",
      detail: "Could not reach the Claude API: still retrying (attempt 4) when Claude Code stopped",
    });
  });

  it.each([
    ["Error: 401 Unauthorized: invalid x-api-key", "auth_failed", 401],
    ["Error: Invalid API key · Please run /login", "auth_failed", undefined],
    ["API Error: 429 rate_limit_error", "rate_limited", 429],
    ["API Error: 529 Overloaded", "overloaded", 529],
    ["request failed with status code 502", "overloaded", 502],
    ["Error: connect ECONNREFUSED 127.0.0.1:443", "overloaded", undefined],
    ["Error: Prompt is too long", "context_exceeded", undefined],
    ["Credit balance is too low", "quota_exhausted", undefined],
  ])("stderr %j without a result: %s", (line, kind, httpStatus) => {
    const failure = adapter.classify(exit({ stderrTail: `some log\n${line}\n` }));
    expect(failure?.kind).toBe(kind);
    expect(failure?.httpStatus).toBe(httpStatus);
  });

  it("a stderr line that names no cause leaves the exit to decide, and a stack-trace number is not a status", () => {
    expect(adapter.classify(exit({ stderrTail: "    at run (cli.js:429:12)\nTypeError: x is not a function" }))).toEqual({
      kind: "crashed",
      detail: "Claude Code exited with code 1: TypeError: x is not a function",
    });
    expect(adapter.classify(exit({ exitCode: 2 }))).toEqual({ kind: "crashed", detail: "Claude Code exited with code 2 without a result line or any stderr" });
    // 127 and 126 are the system's "cannot run": a missing interpreter, say. No retry mends that.
    expect(adapter.classify(exit({ exitCode: 127 }))).toEqual({
      kind: "cannot_start",
      detail: "Claude Code exited with code 127; a program it needs (its interpreter, say) was not found: reinstall it (`orch doctor` checks it)",
    });
    expect(adapter.classify(exit({ exitCode: 126, stderrTail: "/usr/bin/env: 'node': Permission denied\n" }))).toEqual({
      kind: "cannot_start",
      detail: "Claude Code exited with code 126: /usr/bin/env: 'node': Permission denied; a file it needs is not executable: reinstall it (`orch doctor` checks it)",
    });
  });
});
