// Classification of recorded Gemini CLI exits (the stream replayed, the exit code the CLI ended with when it
// was recorded) and of the cases no recording shows: stderr-only failures, signals, the CLI's own exit codes.
import { describe, expect, it } from "vitest";
import type { AgentExit } from "../agent.js";
import { agentExit as exit, fixturesIn, lastResult, NOW, type ResultEvent } from "../../../test/support/agent-fixtures.js";
import { readRetryDelay } from "./classify.js";
import { createGeminiAdapter } from "./index.js";

const adapter = createGeminiAdapter();
const fixtures = fixturesIn(new URL("./fixtures/", import.meta.url));

/** The recording's last result with the exit code the CLI ended with when it was recorded; no retries. */
function classifyFixture(name: string, exitCode: number | null, over: Partial<AgentExit> = {}) {
  const result = lastResult(fixtures.replay(name, adapter.createParser()));
  return adapter.classify(exit({ exitCode, result, ...over }));
}

function result(fields: Partial<ResultEvent>): ResultEvent {
  return { type: "result", ok: false, reason: "error", ...fields };
}

describe("classify recorded Gemini CLI exits", () => {
  it.each([
    "gemini-tools.jsonl",
    "gemini-429x2.jsonl",
    "gemini-auto-model.jsonl",
    "gemini-resume.jsonl",
    "gemini-shell-exit-code.jsonl",
    "gemini-shell-fail-output.jsonl",
    "gemini-tool-denied.jsonl",
  ])("%s, exit 0 with a success result: clean, verification decides", (name) => {
    expect(classifyFixture(name, 0)).toBeUndefined();
  });

  it("429 after the CLI's retries (exit 173 = 429 mod 256): rate limited", () => {
    expect(classifyFixture("gemini-429-maxattempts2.jsonl", 173)).toEqual({
      kind: "rate_limited",
      httpStatus: 429,
      detail: "Gemini API rate limit (HTTP 429): Resource has been exhausted (e.g. check quota).",
    });
  });

  it("429 with Google's RetryInfo: rate limited until the suggested time", () => {
    expect(classifyFixture("gemini-429-retry-info.jsonl", 173)).toEqual({
      kind: "rate_limited",
      httpStatus: 429,
      detail: "Gemini API rate limit (HTTP 429): Resource has been exhausted (e.g. check quota).",
      resetAt: NOW + 1_000,
    });
  });

  it("401 (exit 145): auth failed in the API's words", () => {
    expect(classifyFixture("gemini-401.jsonl", 145)).toEqual({
      kind: "auth_failed",
      httpStatus: 401,
      detail: "Gemini API rejected the credentials (HTTP 401): API key not valid. Please pass a valid API key.",
    });
  });

  it("400 with a token count over the limit (exit 144): context exceeded", () => {
    expect(classifyFixture("gemini-400ctx.jsonl", 144)).toEqual({
      kind: "context_exceeded",
      httpStatus: 400,
      detail: "Context window exceeded (HTTP 400): The input token count (1500000) exceeds the maximum number of tokens allowed (1048576).",
    });
  });

  it.each([
    ["gemini-503-maxattempts2.jsonl", 247, 503, "The model is overloaded. Please try again later."],
    ["gemini-529-maxattempts2.jsonl", 17, 529, "error"],
    ["gemini-500.jsonl", 244, 500, "An internal error has occurred."],
  ])("%s (exit %i): overloaded, HTTP %i", (name, exitCode, httpStatus, message) => {
    const failure = classifyFixture(name, exitCode);
    expect(failure).toMatchObject({ kind: "overloaded", httpStatus });
    expect(failure?.detail.startsWith(`Gemini API overloaded or failing (HTTP ${httpStatus}): ${message}`)).toBe(true);
    expect(failure?.resetAt).toBeUndefined();
  });

  it("a malformed stream (exit 1): bad output, worth another attempt", () => {
    expect(classifyFixture("gemini-malformed.jsonl", 1)).toEqual({
      kind: "bad_output",
      detail: "Gemini API sent an unusable response: Unterminated string in JSON at position 55",
    });
  });

  it("an empty model response exits 0 but its result says error: bad output, not clean", () => {
    expect(classifyFixture("gemini-empty-response.jsonl", 0)).toEqual({
      kind: "bad_output",
      detail:
        "Gemini API sent an unusable response: The model returned an empty response with no text or thoughts. This may be a transient API issue; please try again.",
    });
  });

  it("a clean stream killed by a signal is a crash", () => {
    expect(classifyFixture("gemini-tools.jsonl", null, { signal: "SIGKILL" })).toEqual({
      kind: "crashed",
      detail: "Gemini CLI was killed by SIGKILL",
    });
  });
});

