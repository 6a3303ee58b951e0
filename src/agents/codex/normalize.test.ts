// Replays recorded Codex streams through the parser. codex-tools.jsonl and the fault recordings of 0.169
// (400ctx, 401, 429*, 500, 503, 529, hangsse, server-down, stall) are copies of /work/shared/agent-cli-samples;
// the others were recorded with codex 0.169.0 against the project's scripted Responses server.
import { describe, expect, it } from "vitest";
import type { AgentEvent } from "../../core/agent-event.js";
import { expectValidEvents, fixturesIn, parseLines } from "../../../test/support/agent-fixtures.js";
import { createCodexParser, createParserState, normalizeLine, unwrapShell } from "./normalize.js";

const fixtures = fixturesIn(new URL("./fixtures/", import.meta.url));
const replay = (name: string, options?: Parameters<typeof createCodexParser>[0]): AgentEvent[] =>
  fixtures.replay(name, createCodexParser(options));
const parseOne = (line: unknown): AgentEvent[] => parseLines(createCodexParser(), [line]);

const FIXTURES = [
  "codex-tools.jsonl",
  "codex-400ctx.jsonl",
  "codex-401.jsonl",
  "codex-429.jsonl",
  "codex-429noretryafter.jsonl",
  "codex-429x2.jsonl",
  "codex-500.jsonl",
  "codex-503.jsonl",
  "codex-503-retried.jsonl",
  "codex-529.jsonl",
  "codex-hangsse-idle5s.jsonl",
  "codex-harness-400.jsonl",
  "codex-malformed-recovered.jsonl",
  "codex-patch-fail.jsonl",
  "codex-command-fail.jsonl",
  "codex-resume.jsonl",
  "codex-server-down-bounded.jsonl",
  "codex-server-down-unbounded.jsonl",
  "codex-stall-idle5s.jsonl",
];

