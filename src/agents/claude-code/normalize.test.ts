// Replays recorded Claude Code streams through the parser. claude-tools.jsonl and faults/claude-*.jsonl are
// copies of /work/shared/agent-cli-samples; the others were recorded with claude 2.1.197 against a local fake
// Messages API (max turns, failing Bash, model fallback, low credit, timeout, server down, denial, resume).
import { describe, expect, it } from "vitest";
import { EVENT_TEXT_LIMIT, type AgentEvent } from "../../core/agent-event.js";
import { expectValidEvents, fixturesIn, parseLines } from "../../../test/support/agent-fixtures.js";
import { createClaudeParser } from "./normalize.js";

const fixtures = fixturesIn(new URL("./fixtures/", import.meta.url));
const replay = (name: string): AgentEvent[] => fixtures.replay(name, createClaudeParser());
const parseOne = (line: unknown): AgentEvent[] => parseLines(createClaudeParser(), [line]);

const FIXTURES = [
  "claude-tools.jsonl",
  "claude-400ctx.jsonl",
  "claude-401-maxretries2.jsonl",
  "claude-401.jsonl",
  "claude-429-default.jsonl",
  "claude-429-maxretries2.jsonl",
  "claude-500-maxretries2.jsonl",
  "claude-503-maxretries2.jsonl",
  "claude-529-default.jsonl",
  "claude-529-fallback-model.jsonl",
  "claude-529x2-maxretries2.jsonl",
  "claude-hang-default.jsonl",
  "claude-bash-fail.jsonl",
  "claude-credit-low.jsonl",
  "claude-max-turns.jsonl",
  "claude-model-fallback.jsonl",
  "claude-permission-denied.jsonl",
  "claude-request-timeout.jsonl",
  "claude-resume.jsonl",
  "claude-server-down.jsonl",
];

const zeroUsage = { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0 };