describe("classify what no recording shows", () => {
  it("an ok result is clean only with exit 0 and no signal", () => {
    const ok = result({ ok: true, reason: "success" });
    expect(adapter.classify(exit({ exitCode: 0, result: ok }))).toBeUndefined();
    expect(adapter.classify(exit({ exitCode: 2, result: ok }))).toEqual({
      kind: "crashed",
      detail: "Gemini CLI reported success but exited with code 2",
    });
  });

  it("the turn limit of the user's settings (exit 53) is clean", () => {
    const limit = result({ reason: "FatalTurnLimitedError", text: "Reached max session turns for this session." });
    expect(adapter.classify(exit({ exitCode: 53, result: limit }))).toBeUndefined();
  });

  it("the CLI's own exits before any request: no key (41), untrusted folder (55), with the line that says so", () => {
    expect(
      adapter.classify(
        exit({
          exitCode: 41,
          stderrTail:
            "Warning: 256-color support not detected.\nWhen using Gemini API, you must specify the GEMINI_API_KEY environment variable.\nUpdate your environment and try again (no reload needed if using .env)!\n",
        }),
      ),
    ).toEqual({
      kind: "auth_failed",
      detail: "Gemini CLI found no usable credentials: When using Gemini API, you must specify the GEMINI_API_KEY environment variable.",
    });
    const untrusted = adapter.classify(
      exit({ exitCode: 55, stderrTail: "\u001b[31mGemini CLI is not running in a trusted directory. To proceed, either use `--skip-trust`…\u001b[0m\n" }),
    );
    expect(untrusted?.kind).toBe("permission_denied");
    expect(untrusted?.detail).toMatch(/^Gemini CLI refused to run in an untrusted folder: Gemini CLI is not running in a trusted directory/);
  });

  it("a daily quota or spent capacity is quota, with the wait the API names", () => {
    const text = "[API Error: You have exhausted your daily quota on this model.]";
    expect(adapter.classify(exit({ exitCode: 173, result: result({ text }) }))).toEqual({
      kind: "quota_exhausted",
      httpStatus: 429,
      detail: "Gemini quota or capacity exhausted (HTTP 429): You have exhausted your daily quota on this model.",
    });
    const billing = "[API Error: You exceeded your current quota, please check your plan and billing details. Please retry in 33.2s.]";
    expect(adapter.classify(exit({ exitCode: 173, result: result({ text: billing }) }))).toMatchObject({
      kind: "quota_exhausted",
      resetAt: NOW + 33_200,
    });
  });

  it("statuses by name, when the message quotes no code", () => {
    expect(adapter.classify(exit({ result: result({ text: "[API Error: quota (Status: RESOURCE_EXHAUSTED)]" }) }))).toMatchObject({
      kind: "rate_limited",
      httpStatus: 429,
    });
    expect(adapter.classify(exit({ result: result({ text: "[API Error: nope (Status: PERMISSION_DENIED)]" }) }))).toMatchObject({
      kind: "auth_failed",
      httpStatus: 403,
    });
  });

  it("an error result of no known cause is a crash in the CLI's words", () => {
    expect(adapter.classify(exit({ exitCode: 1, result: result({ text: "[API Error: something odd]\nmore" }) }))).toEqual({
      kind: "crashed",
      detail: "Gemini CLI ended with an error (error): something odd",
    });
    expect(adapter.classify(exit({ exitCode: 54, result: result({ reason: "FatalToolExecutionError", text: "Error executing tool write_file: disk" }) }))).toEqual({
      kind: "crashed",
      detail: "Gemini CLI ended with an error (FatalToolExecutionError): Error executing tool write_file: disk",
    });
  });

  it("no result line: the exit code carries the HTTP status, else stderr, else the exit", () => {
    expect(adapter.classify(exit({ exitCode: 173 }))).toEqual({
      kind: "rate_limited",
      httpStatus: 429,
      detail: "Gemini API rate limit (HTTP 429): exit code 173",
    });
    expect(adapter.classify(exit({ exitCode: 1, stderrTail: "Error: fetch failed sending request\n" }))).toEqual({
      kind: "overloaded",
      detail: "Could not reach the Gemini API: Error: fetch failed sending request",
    });
    expect(
      adapter.classify(exit({ exitCode: 42, stderrTail: 'Error resuming session: Invalid session identifier "x".\n  Use --list-sessions to see available sessions.\n' })),
    ).toEqual({ kind: "crashed", detail: "Gemini CLI exited with code 42: Use --list-sessions to see available sessions." });
    expect(adapter.classify(exit({ exitCode: 0 }))).toEqual({
      kind: "bad_output",
      detail: "Gemini CLI exited with code 0 but printed no result line",
    });
    expect(adapter.classify(exit({ exitCode: 2 }))).toEqual({ kind: "crashed", detail: "Gemini CLI exited with code 2 without a result line or any stderr" });
    // 127 and 126 are the system's "cannot run": a missing interpreter, say. No retry mends that.
    expect(adapter.classify(exit({ exitCode: 127 }))).toEqual({
      kind: "cannot_start",
      detail: "Gemini CLI exited with code 127; a program it needs (its interpreter, say) was not found: reinstall it (`orch doctor` checks it)",
    });
    expect(adapter.classify(exit({ exitCode: 126, stderrTail: "/usr/bin/env: 'node': Permission denied\n" }))).toEqual({
      kind: "cannot_start",
      detail: "Gemini CLI exited with code 126: /usr/bin/env: 'node': Permission denied; a file it needs is not executable: reinstall it (`orch doctor` checks it)",
    });
  });

  it("stack frames on stderr are not causes", () => {
    const stderr = "    at parseJSONFromBytes (node:internal/deps/undici/undici:5880:19)\nTypeError: x is not a function\n";
    expect(adapter.classify(exit({ exitCode: 1, stderrTail: stderr }))).toEqual({
      kind: "crashed",
      detail: "Gemini CLI exited with code 1: TypeError: x is not a function",
    });
  });

  it("reads Google's retry delays", () => {
    expect(readRetryDelay("Suggested retry after 1s.", NOW)).toBe(NOW + 1_000);
    expect(readRetryDelay("Please retry in 33.2s.", NOW)).toBe(NOW + 33_200);
    expect(readRetryDelay("Please retry in 250ms", NOW)).toBe(NOW + 250);
    expect(readRetryDelay("try later", NOW)).toBeUndefined();
  });
});