describe("codex parser on recorded streams", () => {
  it.each(FIXTURES)("%s: every event is valid and every line is understood", (name) => {
    const events = replay(name);
    expectValidEvents(events);
    expect(events.filter((event) => event.type === "unknown")).toEqual([]);
  });

  it("codex-tools.jsonl: an apply_patch + shell + answer session, exactly", () => {
    expect(replay("codex-tools.jsonl")).toEqual([
      { type: "session.started", sessionId: "01a1fca6-5df7-7a42-a838-4a8786ae32da" },
      { type: "text", text: "Writing the file." },
      {
        type: "tool.called",
        id: "item_1",
        name: "apply_patch",
        summary: "add /home/user/codex/work/hello.txt",
        input: { changes: [{ path: "/home/user/codex/work/hello.txt", kind: "add" }] },
      },
      { type: "tool.returned", id: "item_1", isError: false, output: "add /home/user/codex/work/hello.txt" },
      {
        type: "tool.called",
        id: "item_2",
        name: "exec_command",
        summary: "echo hi > out.txt",
        input: { command: "echo hi > out.txt" },
      },
      { type: "tool.returned", id: "item_2", isError: false, exitCode: 0, output: "" },
      { type: "text", text: "All done: wrote hello.txt and out.txt." },
      { type: "usage", usage: { inputTokens: 303, outputTokens: 60, cacheReadTokens: 0, cacheWriteTokens: 0 } },
      {
        type: "result",
        ok: true,
        text: "All done: wrote hello.txt and out.txt.",
        sessionId: "01a1fca6-5df7-7a42-a838-4a8786ae32da",
        usage: { inputTokens: 303, outputTokens: 60, cacheReadTokens: 0, cacheWriteTokens: 0 },
        reason: "completed",
      },
    ]);
  });

  it("a failing command returns isError with its exit code and output", () => {
    const returned = replay("codex-command-fail.jsonl").filter((e) => e.type === "tool.returned");
    expect(returned).toEqual([
      expect.objectContaining({ id: "item_1", isError: true, exitCode: 1, output: expect.stringContaining("listen EPERM") }),
    ]);
    const called = replay("codex-command-fail.jsonl").find((e) => e.type === "tool.called");
    expect(called).toMatchObject({ summary: `node -e "require('http').createServer().listen(0,'127.0.0.1')"` });
  });

  it("retries: `Reconnecting... n/m (…)` becomes a retry event with the HTTP status it names", () => {
    const events = replay("codex-401.jsonl");
    const retries = events.filter((e) => e.type === "retry");
    expect(retries.map((r) => r.attempt)).toEqual([1, 2, 3, 4, 5]);
    expect(retries[0]).toMatchObject({ httpStatus: 401, error: expect.stringContaining("Incorrect API key provided") });
    expect(replay("codex-429.jsonl").filter((e) => e.type === "retry")[0]).toMatchObject({ httpStatus: 429 });
    // No status at all for a refused connection, and the unbounded form counts its own attempts.
    expect(replay("codex-server-down-bounded.jsonl").find((e) => e.type === "retry")).toEqual({
      type: "retry",
      attempt: 1,
      error: "Connection failed: error sending request",
    });
    expect(replay("codex-server-down-unbounded.jsonl").map((e) => (e.type === "retry" ? e.attempt : e.type))).toEqual([
      "session.started",
      1,
      2,
      3,
      4,
      5,
    ]);
  });

  it("a fatal error is the result at once; turn.failed repeating it adds nothing", () => {
    const events = replay("codex-503.jsonl");
    const results = events.filter((e) => e.type === "result");
    expect(results).toEqual([
      {
        type: "result",
        ok: false,
        text: expect.stringContaining("unexpected status 503 Service Unavailable"),
        sessionId: "01a1fc86-fd09-74e3-b151-f30f2393e449",
        httpStatus: 503,
        reason: "error",
      },
    ]);
    expect(replay("codex-400ctx.jsonl").filter((e) => e.type === "result")).toEqual([
      expect.objectContaining({ ok: false, text: expect.stringContaining("ran out of room in the model's context window") }),
    ]);
  });

  it("turn.failed on its own (or with another message) is the result", () => {
    const state = createParserState();
    normalizeLine(JSON.stringify({ type: "thread.started", thread_id: "t-1" }), state);
    normalizeLine(JSON.stringify({ type: "error", message: "first" }), state);
    expect(normalizeLine(JSON.stringify({ type: "turn.failed", error: { message: "second, last status: 429" } }), state)).toEqual([
      { type: "result", ok: false, text: "second, last status: 429", sessionId: "t-1", httpStatus: 429, reason: "turn_failed" },
    ]);
    expect(parseOne({ type: "turn.failed" })).toEqual([
      { type: "result", ok: false, text: "the turn failed without a message", reason: "turn_failed" },
    ]);
  });

  it("a recovered stream: the retries, then the answer and a completed turn", () => {
    const events = replay("codex-malformed-recovered.jsonl");
    expect(events.map((e) => e.type)).toEqual(["session.started", "retry", "text", "usage", "result"]);
    expect(events[1]).toMatchObject({ error: expect.stringContaining("stream disconnected before completion") });
    expect(events.at(-1)).toMatchObject({ ok: true, text: "recovered" });
  });

  it("a resumed thread: the thread's earlier totals are taken off, so the attempt counts its own tokens", () => {
    const baseline = { inputTokens: 100, outputTokens: 10, cacheReadTokens: 0, cacheWriteTokens: 0 };
    const own = { inputTokens: 500, outputTokens: 50, cacheReadTokens: 0, cacheWriteTokens: 0 };
    const events = replay("codex-resume.jsonl", { baseline });
    expect(events.find((e) => e.type === "usage")).toEqual({ type: "usage", usage: own });
    expect(events.at(-1)).toMatchObject({ type: "result", ok: true, text: "second answer", usage: own });
    // Without the baseline the whole thread is counted.
    expect(replay("codex-resume.jsonl").find((e) => e.type === "usage")).toMatchObject({ usage: { inputTokens: 600, outputTokens: 60 } });
  });

  it("cached input is reported apart from fresh input", () => {
    const line = { type: "turn.completed", usage: { input_tokens: 1200, cached_input_tokens: 200, output_tokens: 345 } };
    expect(parseOne(line)[0]).toEqual({ type: "usage", usage: { inputTokens: 1000, outputTokens: 345, cacheReadTokens: 200 } });
  });

  it("a model-metadata warning item stays visible as unknown; the session goes on", () => {
    const events = replay("codex-unknown-model.jsonl");
    expect(events.map((e) => e.type)).toEqual(["session.started", "unknown", "text", "usage", "result"]);
    expect(events[1]).toMatchObject({ raw: expect.stringContaining("Model metadata for `unknown-model-x` not found") });
  });
});

