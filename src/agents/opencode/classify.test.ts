// Classification of recorded OpenCode exits (the stream replayed, the exit as the CLI ended it) and of the
// cases no recording shows: stderr-only failures, signals, quota, provider auth, clean endings.
import { describe, expect, it } from "vitest";
import type { AgentExit } from "../agent.js";
import { agentExit as exit, fixturesIn, lastResult, NOW, type ResultEvent } from "../../../test/support/agent-fixtures.js";
import { createOpenCodeAdapter } from "./index.js";

const adapter = createOpenCodeAdapter();
const fixtures = fixturesIn(new URL("./fixtures/", import.meta.url));

/** What the attempt runner hands classify(): the last result the stream held. */
const classifyFixture = (name: string, over: Partial<AgentExit> = {}) =>
  adapter.classify(exit({ result: lastResult(fixtures.replay(name, adapter.createParser())), ...over }));

describe("classify recorded OpenCode exits", () => {
  it.each([
    "opencode-tools.jsonl",
    "opencode-429x2.jsonl",
    "opencode-denied-and-errors.jsonl",
    "opencode-malformed-recovered.jsonl",
    "opencode-resume.jsonl",
    "opencode-cost.jsonl",
  ])("%s, exit 0 after a stop step: clean, verification decides", (name) => {
    expect(classifyFixture(name, { exitCode: 0 })).toBeUndefined();
  });

  it("a stop step after errors OpenCode recovered from (it then exits 1): still clean", () => {
    expect(classifyFixture("opencode-tools.jsonl", { exitCode: 1 })).toBeUndefined();
  });

  it("401: auth failed, not retried", () => {
    expect(classifyFixture("opencode-401.jsonl")).toEqual({
      kind: "auth_failed",
      httpStatus: 401,
      detail:
        "Model API rejected the credentials (HTTP 401): Incorrect API key provided: sk-fake***. You can find your API key at https://platform.openai.com/account/api-keys.",
    });
  });

  it("429 after OpenCode's own retries: rate limited, reset when the message says", () => {
    expect(classifyFixture("opencode-429.jsonl")).toMatchObject({ kind: "rate_limited", httpStatus: 429, resetAt: NOW + 1_500 });
    expect(classifyFixture("opencode-429-retry-after.jsonl")).toMatchObject({ kind: "rate_limited", httpStatus: 429, resetAt: NOW + 1_000 });
  });

  it("503: overloaded", () => {
    expect(classifyFixture("opencode-503.jsonl")).toEqual({
      kind: "overloaded",
      httpStatus: 503,
      detail: "Model API overloaded or failing (HTTP 503): The server is overloaded or not ready yet.",
    });
  });

  it("a request timeout: the API could not be reached (overloaded, retry-worthy)", () => {
    for (const name of ["opencode-hang-timeout8s.jsonl", "opencode-hang-timeout2s.jsonl"]) {
      expect(classifyFixture(name)).toEqual({ kind: "overloaded", detail: "Could not reach the model API: The operation timed out." });
    }
  });

  it("context overflow: context exceeded, also when stopped mid-loop (OpenCode retries it forever)", () => {
    const expected = {
      kind: "context_exceeded",
      detail: "Context window exceeded: Your input exceeds the context window of this model. Please adjust your input and try again.",
    };
    expect(classifyFixture("opencode-400ctx-loop-head.jsonl")).toEqual(expected);
    expect(classifyFixture("opencode-400ctx-loop-head.jsonl", { exitCode: null, signal: "SIGTERM" })).toEqual(expected);
  });
});

