// Proves the scripted model server against the real Claude Code CLI (offline, throw-away HOME and TMPDIR per
// test): a tool session, resume, each fault, and a failed `match`. Every spawned CLI is bounded and reaped.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { jsonLines, type CliResult } from "./support/cli.js";
import { BIN, useSandboxes } from "./support/e2e.js";
import { ScriptCursor } from "./support/model-server/script.js";
import { claudeBash, claudeEnv, claudeWrite, type ModelServer, type Script } from "./support/model-server/server.js";

const CLAUDE = join(BIN, "claude");
const RUN_TIMEOUT_MS = 25_000;

const sandboxes = useSandboxes({ prefix: "orch-model-server-" });

// ---- stream-json lines, parsed rather than cast --------------------------------------------------------

const Block = z.looseObject({ type: z.string() });
const ToolUse = z.object({ type: z.literal("tool_use"), id: z.string(), name: z.string() });
const ToolResult = z.object({ type: z.literal("tool_result"), tool_use_id: z.string() });
const Init = z.looseObject({ type: z.literal("system"), subtype: z.literal("init"), session_id: z.string() });
const ApiRetry = z.looseObject({
  type: z.literal("system"),
  subtype: z.literal("api_retry"),
  error_status: z.number().nullable(),
  retry_delay_ms: z.number(),
});
const AssistantOrUser = z.looseObject({
  type: z.enum(["assistant", "user"]),
  message: z.looseObject({ content: z.union([z.string(), z.array(Block)]) }),
});
const Result = z.looseObject({
  type: z.literal("result"),
  subtype: z.string(),
  is_error: z.boolean(),
  api_error_status: z.number().nullable(),
  result: z.string().optional(),
  session_id: z.string(),
  terminal_reason: z.string().optional(),
});
type ResultLine = z.infer<typeof Result>;

interface Run extends CliResult {
  /** stdout's JSON lines. */
  lines: unknown[];
}

async function runClaude(args: string[], options: { cwd: string; env: Record<string, string> }): Promise<Run> {
  const result = await sandboxes.run(CLAUDE, args, { ...options, timeoutMs: RUN_TIMEOUT_MS });
  return { ...result, lines: jsonLines(result.stdout) };
}

function claudeArgs(prompt: string, extra: string[] = []): string[] {
  return ["-p", prompt, "--output-format", "stream-json", "--verbose", "--allowedTools", "Write,Bash",
    "--permission-mode", "acceptEdits", ...extra];
}

/** One CLI run in a fresh sandbox against a fresh server playing `script`. */
async function session(script: Script, prompt: string, env: { maxRetries?: number; timeoutMs?: number } = {}) {
  const box = sandboxes.dir();
  const server = await sandboxes.server(script);
  const run = await runClaude(claudeArgs(prompt), {
    cwd: box.work,
    env: claudeEnv({ url: server.url, home: box.home, tmp: box.tmp, ...env }),
  });
  return { box, server, run };
}

function resultOf(run: Run): ResultLine {
  const results = run.lines.flatMap((line) => {
    const parsed = Result.safeParse(line);
    return parsed.success ? [parsed.data] : [];
  });
  const last = results.at(-1);
  if (last === undefined) {
    throw new Error(`no result line; stderr: ${run.stderr}\nstdout: ${JSON.stringify(run.lines)}`);
  }
  return last;
}

function blocksOf(run: Run, type: "assistant" | "user"): unknown[] {
  return run.lines.flatMap((line) => {
    const parsed = AssistantOrUser.safeParse(line);
    if (!parsed.success || parsed.data.type !== type || typeof parsed.data.message.content === "string") return [];
    return parsed.data.message.content;
  });
}

const RequestMessages = z.looseObject({
  messages: z.array(z.looseObject({ role: z.string(), content: z.union([z.string(), z.array(Block)]) })),
});

function messagesOf(body: unknown): z.infer<typeof RequestMessages>["messages"] {
  return RequestMessages.parse(body).messages;
}