describe("codex parser on lines no recording shows", () => {
  it("an MCP call, a web search, reasoning and the to-do list", () => {
    const state = createParserState();
    const parse = (value: unknown) => normalizeLine(JSON.stringify(value), state);
    const mcp = { id: "item_3", type: "mcp_tool_call", server: "docs", tool: "search", arguments: { q: "zod" }, status: "in_progress" };
    expect(parse({ type: "item.started", item: mcp })).toEqual([
      { type: "tool.called", id: "item_3", name: "docs.search", summary: '{"q":"zod"}', input: { arguments: '{"q":"zod"}' } },
    ]);
    const done = { ...mcp, status: "completed", result: { content: [{ type: "text", text: "found" }], structured_content: null } };
    expect(parse({ type: "item.completed", item: done })).toEqual([{ type: "tool.returned", id: "item_3", isError: false, output: "found" }]);
    const failed = { ...mcp, id: "item_4", status: "failed", error: { message: "server gone" } };
    expect(parse({ type: "item.completed", item: failed })).toEqual([
      { type: "tool.called", id: "item_4", name: "docs.search", summary: '{"q":"zod"}', input: { arguments: '{"q":"zod"}' } },
      { type: "tool.returned", id: "item_4", isError: true, output: "server gone" },
    ]);
    expect(parse({ type: "item.completed", item: { id: "item_5", type: "web_search", query: "vitest pool" } })).toEqual([
      { type: "tool.called", id: "item_5", name: "web_search", summary: "vitest pool" },
      { type: "tool.returned", id: "item_5", isError: false, output: "" },
    ]);
    expect(parse({ type: "item.completed", item: { id: "item_6", type: "reasoning", text: "**Thinking**" } })).toEqual([]);
    expect(parse({ type: "item.updated", item: { id: "item_7", type: "todo_list", items: [{ text: "a", completed: false }] } })).toEqual([]);
    expect(parse({ type: "item.updated", item: { ...mcp, id: "item_3" } })).toEqual([]);
  });

  it("a failed patch says so", () => {
    const item = { id: "item_1", type: "file_change", changes: [{ path: "/w/a.txt", kind: "update" }], status: "failed" };
    expect(parseOne({ type: "item.completed", item })).toEqual([
      { type: "tool.called", id: "item_1", name: "apply_patch", summary: "update /w/a.txt", input: { changes: [{ path: "/w/a.txt", kind: "update" }] } },
      { type: "tool.returned", id: "item_1", isError: true, output: "patch failed:\nupdate /w/a.txt" },
    ]);
  });

  it("lines it cannot read, and types it does not know, become unknown", () => {
    for (const line of ["not json", "[1,2]", '{"no":"type"}', '{"type":"thread.started"}', '{"type":"request_user_input","id":"x"}']) {
      expect(parseOne(line)).toEqual([{ type: "unknown", raw: line }]);
    }
    expect(parseOne({ type: "item.completed", item: { id: "i", type: "brand_new_item" } })[0]?.type).toBe("unknown");
    expect(parseOne("   ")).toEqual([]);
  });
});

describe("unwrapShell", () => {
  it.each([
    ["/bin/bash -lc 'echo hi > out.txt'", "echo hi > out.txt"],
    ["/bin/bash -lc true", "true"],
    [`/bin/bash -lc "node -e \\"require('http')\\""`, `node -e "require('http')"`],
    ["/bin/bash -lc 'echo '\\''quoted'\\'''", "echo 'quoted'"],
    ["bash -c 'ls'", "ls"],
    ["npm test", "npm test"],
  ])("%s → %s", (command, shown) => {
    expect(unwrapShell(command)).toBe(shown);
  });
});
