// Replays recorded OpenCode streams through the parser. opencode-tools.jsonl and the 400ctx, 401, 429, 429x2,
// 503 and hang-timeout8s faults are copies of /work/shared/agent-cli-samples; the others were recorded with
// opencode 1.18.33 against test/support/model-server (denials and tool errors, a malformed stream it
// recovered from, a 2 s request timeout, 429 with retry-after, resume, a priced model).
import { describe, expect, it } from "vitest";
import { EVENT_TEXT_LIMIT, type AgentEvent } from "../../core/agent-event.js";
import { expectValidEvents, fixturesIn, parseLines } from "../../../test/support/agent-fixtures.js";
import { createOpenCodeParser } from "./normalize.js";

const fixtures = fixturesIn(new URL("./fixtures/", import.meta.url));
const replay = (name: string): AgentEvent[] => fixtures.replay(name, createOpenCodeParser());
const parseOne = (line: unknown): AgentEvent[] => parseLines(createOpenCodeParser(), [line]);

const ZERO_CACHE = { cacheReadTokens: 0, cacheWriteTokens: 0 };

const FIXTURES = [
  "opencode-tools.jsonl",
  "opencode-400ctx-loop-head.jsonl",
  "opencode-401.jsonl",
  "opencode-429.jsonl",
  "opencode-429-retry-after.jsonl",
  "opencode-429x2.jsonl",
  "opencode-503.jsonl",
  "opencode-hang-timeout8s.jsonl",
  "opencode-hang-timeout2s.jsonl",
  "opencode-denied-and-errors.jsonl",
  "opencode-malformed-recovered.jsonl",
  "opencode-resume.jsonl",
  "opencode-cost.jsonl",
];