// ---- the real CLI against the server -----------------------------------------------------------------

describe("scripted model server × real Claude Code CLI", () => {
  it("plays a Write + Bash + answer session to success", async () => {
    const box = sandboxes.dir();
    const target = join(box.work, "hello.txt");
    const server = await sandboxes.server([
      { ...claudeWrite(target, "hello from the script\n", "Writing the file."), match: "make hello" },
      { ...claudeBash("echo shell-ran > out.txt && cat hello.txt", "write out.txt"), match: "File created" },
      { text: "All done.", match: "hello from the script" },
    ]);
    const run = await runClaude(claudeArgs("please make hello"), {
      cwd: box.work,
      env: claudeEnv({ url: server.url, home: box.home, tmp: box.tmp }),
    });

    expect(server.problems()).toEqual([]);
    expect(run.code, run.stderr).toBe(0);
    expect(await readFile(target, "utf8")).toBe("hello from the script\n");
    expect(await readFile(join(box.work, "out.txt"), "utf8")).toBe("shell-ran\n");
    expect(run.lines.some((line) => Init.safeParse(line).success)).toBe(true);

    const toolUses = blocksOf(run, "assistant").flatMap((b) => {
      const parsed = ToolUse.safeParse(b);
      return parsed.success ? [parsed.data] : [];
    });
    expect(toolUses.map((t) => t.name)).toEqual(["Write", "Bash"]);
    const toolResults = blocksOf(run, "user").flatMap((b) => {
      const parsed = ToolResult.safeParse(b);
      return parsed.success ? [parsed.data] : [];
    });
    expect(toolResults.map((t) => t.tool_use_id)).toEqual(toolUses.map((t) => t.id));

    const result = resultOf(run);
    expect(result).toMatchObject({ subtype: "success", is_error: false, result: "All done." });

    const model = server.modelRequests();
    expect(model.map((r) => [r.turn, r.outcome])).toEqual([[0, "reply"], [1, "reply"], [2, "reply"]]);
    expect(model.every((r) => r.path === "/v1/messages")).toBe(true);
    // The follow-up request carries the Write call's tool_result for the id the server made up.
    const followUp = messagesOf(model[1]?.body).filter((m) => m.role === "user").at(-1);
    expect(followUp?.content).toEqual(
      expect.arrayContaining([expect.objectContaining({ type: "tool_result", tool_use_id: toolUses[0]?.id })]),
    );
    expect(server.remaining()).toEqual([]);
    // The preconnect probe is answered 404 without consuming a turn.
    expect(server.requests.filter((r) => r.outcome === "not_found").every((r) => r.turn === undefined)).toBe(true);
  });

  it("continues the same session with --resume, sending the earlier history", async () => {
    const box = sandboxes.dir();
    const server = await sandboxes.server([
      { text: "first answer alpha", match: "first prompt" },
      { text: "second answer beta", match: "second prompt" },
    ]);
    const env = claudeEnv({ url: server.url, home: box.home, tmp: box.tmp });
    const first = await runClaude(claudeArgs("first prompt"), { cwd: box.work, env });
    expect(first.code, first.stderr).toBe(0);
    const sessionId = resultOf(first).session_id;

    const second = await runClaude(claudeArgs("second prompt", ["--resume", sessionId]), { cwd: box.work, env });
    expect(second.code, second.stderr).toBe(0);
    expect(resultOf(second)).toMatchObject({ subtype: "success", is_error: false, result: "second answer beta" });
    expect(resultOf(second).session_id).toBe(sessionId);
    expect(server.problems()).toEqual([]);

    const resumed = JSON.stringify(messagesOf(server.modelRequests()[1]?.body));
    expect(resumed).toContain("first prompt");
    expect(resumed).toContain("first answer alpha");
    expect(resumed).toContain("second prompt");
  });

  it("429 with retry-after: retries once after the given delay, then fails with api_error_status 429", async () => {
    const { server, run } = await session([{ fault: "rate_limit", retryAfterSeconds: 1, repeat: 2 }], "hi", {
      maxRetries: 1,
    });
    const retries = run.lines.flatMap((line) => {
      const parsed = ApiRetry.safeParse(line);
      return parsed.success ? [parsed.data] : [];
    });
    expect(retries).toEqual([expect.objectContaining({ error_status: 429, retry_delay_ms: 1000 })]);
    expect(resultOf(run)).toMatchObject({ is_error: true, api_error_status: 429 });
    expect(resultOf(run).result).toContain("Request rejected (429)");
    expect(run.code).not.toBe(0);
    expect(server.modelRequests().map((r) => r.note)).toEqual(["rate_limit", "rate_limit"]);
    expect(server.remaining()).toEqual([]);
  });

  it("529 overloaded fails with api_error_status 529", async () => {
    const { run } = await session([{ fault: "overloaded" }], "hi");
    expect(resultOf(run)).toMatchObject({ is_error: true, api_error_status: 529 });
    expect(resultOf(run).result).toContain("529 Overloaded");
    expect(run.code).not.toBe(0);
  });

  it("401 is reported as an invalid API key", async () => {
    const { run } = await session([{ fault: "unauthorized" }], "hi");
    expect(resultOf(run)).toMatchObject({ is_error: true, api_error_status: 401 });
    expect(resultOf(run).result).toContain("Invalid API key");
    expect(run.code).not.toBe(0);
  });

  it("context too long ends with terminal_reason prompt_too_long", async () => {
    const { run } = await session([{ fault: "context_too_long" }], "hi");
    const result = resultOf(run);
    expect(result).toMatchObject({ is_error: true, api_error_status: 400, terminal_reason: "prompt_too_long" });
    expect(result.result).toContain("Prompt is too long");
    expect(run.code).not.toBe(0);
  });

  it("a hanging request is cut by API_TIMEOUT_MS and reported as a timeout", async () => {
    const { server, run } = await session([{ fault: "hang" }], "hi", { timeoutMs: 1_500 });
    expect(run.timedOut).toBe(false);
    expect(resultOf(run)).toMatchObject({ is_error: true, result: "Request timed out" });
    expect(run.code).not.toBe(0);
    expect(server.modelRequests().map((r) => r.note)).toEqual(["hang"]);
  });

  it("a malformed stream makes the CLI fall back to a non-streaming request, which is answered as JSON", async () => {
    const { server, run } = await session([{ fault: "malformed" }, { text: "recovered" }], "hi");
    expect(run.code, run.stderr).toBe(0);
    expect(resultOf(run)).toMatchObject({ is_error: false, result: "recovered" });
    const Streaming = z.looseObject({ stream: z.boolean().optional() });
    const streams = server.modelRequests().map((r) => Streaming.parse(r.body).stream);
    expect(streams).toEqual([true, undefined]);
  });

  it("a failed match is answered 500 with an explanation the CLI shows, and recorded", async () => {
    const { server, run } = await session([{ text: "never sent", match: "a phrase not in the prompt" }], "hi there");
    expect(resultOf(run)).toMatchObject({ is_error: true, api_error_status: 500 });
    expect(resultOf(run).result).toContain('expects the last user message to contain "a phrase not in the prompt"');
    expect(run.code).not.toBe(0);
    expect(server.problems()).toEqual([expect.stringContaining("hi there")]);
    expect(server.remaining()).toEqual([{ text: "never sent", match: "a phrase not in the prompt" }]);
  });
});