describe("classify what no recording shows", () => {
  const failed = (fields: Partial<ResultEvent>): ResultEvent => ({ type: "result", ok: false, reason: "APIError", ...fields });
  const ok: ResultEvent = { type: "result", ok: true, reason: "stop", text: "done" };

  it("an ok result is clean with exit 0 or 1 and no signal; anything else after it is a crash", () => {
    expect(adapter.classify(exit({ exitCode: 0, result: ok }))).toBeUndefined();
    expect(adapter.classify(exit({ exitCode: 2, result: ok }))).toEqual({ kind: "crashed", detail: "OpenCode finished its turn but exited with code 2" });
    expect(adapter.classify(exit({ exitCode: null, signal: "SIGKILL", result: ok }))).toEqual({
      kind: "crashed",
      detail: "OpenCode finished its turn but was killed by SIGKILL",
    });
  });

  it("running out of output tokens ends the turn; verification judges the work", () => {
    expect(adapter.classify(exit({ result: failed({ reason: "MessageOutputLengthError", text: "output length exceeded" }) }))).toBeUndefined();
  });

  it("quota beats rate limit (OpenAI sends insufficient_quota as 429); provider auth errors are auth", () => {
    const quota = failed({ httpStatus: 429, text: "You exceeded your current quota, please check your plan and billing details." });
    expect(adapter.classify(exit({ result: quota }))).toMatchObject({ kind: "quota_exhausted", httpStatus: 429 });
    const auth = failed({ reason: "ProviderAuthError", text: "ANTHROPIC_API_KEY is not set" });
    expect(adapter.classify(exit({ result: auth }))).toEqual({ kind: "auth_failed", detail: "Model API rejected the credentials: ANTHROPIC_API_KEY is not set" });
    expect(adapter.classify(exit({ result: failed({ httpStatus: 403, text: "Forbidden" }) }))?.kind).toBe("auth_failed");
    expect(adapter.classify(exit({ result: failed({ httpStatus: 413, text: "Request Entity Too Large" }) }))?.kind).toBe("context_exceeded");
    expect(adapter.classify(exit({ result: failed({ httpStatus: 529, text: "Overloaded" }) }))?.kind).toBe("overloaded");
  });

  it("a server that is down: overloaded (network)", () => {
    const down = failed({ reason: "UnknownError", text: "Cannot connect to API: connect ECONNREFUSED 127.0.0.1:1" });
    expect(adapter.classify(exit({ result: down }))).toEqual({
      kind: "overloaded",
      detail: "Could not reach the model API: Cannot connect to API: connect ECONNREFUSED 127.0.0.1:1",
    });
  });

  it("an error of no known cause is a crash in the CLI's words, keeping its status", () => {
    expect(adapter.classify(exit({ result: failed({ httpStatus: 400, text: "Invalid schema for function 'bash'\nmore" }) }))).toEqual({
      kind: "crashed",
      httpStatus: 400,
      detail: "OpenCode ended with an error (APIError): Invalid schema for function 'bash'",
    });
  });

  it("no result: stderr words, then the signal, then the exit code", () => {
    expect(adapter.classify(exit({ stderrTail: "boot\nError: 429 Too Many Requests\n" }))).toMatchObject({ kind: "rate_limited" });
    expect(adapter.classify(exit({ stderrTail: "Error: connect ECONNREFUSED 127.0.0.1:4096" }))?.kind).toBe("overloaded");
    expect(adapter.classify(exit({ exitCode: null, signal: "SIGKILL", stderrTail: "starting\n" }))).toEqual({
      kind: "crashed",
      detail: "OpenCode was killed by SIGKILL; last stderr line: starting",
    });
    expect(adapter.classify(exit({ exitCode: 0 }))).toEqual({ kind: "bad_output", detail: "OpenCode exited with code 0 but printed no finished step" });
    expect(adapter.classify(exit({ exitCode: 1, stderrTail: "TypeError: x is not a function\n" }))).toEqual({
      kind: "crashed",
      detail: "OpenCode exited with code 1: TypeError: x is not a function",
    });
    expect(adapter.classify(exit({ exitCode: 2 }))).toEqual({ kind: "crashed", detail: "OpenCode exited with code 2 without a finished step or any stderr" });
    // 127 and 126 are the system's "cannot run": a missing interpreter, say. No retry mends that.
    expect(adapter.classify(exit({ exitCode: 127 }))).toEqual({
      kind: "cannot_start",
      detail: "OpenCode exited with code 127; a program it needs (its interpreter, say) was not found: reinstall it (`orch doctor` checks it)",
    });
    expect(adapter.classify(exit({ exitCode: 126, stderrTail: "/usr/bin/env: 'node': Permission denied\n" }))).toEqual({
      kind: "cannot_start",
      detail: "OpenCode exited with code 126: /usr/bin/env: 'node': Permission denied; a file it needs is not executable: reinstall it (`orch doctor` checks it)",
    });
  });
});