describe("claude-code parser on recorded streams", () => {
  it.each(FIXTURES)("%s: every event is valid and every line is understood", (name) => {
    const events = replay(name);
    expectValidEvents(events);
    expect(events.filter((event) => event.type === "unknown")).toEqual([]);
  });

  it("claude-tools.jsonl: a write + shell + answer session, exactly", () => {
    expect(replay("claude-tools.jsonl")).toEqual([
      { type: "session.started", sessionId: "8ffdbdfd-0e4b-43d3-86d8-0e62096f2154", model: "claude-opus-4-8[1m]" },
      { type: "text", text: "Writing the file." },
      {
        type: "tool.called",
        id: "toolu_c27202fc9faccc191eb9ccd4",
        name: "Write",
        summary: "/home/user/claude/work/hello.txt",
        input: { file_path: "/home/user/claude/work/hello.txt", content: "hello from fake model\n" },
      },
      {
        type: "tool.returned",
        id: "toolu_c27202fc9faccc191eb9ccd4",
        isError: false,
        output:
          "File created successfully at: /home/user/claude/work/hello.txt (file state is current in your context — no need to Read it back)",
      },
      {
        type: "tool.called",
        id: "toolu_e8ab279d1c154f0bd126ba45",
        name: "Bash",
        summary: "echo hi > out.txt",
        input: { command: "echo hi > out.txt", description: "write out.txt" },
      },
      { type: "tool.returned", id: "toolu_e8ab279d1c154f0bd126ba45", isError: false, output: "(Bash completed with no output)" },
      { type: "text", text: "All done: wrote hello.txt and out.txt." },
      {
        type: "usage",
        usage: { inputTokens: 303, outputTokens: 60, cacheReadTokens: 0, cacheWriteTokens: 0 },
        costUsd: 0.003015,
      },
      {
        type: "result",
        ok: true,
        text: "All done: wrote hello.txt and out.txt.",
        sessionId: "8ffdbdfd-0e4b-43d3-86d8-0e62096f2154",
        usage: { inputTokens: 303, outputTokens: 60, cacheReadTokens: 0, cacheWriteTokens: 0 },
        costUsd: 0.003015,
        turns: 3,
        reason: "success",
        permissionDenials: 0,
      },
    ]);
  });

  it("429: ten CLI retries with their delays, then a failed result carrying HTTP 429", () => {
    const events = replay("claude-429-default.jsonl");
    const retries = events.filter((event) => event.type === "retry");
    expect(retries).toHaveLength(10);
    expect(retries[0]).toEqual({ type: "retry", attempt: 1, delayMs: 1000, httpStatus: 429, error: "rate_limit" });
    expect(retries[9]).toEqual({ type: "retry", attempt: 10, delayMs: 37837, httpStatus: 429, error: "rate_limit" });
    expect(events.slice(-2)).toEqual([
      { type: "usage", usage: zeroUsage, costUsd: 0 },
      {
        type: "result",
        ok: false,
        text: "API Error: Request rejected (429) · Number of request tokens has exceeded your per-minute rate limit",
        sessionId: "66e80e1d-6bfe-40a6-963c-76cf357a287b",
        usage: zeroUsage,
        costUsd: 0,
        turns: 1,
        httpStatus: 429,
        reason: "success",
        permissionDenials: 0,
      },
    ]);
  });

  it("401 killed while retrying: only retry events, no result", () => {
    const events = replay("claude-401.jsonl");
    expect(events.map((event) => event.type)).toEqual(Array<string>(7).fill("retry"));
    expect(events.at(-1)).toMatchObject({ attempt: 7, httpStatus: 401, error: "authentication_failed" });
  });

  it.each([
    ["claude-401-maxretries2.jsonl", 401, "Invalid API key · Fix external API key"],
    ["claude-500-maxretries2.jsonl", 500, "API Error: 500 Internal server error."],
    ["claude-503-maxretries2.jsonl", 503, "API Error: 503 Overloaded."],
    ["claude-529-default.jsonl", 529, "API Error: 529 Overloaded."],
    ["claude-400ctx.jsonl", 400, "Prompt is too long · the request is ~250000 tokens"],
    ["claude-credit-low.jsonl", 400, "Credit balance is too low"],
  ])("%s: failed result with HTTP %i", (name, httpStatus, textStart) => {
    const result = replay(name).at(-1);
    expect(result).toMatchObject({ type: "result", ok: false, httpStatus });
    expect(result?.type === "result" && result.text?.startsWith(textStart)).toBe(true);
  });

  it("400 context: the terminal reason replaces the uninformative `success` subtype", () => {
    expect(replay("claude-400ctx.jsonl").at(-1)).toMatchObject({ type: "result", ok: false, reason: "prompt_too_long" });
  });

  it("the CLI's synthetic error message is shown as text", () => {
    expect(replay("claude-503-maxretries2.jsonl")).toContainEqual({
      type: "text",
      text: "API Error: 503 Overloaded. This is a server-side issue, usually temporary — try again in a moment. If it persists, check your inference gateway (127.0.0.1:18081).",
    });
  });

  it("529 twice then recovered: retries, then an ok result", () => {
    const events = replay("claude-529x2-maxretries2.jsonl");
    expect(events.map((event) => event.type)).toEqual(["retry", "retry", "text", "usage", "result"]);
    expect(events.at(-1)).toMatchObject({ type: "result", ok: true, text: "recovered after 529s", costUsd: 0.001 });
  });

  it("model fallback: retries, the switch, then an ok answer", () => {
    expect(replay("claude-model-fallback.jsonl").map((event) => event.type)).toEqual([
      "session.started",
      "retry",
      "retry",
      "model.fallback",
      "text",
      "usage",
      "result",
    ]);
    expect(replay("claude-model-fallback.jsonl")).toContainEqual({
      type: "model.fallback",
      from: "primary-model",
      to: "fallback-model",
      reason: "overloaded",
    });
  });

  it("timeouts and refused connections: retries without an HTTP status", () => {
    for (const name of ["claude-request-timeout.jsonl", "claude-server-down.jsonl"]) {
      const events = replay(name);
      expect(events).toContainEqual({ type: "retry", attempt: 1, delayMs: expect.any(Number), error: "unknown" });
      const result = events.at(-1);
      expect(result).toMatchObject({ type: "result", ok: false, reason: "success" });
      expect(result?.type === "result" ? result.httpStatus : "missing").toBeUndefined();
    }
  });

  it("failing Bash: the exit code is read from the tool result", () => {
    expect(replay("claude-bash-fail.jsonl")).toContainEqual({
      type: "tool.returned",
      id: "toolu_00000001",
      isError: true,
      exitCode: 3,
      output: "Exit code 3\noops",
    });
  });

  it("max turns: a not-ok result whose reason is error_max_turns, text from `errors`", () => {
    expect(replay("claude-max-turns.jsonl").at(-1)).toMatchObject({
      type: "result",
      ok: false,
      reason: "error_max_turns",
      text: "Reached maximum number of turns (2)",
      turns: 3,
    });
  });

  it("a denied tool: an error tool result and a counted denial", () => {
    const events = replay("claude-permission-denied.jsonl");
    expect(events).toContainEqual(expect.objectContaining({ type: "tool.called", name: "WebFetch" }));
    expect(events.at(-1)).toMatchObject({ type: "result", ok: true, permissionDenials: 1, deniedTools: ["WebFetch"] });
  });

  it("resume: the session id stays the same", () => {
    expect(replay("claude-resume.jsonl")[0]).toEqual({
      type: "session.started",
      sessionId: "398c08fc-5f5d-4e3a-9db4-749232372f2f",
      model: "claude-opus-4-8[1m]",
    });
  });
});