// ---- the server on its own (no CLI) ---------------------------------------------------------------------

describe("scripted model server, protocol level", () => {
  const post = (server: ModelServer, path: string, body: unknown): Promise<Response> =>
    fetch(`${server.url}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
  const userMessage = (text: string) => ({ model: "m", messages: [{ role: "user", content: text }] });

  it("answers probes and count_tokens without consuming turns, then reports exhaustion", async () => {
    const server = await sandboxes.server([{ text: "only" }]);
    expect((await fetch(`${server.url}/`, { method: "HEAD" })).status).toBe(404);
    expect((await fetch(`${server.url}/nope`)).status).toBe(404);
    const count = await post(server, "/v1/messages/count_tokens", userMessage("x"));
    expect(z.object({ input_tokens: z.number() }).parse(await count.json()).input_tokens).toBeGreaterThan(0);
    expect(server.remaining()).toHaveLength(1);

    const reply = await post(server, "/v1/messages", userMessage("x"));
    expect(await reply.json()).toMatchObject({
      type: "message",
      role: "assistant",
      stop_reason: "end_turn",
      content: [{ type: "text", text: "only" }],
    });
    const extra = await post(server, "/v1/messages?beta=true", userMessage("x"));
    expect(extra.status).toBe(500);
    expect(await extra.json()).toMatchObject({ type: "error", error: { type: "api_error" } });
    expect(server.problems()).toEqual([expect.stringContaining("script exhausted")]);
  });

  it("streams tool calls as input_json_delta chunks that reassemble to the input", async () => {
    const input = { file_path: "/x/y.txt", content: "some content that is long enough to split" };
    const usage = { input_tokens: 7, output_tokens: 3 };
    const server = await sandboxes.server([{ text: "t", tools: [{ name: "Write", input }], usage }]);
    const res = await post(server, "/v1/messages", { ...userMessage("x"), stream: true });
    expect(res.headers.get("content-type")).toBe("text/event-stream");
    const events = (await res.text())
      .split("\n\n")
      .filter((frame) => frame !== "")
      .map((frame) => z.looseObject({ type: z.string() }).parse(JSON.parse(frame.split("\ndata: ")[1] ?? "")));
    expect(events.map((e) => e.type)).toEqual([
      "message_start",
      "content_block_start", "content_block_delta", "content_block_stop",
      "content_block_start", "content_block_delta", "content_block_delta", "content_block_delta", "content_block_stop",
      "message_delta", "message_stop",
    ]);
    const Delta = z.object({ delta: z.object({ type: z.literal("input_json_delta"), partial_json: z.string() }) });
    const json = events.flatMap((e) => {
      const parsed = Delta.safeParse(e);
      return parsed.success ? [parsed.data.delta.partial_json] : [];
    });
    expect(JSON.parse(json.join(""))).toEqual(input);
    expect(events.at(-2)).toMatchObject({ delta: { stop_reason: "tool_use" }, usage: { output_tokens: 3 } });
  });

  it("sends Anthropic error bodies and retry-after for faults", async () => {
    const server = await sandboxes.server([
      { fault: "rate_limit", retryAfterSeconds: 7 },
      { fault: "server_error", status: 503 },
      { fault: "overloaded", retryAfterSeconds: 2 },
    ]);
    const limited = await post(server, "/v1/messages", userMessage("x"));
    expect(limited.status).toBe(429);
    expect(limited.headers.get("retry-after")).toBe("7");
    expect(await limited.json()).toEqual({
      type: "error",
      error: { type: "rate_limit_error", message: expect.any(String) },
    });
    const down = await post(server, "/v1/messages", userMessage("x"));
    expect([down.status, down.headers.get("retry-after")]).toEqual([503, null]);
    const overloaded = await post(server, "/v1/messages", userMessage("x"));
    expect([overloaded.status, overloaded.headers.get("retry-after")]).toEqual([529, "2"]);
  });

  it("close() ends a hanging request", async () => {
    const server = await sandboxes.server([{ fault: "hang" }]);
    const pending = post(server, "/v1/messages", userMessage("x")).then(
      () => "answered",
      () => "failed",
    );
    await expect.poll(() => server.requests.length).toBe(1);
    await server.close();
    expect(await pending).toBe("failed");
  });

  it("stall: 200 and an event stream's headers for a streamed request, JSON's for another, then nothing until close()", async () => {
    const server = await sandboxes.server([{ fault: "stall" }, { fault: "stall" }]);
    const streamed = await post(server, "/v1/messages", { ...userMessage("x"), stream: true });
    expect([streamed.status, streamed.headers.get("content-type")]).toEqual([200, "text/event-stream"]);
    const plain = await post(server, "/v1/messages", userMessage("x"));
    expect([plain.status, plain.headers.get("content-type")]).toEqual([200, "application/json"]);
    const bodies = [streamed, plain].map((res) => res.text().then(() => "ended", () => "cut"));
    expect(await Promise.race([...bodies, sleep(300).then(() => "silent")])).toBe("silent");
    await server.close();
    expect(await Promise.all(bodies)).toEqual(["cut", "cut"]);
    expect(server.modelRequests().map((r) => [r.outcome, r.note])).toEqual([["fault", "stall"], ["fault", "stall"]]);
  });

  it("model: a turn for one model answers only a request for it; another model's is a mismatch that keeps the turn", async () => {
    const server = await sandboxes.server([{ fault: "overloaded", model: "primary" }, { text: "from the fallback", model: "fallback" }]);
    expect((await post(server, "/v1/messages", { ...userMessage("x"), model: "primary" })).status).toBe(529);
    const wrong = await post(server, "/v1/messages", { ...userMessage("x"), model: "primary" });
    expect(wrong.status).toBe(500);
    expect(await wrong.json()).toMatchObject({ error: { message: expect.stringContaining('expects a request for model "fallback", but it asked for "primary"') } });
    expect(server.remaining()).toEqual([{ text: "from the fallback", model: "fallback" }]);
    const right = await post(server, "/v1/messages", { ...userMessage("x"), model: "fallback" });
    expect(await right.json()).toMatchObject({ model: "fallback", content: [{ type: "text", text: "from the fallback" }] });
    expect(server.modelRequests().map((r) => [r.model, r.outcome])).toEqual([
      ["primary", "fault"],
      ["primary", "mismatch"],
      ["fallback", "reply"],
    ]);
    expect(server.problems()).toEqual([expect.stringContaining("turn 1 expects a request for model")]);
  });

  it("keeps a repeated fault at the head until it is used up", () => {
    const cursor = new ScriptCursor([{ fault: "overloaded", repeat: 3 }, { text: "ok" }]);
    const any = { lastUserText: "", model: undefined };
    expect(cursor.take(any).kind).toBe("turn");
    expect(cursor.remaining()).toEqual([{ fault: "overloaded", repeat: 2 }, { text: "ok" }]);
    cursor.take(any);
    cursor.take(any);
    expect(cursor.remaining()).toEqual([{ text: "ok" }]);
    expect(() => new ScriptCursor([{ fault: "hang", repeat: 0 }])).toThrow(RangeError);
  });

  it("checks a turn's model before its match, and both before it is used", () => {
    const cursor = new ScriptCursor([{ fault: "overloaded", model: "a", match: "goal", repeat: 2 }, { text: "ok", model: "b" }]);
    expect(cursor.take({ lastUserText: "goal", model: "b" })).toMatchObject({ kind: "mismatch", index: 0, message: expect.stringContaining('model "a"') });
    expect(cursor.take({ lastUserText: "other", model: "a" })).toMatchObject({ kind: "mismatch", index: 0, message: expect.stringContaining('"goal"') });
    expect(cursor.take({ lastUserText: "goal", model: undefined })).toMatchObject({ kind: "mismatch", message: expect.stringContaining("asked for null") });
    expect(cursor.take({ lastUserText: "goal", model: "a" })).toMatchObject({ kind: "turn", index: 0 });
    expect(cursor.take({ lastUserText: "goal", model: "a" })).toMatchObject({ kind: "turn", index: 0 });
    expect(cursor.take({ lastUserText: "", model: "a" })).toMatchObject({ kind: "mismatch", index: 1 });
    expect(cursor.take({ lastUserText: "", model: "b" })).toMatchObject({ kind: "turn", index: 1 });
  });
});