describe("opencode parser on recorded streams", () => {
  it.each(FIXTURES)("%s: every event is valid, every line but OpenCode's own notes understood", (name) => {
    const events = replay(name);
    expectValidEvents(events);
    const unknown = events.filter((event) => event.type === "unknown");
    // The only lines left as unknown are the synthetic notes OpenCode writes after compacting the context.
    for (const event of unknown) expect(event.type === "unknown" && event.raw).toContain('"synthetic":true');
    expect(unknown.length > 0).toBe(name === "opencode-400ctx-loop-head.jsonl");
  });

  it("opencode-tools.jsonl: a write + shell + answer session, exactly", () => {
    const sessionId = "ses_e0359933cffe57WuNBe2xbCJyR";
    const usage = (n: number) => ({ type: "usage", usage: { inputTokens: 100 * n + (n * (n - 1)) / 2, outputTokens: 20 * n, ...ZERO_CACHE }, costUsd: 0 });
    expect(replay("opencode-tools.jsonl")).toEqual([
      { type: "session.started", sessionId },
      { type: "text", text: "Writing the file." },
      {
        type: "tool.called",
        id: "call_dd04eea02ddc96f5b1847128",
        name: "write",
        summary: "/home/user/opencode/work/hello.txt",
        input: { filePath: "/home/user/opencode/work/hello.txt", content: "hello from fake model\n" },
      },
      { type: "tool.returned", id: "call_dd04eea02ddc96f5b1847128", isError: false, output: "Wrote file successfully." },
      usage(1),
      {
        type: "tool.called",
        id: "call_eb3012bc68e2cbeae03b1802",
        name: "bash",
        summary: "echo hi > out.txt",
        input: { command: "echo hi > out.txt", description: "write out.txt" },
      },
      { type: "tool.returned", id: "call_eb3012bc68e2cbeae03b1802", isError: false, exitCode: 0, output: "(no output)" },
      usage(2),
      { type: "text", text: "All done: wrote hello.txt and out.txt." },
      usage(3),
      {
        type: "result",
        ok: true,
        text: "All done: wrote hello.txt and out.txt.",
        sessionId,
        usage: { inputTokens: 303, outputTokens: 60, ...ZERO_CACHE },
        costUsd: 0,
        turns: 3,
        reason: "stop",
      },
    ]);
  });

  it("a priced model: usage and cost add up over the steps", () => {
    const events = replay("opencode-cost.jsonl");
    const usages = events.filter((event) => event.type === "usage");
    expect(usages.map((event) => event.type === "usage" && event.costUsd)).toEqual([0.006, 0.0135]);
    expect(events.at(-1)).toEqual({
      type: "result",
      ok: true,
      text: "Priced answer.",
      sessionId: "ses_e0311cc01ffeu9LIVY1Io0CsP0",
      usage: { inputTokens: 3000, outputTokens: 300, ...ZERO_CACHE },
      costUsd: 0.0135,
      turns: 2,
      reason: "stop",
    });
  });

  it.each([
    ["opencode-401.jsonl", "APIError", 401, "Incorrect API key provided"],
    ["opencode-429.jsonl", "APIError", 429, "Rate limit reached for gpt-5"],
    ["opencode-503.jsonl", "APIError", 503, "The server is overloaded or not ready yet."],
    ["opencode-hang-timeout8s.jsonl", "UnknownError", undefined, "The operation timed out."],
  ])("%s: the session, then a failed result named %s with HTTP %s", (name, reason, httpStatus, textStart) => {
    const events = replay(name);
    expect(events.map((event) => event.type)).toEqual(["session.started", "result"]);
    const result = events[1];
    expect(result).toMatchObject({ type: "result", ok: false, reason, turns: 0 });
    expect(result?.type === "result" && result.httpStatus).toBe(httpStatus ?? undefined);
    expect(result?.type === "result" && result.text?.startsWith(textStart)).toBe(true);
  });

  it("429 then recovered: only the answer, as an ok result", () => {
    expect(replay("opencode-429x2.jsonl").map((event) => event.type)).toEqual(["session.started", "text", "usage", "result"]);
    expect(replay("opencode-429x2.jsonl").at(-1)).toMatchObject({ ok: true, text: "recovered after 429s" });
  });

  it("context overflow loop: failed results named ContextOverflowError between OpenCode's compaction steps", () => {
    const results = replay("opencode-400ctx-loop-head.jsonl").filter((event) => event.type === "result");
    expect(results.map((event) => event.type === "result" && [event.ok, event.reason])).toEqual([
      [false, "ContextOverflowError"],
      [true, "stop"],
      [false, "ContextOverflowError"],
      [true, "stop"],
      [false, "ContextOverflowError"],
    ]);
  });

  it("denied and failing tools: error results, the bash exit code, OpenCode's `invalid` stand-in; the session goes on", () => {
    const returned = replay("opencode-denied-and-errors.jsonl").filter((event) => event.type === "tool.returned");
    expect(returned).toEqual([
      { type: "tool.returned", id: "call_92802cb8e9b75bf5e664164b", isError: true, output: "The user rejected permission to use this specific tool call." },
      { type: "tool.returned", id: "call_2f77036d13d0f1e8d40c6156", isError: true, exitCode: 3, output: "oops\n" },
      {
        type: "tool.returned",
        id: "call_ee2689a2eb49ce75b5993cf2",
        isError: true,
        output: expect.stringContaining("Model tried to call unavailable tool 'webfetch'"),
      },
      { type: "tool.returned", id: "call_bf8c1043a47b9720023a089e", isError: false, output: "Wrote file successfully." },
    ]);
    const called = replay("opencode-denied-and-errors.jsonl").filter((event) => event.type === "tool.called");
    expect(called.map((event) => event.type === "tool.called" && `${event.name} ${event.summary}`)).toEqual([
      "read /nonexistent/nope.txt",
      "bash echo oops >&2; exit 3",
      "invalid webfetch",
      "write x.txt",
    ]);
    expect(replay("opencode-denied-and-errors.jsonl").at(-1)).toMatchObject({ type: "result", ok: true, text: "Done with errors.", turns: 5 });
  });

  it("a malformed stream OpenCode retried: the abandoned step leaves no trace", () => {
    expect(replay("opencode-malformed-recovered.jsonl").map((event) => event.type)).toEqual(["session.started", "text", "usage", "result"]);
  });

  it("the model orch asked for is the session's model (OpenCode prints none)", () => {
    const invocation = { prompt: "p", cwd: "/w", runId: "r", taskId: "t", attempt: 1, env: {}, permission: "workspace-write" as const };
    const withModel = createOpenCodeParser({ ...invocation, model: "fake/fake-model" });
    const line = fixtures.lines("opencode-tools.jsonl")[0] ?? "";
    expect(withModel.parseLine(line)).toEqual([{ type: "session.started", sessionId: "ses_e0359933cffe57WuNBe2xbCJyR", model: "fake/fake-model" }]);
    expect(createOpenCodeParser(invocation).parseLine(line)).toEqual([{ type: "session.started", sessionId: "ses_e0359933cffe57WuNBe2xbCJyR" }]);
  });

  it("resume: the session id is the resumed one", () => {
    expect(replay("opencode-resume.jsonl")[0]).toEqual({ type: "session.started", sessionId: "ses_e03123a46ffe2ZE7Aa62CWzKjy" });
  });
});

