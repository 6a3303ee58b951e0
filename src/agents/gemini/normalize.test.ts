// Replays recorded Gemini CLI streams through the parser. gemini-tools.jsonl and gemini-4xx/5xx/429 files
// named after the shared samples are copies of /work/shared/agent-cli-samples; the others were recorded with
// gemini 0.61.0 against the scripted model server (test/support/model-server/gemini.ts).
import { describe, expect, it } from "vitest";
import { EVENT_TEXT_LIMIT, type AgentEvent } from "../../core/agent-event.js";
import { expectValidEvents, fixturesIn, parseLines } from "../../../test/support/agent-fixtures.js";
import { createGeminiParser } from "./normalize.js";

const fixtures = fixturesIn(new URL("./fixtures/", import.meta.url));
const replay = (name: string): AgentEvent[] => fixtures.replay(name, createGeminiParser());
/** Lines through one parser, objects as their JSON. */
const parseAll = (lines: unknown[]): AgentEvent[] => parseLines(createGeminiParser(), lines);

const FIXTURES = [
  "gemini-tools.jsonl",
  "gemini-400ctx.jsonl",
  "gemini-401.jsonl",
  "gemini-429-maxattempts2.jsonl",
  "gemini-429-retry-info.jsonl",
  "gemini-429x2.jsonl",
  "gemini-500.jsonl",
  "gemini-503-maxattempts2.jsonl",
  "gemini-529-maxattempts2.jsonl",
  "gemini-auto-model.jsonl",
  "gemini-malformed.jsonl",
  "gemini-resume.jsonl",
  "gemini-shell-exit-code.jsonl",
  "gemini-shell-fail-output.jsonl",
  "gemini-tool-denied.jsonl",
];

const SESSION = "d726025d-7e21-426d-a00b-8ea77af609f8";
const zero = { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0 };

