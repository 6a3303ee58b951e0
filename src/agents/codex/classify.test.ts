// Classification of recorded Codex exits (the stream replayed, the exit as the CLI ended it) and of the cases
// no recording shows: stderr-only failures, signals, missing turn lines, usage limits with a reset time.
import { describe, expect, it } from "vitest";
import type { AgentExit } from "../agent.js";
import { exitAfter as exitOf, fixturesIn, NOW, type ResultEvent } from "../../../test/support/agent-fixtures.js";
import { createCodexAdapter } from "./index.js";

const adapter = createCodexAdapter();
const fixtures = fixturesIn(new URL("./fixtures/", import.meta.url));

function classifyFixture(name: string, over: Partial<AgentExit> = {}) {
  return adapter.classify(exitOf(fixtures.replay(name, adapter.createParser()), over));
}

describe("classify recorded Codex exits", () => {
  it.each([
    "codex-tools.jsonl",
    "codex-429x2.jsonl",
    "codex-malformed-recovered.jsonl",
    "codex-command-fail.jsonl",
    "codex-patch-fail.jsonl",
    "codex-resume.jsonl",
    "codex-unknown-model.jsonl",
  ])("%s: a completed turn with exit 0 is no failure (verification decides)", (name) => {
    expect(classifyFixture(name, { exitCode: 0 })).toBeUndefined();
  });

  it("429 (with or without retries): rate_limited, HTTP 429", () => {
    for (const name of ["codex-429.jsonl", "codex-429noretryafter.jsonl"]) {
      expect(classifyFixture(name)).toEqual({
        kind: "rate_limited",
        httpStatus: 429,
        detail: "OpenAI API rate limit (HTTP 429): exceeded retry limit, last status: 429 Too Many Requests",
      });
    }
  });

  it("401: auth_failed, with the server's words and without the URL", () => {
    expect(classifyFixture("codex-401.jsonl")).toEqual({
      kind: "auth_failed",
      httpStatus: 401,
      detail:
        "OpenAI API rejected the credentials (HTTP 401): Incorrect API key provided: sk-fake***. You can find your API key at https://platform.openai.com/account/api-keys.",
    });
  });

  it("503, 529, 500 (Codex's own 'high demand' words): overloaded", () => {
    expect(classifyFixture("codex-503.jsonl")).toMatchObject({ kind: "overloaded", httpStatus: 503 });
    expect(classifyFixture("codex-503-retried.jsonl")).toMatchObject({ kind: "overloaded", httpStatus: 503 });
    expect(classifyFixture("codex-529.jsonl")).toMatchObject({ kind: "overloaded", httpStatus: 529 });
    expect(classifyFixture("codex-500.jsonl")).toEqual({
      kind: "overloaded",
      detail: "OpenAI API overloaded or failing: We’re currently experiencing high demand, which may cause temporary errors.",
    });
  });

  it("context window: context_exceeded", () => {
    expect(classifyFixture("codex-400ctx.jsonl")).toEqual({
      kind: "context_exceeded",
      detail:
        "Context window exceeded: Codex ran out of room in the model's context window. Start a new thread or clear earlier history before retrying.",
    });
  });

  it("a dead server, a stalled stream: could not reach the model API (overloaded, worth a retry)", () => {
    expect(classifyFixture("codex-server-down-bounded.jsonl")).toEqual({
      kind: "overloaded",
      detail: "Could not reach the model API: Connection failed: error sending request",
    });
    expect(classifyFixture("codex-stall-idle5s.jsonl")).toMatchObject({ kind: "overloaded", detail: expect.stringContaining("idle timeout waiting for SSE") });
    expect(classifyFixture("codex-hangsse-idle5s.jsonl")).toMatchObject({ kind: "overloaded" });
  });

  it("still retrying when stopped (the unbounded 'waiting for network'): the retries tell", () => {
    expect(classifyFixture("codex-server-down-unbounded.jsonl", { exitCode: null, signal: "SIGTERM" })).toEqual({
      kind: "overloaded",
      detail: "Could not reach the model API: still retrying (attempt 5, Connection failed: error sending request) when Codex stopped",
    });
  });

  it("an error the words do not name: crashed, with the message", () => {
    expect(classifyFixture("codex-harness-400.jsonl")).toEqual({
      kind: "crashed",
      detail: expect.stringMatching(/^Codex ended the turn with an error: \{"error":.*expects the last user message to contain/),
    });
  });
});

describe("classify exits no recording shows", () => {
  const completed: ResultEvent = { type: "result", ok: true, reason: "completed", sessionId: "t" };

  it("a completed turn but a non-zero exit, or a signal, is a crash", () => {
    expect(adapter.classify(exitOf([completed], { exitCode: 2, stderrTail: "panic: boom\n" }))).toEqual({
      kind: "crashed",
      detail: "Codex completed the turn but exited with code 2; last stderr line: panic: boom",
    });
    expect(adapter.classify(exitOf([], { exitCode: null, signal: "SIGKILL" }))).toEqual({ kind: "crashed", detail: "Codex was killed by SIGKILL" });
  });

  it("exit 0 with no turn line is bad output; a non-zero exit says the last stderr line", () => {
    expect(adapter.classify(exitOf([], { exitCode: 0 }))).toMatchObject({ kind: "bad_output" });
    const stderr = "Reading additional input from stdin...\nError: thread/resume: thread/resume failed: no rollout found for thread id 01a1 (code -32600)\n";
    expect(adapter.classify(exitOf([], { exitCode: 1, stderrTail: stderr }))).toEqual({
      kind: "crashed",
      detail: "Codex exited with code 1: Error: thread/resume: thread/resume failed: no rollout found for thread id 01a1 (code -32600)",
    });
    expect(adapter.classify(exitOf([], { exitCode: 1, stderrTail: "Reading additional input from stdin...\n" }))).toMatchObject({
      detail: "Codex exited with code 1 without finishing a turn or printing anything to stderr",
    });
  });

  it("stderr words alone: a missing key is auth, a refused connection is the network", () => {
    expect(adapter.classify(exitOf([], { stderrTail: "Error: Missing environment variable: `OPENAI_API_KEY`.\n" }))).toMatchObject({
      kind: "auth_failed",
    });
    expect(adapter.classify(exitOf([], { stderrTail: "error: Connection failed: error sending request\n" }))).toMatchObject({
      kind: "overloaded",
      detail: expect.stringContaining("Could not reach the model API"),
    });
  });

  it("a usage limit is a quota, and its reset time is read", () => {
    const text = "You've hit your usage limit. Upgrade to Pro (https://openai.com/chatgpt/pricing) or try again in 2 hours.";
    const failed: ResultEvent = { type: "result", ok: false, text, reason: "turn_failed" };
    expect(adapter.classify(exitOf([failed]))).toEqual({
      kind: "quota_exhausted",
      detail: `OpenAI usage or quota limit reached: ${text}`,
      resetAt: NOW + 2 * 3_600_000,
    });
    const quota: ResultEvent = { type: "result", ok: false, text: "Quota exceeded. Check your plan and billing details.", reason: "error" };
    expect(adapter.classify(exitOf([quota]))).toMatchObject({ kind: "quota_exhausted" });
  });

  it("a rate limit that names when to retry carries resetAt", () => {
    const failed: ResultEvent = { type: "result", ok: false, httpStatus: 429, text: "Rate limit reached. Please try again in 20s.", reason: "error" };
    expect(adapter.classify(exitOf([failed]))).toMatchObject({ kind: "rate_limited", httpStatus: 429, resetAt: NOW + 20_000 });
  });
});