describe("opencode parser on lines it was not shown", () => {
  const line = (type: string, part: unknown, sessionID = "ses_1") => ({ type, timestamp: 1, sessionID, part });

  it("blank lines give nothing; non-JSON, truncated JSON and JSON of no known shape give unknown", () => {
    expect(parseOne("")).toEqual([]);
    expect(parseOne("  \r")).toEqual([]);
    expect(parseOne("Error: boom")).toEqual([{ type: "unknown", raw: "Error: boom" }]);
    expect(parseOne('{"type":"text","part":{"te')).toEqual([{ type: "unknown", raw: '{"type":"text","part":{"te' }]);
    for (const value of [null, 7, "x", [], {}, { type: 7 }, { type: "text" }, { type: "tool_use", part: {} }, { type: "error" }]) {
      const raw = JSON.stringify(value);
      expect(parseOne(raw)).toEqual([{ type: "unknown", raw }]);
    }
  });

  it("the session is announced once, by the first line naming it, even a line of unknown type", () => {
    const parser = createOpenCodeParser();
    const first = JSON.stringify({ type: "session.idle", sessionID: "ses_a" });
    expect(parser.parseLine(first)).toEqual([{ type: "session.started", sessionId: "ses_a" }, { type: "unknown", raw: first }]);
    expect(parser.parseLine(JSON.stringify(line("step_start", {}, "ses_a")))).toEqual([]);
  });

  it("reasoning is not shown; empty text is dropped; a result carries only the stop step's text", () => {
    const parser = createOpenCodeParser();
    const parse = (value: unknown) => parser.parseLine(JSON.stringify(value));
    parse(line("step_start", {}));
    expect(parse(line("reasoning", { text: "hmm" }))).toEqual([]);
    expect(parse(line("text", { text: "  " }))).toEqual([]);
    parse(line("text", { text: "first step" }));
    parse(line("step_finish", { reason: "tool-calls" }));
    parse(line("step_start", {}));
    parse(line("text", { text: "a" }));
    parse(line("text", { text: "b" }));
    expect(parse(line("step_finish", { reason: "length" }))).toEqual([
      { type: "result", ok: true, text: "a\nb", sessionId: "ses_1", turns: 2, reason: "length" },
    ]);
  });

  it("reasoning tokens count as output, cache tokens are kept; an error finish is not ok", () => {
    const events = parseOne(line("step_finish", { reason: "error", tokens: { input: 5, output: 1, reasoning: 2, cache: { read: 3, write: 4 } }, cost: 0.5 }));
    expect(events).toEqual([
      { type: "session.started", sessionId: "ses_1" },
      { type: "usage", usage: { inputTokens: 5, outputTokens: 3, cacheReadTokens: 3, cacheWriteTokens: 4 }, costUsd: 0.5 },
      expect.objectContaining({ type: "result", ok: false, reason: "error", costUsd: 0.5 }),
    ]);
  });

  it("odd optional fields are dropped, not the line", () => {
    const events = parseOne({
      type: "error",
      sessionID: 5,
      error: { name: "ProviderAuthError", data: { message: "  ", statusCode: 99999, isRetryable: "no" } },
    });
    expect(events).toEqual([{ type: "result", ok: false, text: "ProviderAuthError", turns: 0, reason: "ProviderAuthError" }]);
    expect(parseOne(line("step_finish", { reason: 3, tokens: { input: -1 }, cost: "free" })).slice(1)).toEqual([]);
    const tool = parseOne(line("tool_use", { tool: "bash", state: { status: "completed", input: { command: "x" }, output: 1, metadata: { exit: 1.5 } } }));
    expect(tool.slice(1)).toEqual([
      { type: "tool.called", name: "bash", summary: "x", input: { command: "x" } },
      { type: "tool.returned", isError: false, output: "" },
    ]);
  });

  it("long tool input and output are clipped", () => {
    const events = parseOne(
      line("tool_use", { tool: "write", callID: "c", state: { status: "completed", input: { filePath: "/w/a", content: "y".repeat(50_000) }, output: "z".repeat(100_000) } }),
    );
    const called = events.find((event) => event.type === "tool.called");
    expect(JSON.stringify(called).length).toBeLessThan(2_000);
    const returned = events.find((event) => event.type === "tool.returned");
    expect(returned?.type === "tool.returned" && returned.output.length).toBeLessThanOrEqual(EVENT_TEXT_LIMIT + 100);
  });
});