describe("gemini parser on recorded streams", () => {
  it.each(FIXTURES)("%s: every event is valid and every line is understood", (name) => {
    const events = replay(name);
    expectValidEvents(events);
    expect(events.filter((event) => event.type === "unknown")).toEqual([]);
    expect(events.filter((event) => event.type === "result")).toHaveLength(1);
  });

  it("gemini-tools.jsonl: a write + shell + answer session, exactly", () => {
    const usage = { inputTokens: 303, outputTokens: 60, cacheReadTokens: 0 };
    expect(replay("gemini-tools.jsonl")).toEqual([
      { type: "session.started", sessionId: SESSION, model: "gemini-2.5-flash" },
      { type: "text", text: "Writing the file." },
      {
        type: "tool.called",
        id: "write_file__write_file_1795240125799_0",
        name: "write_file",
        summary: "hello.txt",
        input: { file_path: "hello.txt", content: "hello from fake model\n" },
      },
      { type: "tool.returned", id: "write_file__write_file_1795240125799_0", isError: false, output: "" },
      {
        type: "tool.called",
        id: "run_shell_command__run_shell_command_1795240125846_0",
        name: "run_shell_command",
        summary: "echo hi > out.txt",
        input: { command: "echo hi > out.txt", description: "write out.txt" },
      },
      // No output and success: the command exited 0 (a failure would read "Command exited with code: N").
      { type: "tool.returned", id: "run_shell_command__run_shell_command_1795240125846_0", isError: false, exitCode: 0, output: "" },
      { type: "text", text: "All done: wrote hello.txt and out.txt." },
      { type: "usage", usage },
      {
        type: "result",
        ok: true,
        text: "All done: wrote hello.txt and out.txt.",
        sessionId: SESSION,
        usage,
        reason: "success",
        permissionDenials: 0,
      },
    ]);
  });

  it("assistant deltas are joined into one text event per stretch of speech", () => {
    const events = replay("gemini-shell-exit-code.jsonl");
    expect(events.filter((event) => event.type === "text")).toEqual([
      { type: "text", text: "Writing." },
      { type: "text", text: "All done." },
    ]);
  });

  it("a shell command that printed nothing and failed: the exit code from the CLI's words", () => {
    expect(replay("gemini-shell-exit-code.jsonl")).toContainEqual({
      type: "tool.returned",
      id: "run_shell_command__run_shell_command_1795244299150_0",
      isError: false,
      exitCode: 3,
      output: "Command exited with code: 3",
    });
  });

  it("a shell command that printed and failed: the CLI hides the code, so none is claimed", () => {
    expect(replay("gemini-shell-fail-output.jsonl")).toContainEqual({
      type: "tool.returned",
      id: "run_shell_command__run_shell_command_1795244519931_0",
      isError: false,
      output: "boom\nerr",
    });
  });

  it("tools not offered in this approval mode are error results and count as denials; other tool errors do not", () => {
    const events = replay("gemini-tool-denied.jsonl");
    expect(events.filter((event) => event.type === "tool.returned").map((event) => event.type === "tool.returned" && event.isError)).toEqual([
      true,
      true,
      true,
    ]);
    expect(events).toContainEqual(expect.objectContaining({ type: "tool.returned", output: "File not found." }));
    expect(events.at(-1)).toMatchObject({ type: "result", ok: true, permissionDenials: 2, text: "Could not do it." });
  });

  it.each([
    ["gemini-400ctx.jsonl", 400, "[API Error: {\"error\":{\"code\":400,\"message\":\"The input token count"],
    ["gemini-401.jsonl", 401, "[API Error: {\"error\":{\"code\":401,\"message\":\"API key not valid."],
    ["gemini-500.jsonl", 500, "[API Error: {\"error\":{\"code\":500,"],
    ["gemini-529-maxattempts2.jsonl", 529, "[API Error: {\"error\":{\"code\":529,"],
  ])("%s: a failed result with the quoted status %i", (name, httpStatus, textStart) => {
    const result = replay(name).at(-1);
    expect(result).toMatchObject({ type: "result", ok: false, httpStatus, reason: "error" });
    expect(result?.type === "result" && result.text?.startsWith(textStart)).toBe(true);
  });

  it.each([
    ["gemini-429-maxattempts2.jsonl", "[API Error: Resource has been exhausted (e.g. check quota).]"],
    ["gemini-429-retry-info.jsonl", "[API Error: Resource has been exhausted (e.g. check quota).\nSuggested retry after 1s.]"],
    ["gemini-503-maxattempts2.jsonl", "[API Error: The model is overloaded. Please try again later.]"],
    ["gemini-malformed.jsonl", "[API Error: Unterminated string in JSON at position 55]"],
  ])("%s: a failed result whose message quotes no status (the exit code carries it)", (name, textStart) => {
    const result = replay(name).at(-1);
    expect(result).toMatchObject({ type: "result", ok: false, reason: "error" });
    expect(result?.type === "result" ? result.httpStatus : "missing").toBeUndefined();
    expect(result?.type === "result" && result.text?.startsWith(textStart)).toBe(true);
  });

  it("API errors still report the (empty) usage before the result", () => {
    expect(replay("gemini-401.jsonl").map((event) => event.type)).toEqual(["session.started", "usage", "result"]);
    expect(replay("gemini-401.jsonl")[1]).toEqual({ type: "usage", usage: zero });
  });

  it("an empty model response: the error line stays visible and gives the result its reason", () => {
    const events = replay("gemini-empty-response.jsonl");
    expect(events.map((event) => event.type)).toEqual(["session.started", "unknown", "usage", "result"]);
    expect(events.at(-1)).toMatchObject({
      type: "result",
      ok: false,
      reason: "error",
      text: "The model returned an empty response with no text or thoughts. This may be a transient API issue; please try again.",
    });
  });

  it("the router picked the model: the session says `auto`, the usage covers both models", () => {
    const events = replay("gemini-auto-model.jsonl");
    expect(events[0]).toMatchObject({ type: "session.started", model: "auto" });
    expect(events.at(-1)).toMatchObject({ type: "result", ok: true, usage: { inputTokens: 240, outputTokens: 48 } });
  });

  it("resume: the same session id, and the usage of this process only", () => {
    const events = replay("gemini-resume.jsonl");
    expect(events[0]).toEqual({ type: "session.started", sessionId: "1bfe90d4-a3c7-48af-b266-a05f1989b804", model: "gemini-2.5-flash" });
    expect(events.at(-1)).toMatchObject({ type: "result", ok: true, text: "second answer beta", sessionId: "1bfe90d4-a3c7-48af-b266-a05f1989b804" });
  });
});