describe("claude-code parser on lines it was not shown", () => {
  it("blank lines give nothing; non-JSON, truncated JSON and JSON of no known shape give unknown", () => {
    expect(parseOne("")).toEqual([]);
    expect(parseOne("   \r")).toEqual([]);
    expect(parseOne("Error: something broke")).toEqual([{ type: "unknown", raw: "Error: something broke" }]);
    expect(parseOne('{"type":"assistant","mess')).toEqual([{ type: "unknown", raw: '{"type":"assistant","mess' }]);
    for (const value of [null, 42, "text", [], {}, { type: 7 }, { type: "assistant" }, { type: "result", subtype: "success" }]) {
      const raw = JSON.stringify(value);
      expect(parseOne(raw)).toEqual([{ type: "unknown", raw }]);
    }
  });

  it("known but unmapped types: stream_event gives nothing, other system subtypes and events stay visible", () => {
    expect(parseOne({ type: "stream_event", event: { type: "content_block_delta" } })).toEqual([]);
    const compact = { type: "system", subtype: "compact_boundary", session_id: "s" };
    expect(parseOne(compact)).toEqual([{ type: "unknown", raw: JSON.stringify(compact) }]);
    const rateLimit = { type: "rate_limit_event", rate_limit_info: { status: "rejected", resetsAt: 1 } };
    expect(parseOne(rateLimit)).toEqual([{ type: "unknown", raw: JSON.stringify(rateLimit) }]);
  });

  it("skips thinking, keeps text and tool calls of one message in order, flags unknown blocks", () => {
    const line = {
      type: "assistant",
      message: {
        content: [
          { type: "thinking", thinking: "hmm", signature: "x" },
          { type: "text", text: "Reading." },
          { type: "tool_use", id: "t1", name: "Read", input: { file_path: "/w/a.ts" } },
          { type: "text", text: "  " },
        ],
        usage: { input_tokens: 5, output_tokens: 5 },
      },
    };
    expect(parseOne(line)).toEqual([
      { type: "text", text: "Reading." },
      { type: "tool.called", id: "t1", name: "Read", summary: "/w/a.ts", input: { file_path: "/w/a.ts" } },
    ]);
    const odd = { type: "assistant", message: { content: [{ type: "server_tool_use", id: "s" }] } };
    expect(parseOne(odd)).toEqual([{ type: "unknown", raw: JSON.stringify(odd) }]);
  });

  it("summaries: the command for Bash, the path for file tools, short JSON otherwise", () => {
    const call = (name: string, input: unknown) =>
      parseOne({ type: "assistant", message: { content: [{ type: "tool_use", id: "t", name, input }] } })[0];
    expect(call("Bash", { command: "npm test\n  -- --run" })).toMatchObject({ summary: "npm test -- --run" });
    expect(call("Edit", { file_path: "/w/b.ts", old_string: "a", new_string: "b" })).toMatchObject({ summary: "/w/b.ts" });
    expect(call("Glob", { pattern: "**/*.ts" })).toMatchObject({ summary: '{"pattern":"**/*.ts"}' });
    const long = call("Bash", { command: "x".repeat(1000) });
    expect(long?.type === "tool.called" && long.summary.length).toBe(200);
    const big = call("Write", { file_path: "/w/big.txt", content: "y".repeat(50_000) });
    const content = big?.type === "tool.called" && JSON.stringify(big.input).length;
    expect(content).toBeLessThan(2_000);
  });

  it("tool results: parts joined, images named, output clipped, exit codes read only for Bash", () => {
    const state = createClaudeParser();
    state.parseLine(JSON.stringify({ type: "assistant", message: { content: [{ type: "tool_use", id: "b", name: "Bash", input: { command: "false" } }] } }));
    const result = (id: string, content: unknown, isError?: boolean) =>
      state.parseLine(
        JSON.stringify({ type: "user", message: { content: [{ type: "tool_result", tool_use_id: id, content, is_error: isError }] } }),
      );
    expect(result("b", "Exit code 1\nboom", true)).toEqual([
      { type: "tool.returned", id: "b", isError: true, exitCode: 1, output: "Exit code 1\nboom" },
    ]);
    expect(result("r", "Exit code 1", true)).toEqual([{ type: "tool.returned", id: "r", isError: true, output: "Exit code 1" }]);
    expect(result("r", [{ type: "text", text: "a" }, { type: "image", source: {} }, { type: "text", text: "b" }])).toEqual([
      { type: "tool.returned", id: "r", isError: false, output: "a\n[image]\nb" },
    ]);
    const [big] = result("r", "z".repeat(100_000));
    expect(big?.type === "tool.returned" && big.output.length).toBeLessThanOrEqual(EVENT_TEXT_LIMIT + 100);
    expect(state.parseLine(JSON.stringify({ type: "user", message: { role: "user", content: "the prompt" } }))).toEqual([]);
  });

  it("a result with odd optional fields keeps its core; usage is emitted only when present", () => {
    const events = parseOne({
      type: "result",
      subtype: "error_during_execution",
      is_error: true,
      errors: ["boom", "bang"],
      total_cost_usd: -1,
      num_turns: 1.5,
      api_error_status: null,
      permission_denials: "none",
    });
    expect(events).toEqual([
      {
        type: "result",
        ok: false,
        text: "boom\nbang",
        reason: "error_during_execution",
      },
    ]);
  });
});