describe("gemini parser on lines it was not shown", () => {
  it("blank lines give nothing; non-JSON, truncated JSON and JSON of no known shape give unknown", () => {
    expect(parseAll([""])).toEqual([]);
    expect(parseAll(["   \r"])).toEqual([]);
    expect(parseAll(["Warning: 256-color support not detected."])).toEqual([
      { type: "unknown", raw: "Warning: 256-color support not detected." },
    ]);
    expect(parseAll(['{"type":"tool_use","tool_na'])).toEqual([{ type: "unknown", raw: '{"type":"tool_use","tool_na' }]);
    for (const value of [null, 42, "text", [], {}, { type: 7 }, { type: "init" }, { type: "result" }, { type: "tool_use" }, { type: "later" }]) {
      const raw = JSON.stringify(value);
      expect(parseAll([raw])).toEqual([{ type: "unknown", raw }]);
    }
  });

  it("the prompt echo gives nothing; pending text is flushed before whatever comes next, even an unknown line", () => {
    const events = parseAll([
      { type: "message", role: "user", content: "the prompt" },
      { type: "message", role: "assistant", content: "Let me ", delta: true },
      { type: "message", role: "assistant", content: "look.", delta: true },
      "not json",
      { type: "message", role: "assistant", content: "  ", delta: true },
      { type: "tool_use", tool_name: "glob", tool_id: "g1", parameters: { pattern: "**/*.ts" } },
    ]);
    expect(events).toEqual([
      { type: "text", text: "Let me look." },
      { type: "unknown", raw: "not json" },
      { type: "tool.called", id: "g1", name: "glob", summary: '{"pattern":"**/*.ts"}', input: { pattern: "**/*.ts" } },
    ]);
  });

  it("the answer is what the model said after its last tool call", () => {
    const events = parseAll([
      { type: "init", session_id: "s1", model: "m" },
      { type: "message", role: "assistant", content: "I will run it.", delta: true },
      { type: "tool_use", tool_name: "run_shell_command", tool_id: "t1", parameters: { command: "npm test" } },
      { type: "tool_result", tool_id: "t1", status: "success", output: "ok" },
      { type: "message", role: "assistant", content: "Tests pass.", delta: true },
      { type: "result", status: "success", stats: { input_tokens: 10, output_tokens: 2, cached: 4, input: 6 } },
    ]);
    expect(events.at(-1)).toEqual({
      type: "result",
      ok: true,
      text: "Tests pass.",
      sessionId: "s1",
      usage: { inputTokens: 6, outputTokens: 2, cacheReadTokens: 4 },
      reason: "success",
      permissionDenials: 0,
    });
  });

  it("shell exit codes: from `Exit Code:` in an error, never for other tools, and output clipped", () => {
    const events = parseAll([
      { type: "tool_use", tool_name: "run_shell_command", tool_id: "s", parameters: { command: "x" } },
      { type: "tool_result", tool_id: "s", status: "error", error: { type: "shell_execute_error", message: "Error: spawn\nExit Code: 127" } },
      { type: "tool_use", tool_name: "read_file", tool_id: "r", parameters: { file_path: "a" } },
      { type: "tool_result", tool_id: "r", status: "success", output: "Command exited with code: 3" },
      { type: "tool_result", tool_id: "r", status: "success", output: "z".repeat(100_000) },
    ]);
    const returned = events.filter((event) => event.type === "tool.returned");
    expect(returned[0]).toEqual({ type: "tool.returned", id: "s", isError: true, exitCode: 127, output: "Error: spawn\nExit Code: 127" });
    expect(returned[1]).toEqual({ type: "tool.returned", id: "r", isError: false, output: "Command exited with code: 3" });
    const big = returned[2];
    expect(big?.type === "tool.returned" && big.output.length).toBeLessThanOrEqual(EVENT_TEXT_LIMIT + 100);
  });

  it("a result with odd optional fields keeps its core; usage is emitted only when present", () => {
    expect(parseAll([{ type: "result", status: "error", error: { type: 5, message: null }, stats: { input_tokens: -1 } }])).toEqual([
      { type: "result", ok: false, reason: "error", permissionDenials: 0 },
    ]);
    expect(parseAll([{ type: "result", status: "error", error: { type: "FatalTurnLimitedError", message: "Reached max session turns" } }])).toEqual([
      { type: "result", ok: false, text: "Reached max session turns", reason: "FatalTurnLimitedError", permissionDenials: 0 },
    ]);
  });

  it("summaries: the command for the shell, the path for file tools; big inputs are clipped", () => {
    const call = (name: string, parameters: unknown) => parseAll([{ type: "tool_use", tool_name: name, tool_id: "t", parameters }])[0];
    expect(call("run_shell_command", { command: "npm test\n  -- --run" })).toMatchObject({ summary: "npm test -- --run" });
    expect(call("replace", { file_path: "src/a.ts", old_string: "a", new_string: "b" })).toMatchObject({ summary: "src/a.ts" });
    const big = call("write_file", { file_path: "big.txt", content: "y".repeat(50_000) });
    expect(big?.type === "tool.called" && JSON.stringify(big.input).length).toBeLessThan(2_000);
    expect(call("list_directory", undefined)).toMatchObject({ summary: "" });
  });
});
