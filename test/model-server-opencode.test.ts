// Proves the Chat Completions protocol module against the real OpenCode CLI (offline, throw-away HOME and
// TMPDIR per test), driven exactly as orch drives it: the command, environment and stdin come from the
// opencode adapter's build(), its output goes through the adapter's parser and classify(). A tool session,
// resume with a narrower permission, and the faults OpenCode shows quickly. Every CLI is bounded and reaped.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import type { AgentInvocation } from "../src/agents/agent.js";
import { createOpenCodeAdapter } from "../src/agents/opencode/index.js";
import type { AgentEvent } from "../src/core/agent-event.js";
import { BIN, ofType, runAdapter, useSandboxes, type AdapterRun, type WorkSandbox } from "./support/e2e.js";
import {
  chatLastUserText,
  OPENCODE_FAKE_MODEL,
  openaiChatProtocol,
  opencodeBash,
  opencodeEnv,
  opencodeWrite,
  SIDE_REQUEST_TITLE,
  type OpenCodeEnvOptions,
} from "./support/model-server/openai-chat.js";
import type { ModelServer, Script } from "./support/model-server/server.js";

const RUN_TIMEOUT_MS = 45_000;
const adapter = createOpenCodeAdapter({ bin: join(BIN, "opencode") });

// OpenCode's bash tool and anything it started must go with it: afterEach fails a test that left one.
const sandboxes = useSandboxes({ prefix: "orch-opencode-" });
const serve = (script: Script): Promise<ModelServer> => sandboxes.server(script, [openaiChatProtocol]);

interface RunOptions {
  /** Stops the CLI early once the normalized events so far satisfy it. */
  until?: (events: AgentEvent[]) => boolean;
  /** false: drop orch's --title, so that OpenCode asks the model for one (the side request the server absorbs). */
  title?: boolean;
  /** orch's provider timeouts for this run (they win over the test HOME's opencode.json). */
  retryBounds?: { timeoutMs: number; chunkTimeoutMs: number };
}

/** One CLI process, exactly as orch would start it for `invocation` (in its own group, with the bash tool's children). */
function runOpenCode(invocation: AgentInvocation, options: RunOptions = {}): Promise<AdapterRun> {
  const built = options.retryBounds === undefined ? adapter : createOpenCodeAdapter({ bin: join(BIN, "opencode"), retryBounds: options.retryBounds });
  return runAdapter(sandboxes, built, invocation, {
    timeoutMs: RUN_TIMEOUT_MS,
    ...(options.until === undefined ? {} : { until: options.until }),
    ...(options.title === false ? { command: (built) => ({ ...built, args: withoutTitle(built.args) }) } : {}),
  });
}

function invocation(box: WorkSandbox, server: ModelServer, over: Partial<AgentInvocation> = {}, env: Partial<OpenCodeEnvOptions> = {}): AgentInvocation {
  return {
    prompt: "hi",
    cwd: box.work,
    model: OPENCODE_FAKE_MODEL,
    runId: "r1",
    taskId: "t1",
    attempt: 1,
    permission: "workspace-write",
    env: opencodeEnv({ url: server.url, home: box.home, tmp: box.tmp, ...env }),
    ...over,
  };
}

/** One CLI run in a fresh sandbox against a fresh server playing `script`. */
async function session(script: Script, options: RunOptions & { env?: Partial<OpenCodeEnvOptions> } = {}) {
  const box = sandboxes.dir();
  const server = await serve(script);
  const run = await runOpenCode(invocation(box, server, {}, options.env), options);
  return { box, server, run };
}

function withoutTitle(args: readonly string[]): string[] {
  const at = args.indexOf("--title");
  return at < 0 ? [...args] : [...args.slice(0, at), ...args.slice(at + 2)];
}

const ChatRequest = z.looseObject({
  messages: z.array(z.looseObject({ role: z.string(), content: z.unknown(), tool_call_id: z.string().optional() })),
  tools: z.array(z.looseObject({ function: z.looseObject({ name: z.string() }) })).optional(),
});
const toolNames = (body: unknown): string[] => (ChatRequest.parse(body).tools ?? []).map((tool) => tool.function.name).sort();

// ---- the real CLI against the server -----------------------------------------------------------------------

describe("scripted Chat Completions server × real OpenCode CLI", () => {
  it("plays a write + bash + answer session to success; the adapter reads every line", async () => {
    const box = sandboxes.dir();
    const target = join(box.work, "hello.txt");
    const server = await serve([
      { ...opencodeWrite(target, "hello from the script\n", "Writing the file."), match: 'please make "hello"' },
      { ...opencodeBash("echo shell-ran > out.txt && cat hello.txt", "write out.txt"), match: "Wrote file successfully" },
      { text: "All done.", match: "hello from the script" },
    ]);
    const run = await runOpenCode(invocation(box, server, { prompt: 'please make "hello" -- now' }));

    expect(server.problems()).toEqual([]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.failure).toBeUndefined();
    expect(await readFile(target, "utf8")).toBe("hello from the script\n");
    expect(await readFile(join(box.work, "out.txt"), "utf8")).toBe("shell-ran\n");

    expect(ofType(run.events, "unknown")).toEqual([]);
    const [started] = ofType(run.events, "session.started");
    expect(started?.sessionId).toMatch(/^ses_/);
    expect(started?.model).toBe(OPENCODE_FAKE_MODEL);
    expect(ofType(run.events, "session.started")).toHaveLength(1);
    const called = ofType(run.events, "tool.called");
    expect(called.map((event) => `${event.name} ${event.summary}`)).toEqual([`write ${target}`, "bash echo shell-ran > out.txt && cat hello.txt"]);
    expect(ofType(run.events, "tool.returned").map((event) => [event.isError, event.exitCode])).toEqual([
      [false, undefined],
      [false, 0],
    ]);
    expect(run.events.at(-1)).toEqual({
      type: "result",
      ok: true,
      text: "All done.",
      sessionId: started?.sessionId,
      usage: { inputTokens: 360, outputTokens: 72, cacheReadTokens: 0, cacheWriteTokens: 0 },
      costUsd: 0,
      turns: 3,
      reason: "stop",
    });

    // orch's --title spares the title request: every request is a scripted turn.
    const model = server.modelRequests();
    expect(model.map((r) => [r.turn, r.outcome])).toEqual([[0, "reply"], [1, "reply"], [2, "reply"]]);
    expect(server.requests).toHaveLength(3);
    expect(model.every((r) => r.path === "/v1/chat/completions")).toBe(true);
    // The prompt came through stdin word for word; the follow-up carries the write's result under the id given.
    expect(chatLastUserText(model[0]?.body)).toBe('please make "hello" -- now');
    expect(ChatRequest.parse(model[1]?.body).messages.at(-1)).toMatchObject({ role: "tool", tool_call_id: called[0]?.id });
    // workspace-write: files and shell offered, the web not.
    expect(toolNames(model[0]?.body)).toEqual(expect.arrayContaining(["bash", "edit", "read", "write"]));
    expect(toolNames(model[0]?.body)).not.toContain("webfetch");
    expect(server.remaining()).toEqual([]);
  });

  it("resumes the session with --session, sending the earlier history; read-only takes edits and shell away", async () => {
    const box = sandboxes.dir();
    const server = await serve([
      { text: "first answer alpha", match: "first prompt" },
      { text: "second answer beta", match: "second prompt" },
    ]);
    const first = await runOpenCode(invocation(box, server, { prompt: "first prompt" }));
    expect(first.code, first.stderr).toBe(0);
    const sessionId = ofType(first.events, "session.started")[0]?.sessionId ?? "";
    expect(sessionId).toMatch(/^ses_/);

    const resumed = invocation(box, server, { prompt: "second prompt", resumeSessionId: sessionId, attempt: 2, permission: "read-only" });
    const second = await runOpenCode(resumed);
    expect(second.code, second.stderr).toBe(0);
    expect(second.failure).toBeUndefined();
    expect(ofType(second.events, "session.started")).toEqual([{ type: "session.started", sessionId, model: OPENCODE_FAKE_MODEL }]);
    expect(second.events.at(-1)).toMatchObject({ type: "result", ok: true, text: "second answer beta", sessionId });
    expect(server.problems()).toEqual([]);

    const [one, two] = server.modelRequests();
    const history = JSON.stringify(ChatRequest.parse(two?.body).messages);
    expect(history).toContain("first prompt");
    expect(history).toContain("first answer alpha");
    expect(chatLastUserText(two?.body)).toBe("second prompt");
    expect(toolNames(one?.body)).toEqual(expect.arrayContaining(["bash", "edit", "write"]));
    const readOnlyTools = toolNames(two?.body);
    expect(readOnlyTools).toEqual(expect.arrayContaining(["glob", "grep", "read"]));
    for (const tool of ["bash", "edit", "write", "task", "webfetch"]) expect(readOnlyTools).not.toContain(tool);
  });

  it("401: no retry, an APIError line, classified auth_failed; the title side request takes no turn", async () => {
    const { server, run } = await session([{ fault: "unauthorized" }], { title: false });
    expect(run.code).toBe(1);
    expect(run.failure).toMatchObject({ kind: "auth_failed", httpStatus: 401 });
    expect(run.failure?.detail).toContain("Incorrect API key provided");
    expect(server.modelRequests().map((r) => r.note)).toEqual(["unauthorized"]);
    const side = server.requests.filter((r) => r.outcome === "fixed");
    expect(side.map((r) => [r.turn, toolNames(r.body)])).toEqual([[undefined, []]]);
    expect(server.remaining()).toEqual([]);
  });

  it("429 with retry-after: OpenCode retries five times at the given pace, then fails; classified rate_limited", async () => {
    const { server, run } = await session([{ fault: "rate_limit", retryAfterSeconds: 1, repeat: 10 }]);
    expect(run.code).toBe(1);
    const requests = server.modelRequests();
    expect(requests).toHaveLength(6);
    const gaps = requests.slice(1).map((r, i) => r.time - (requests[i]?.time ?? 0));
    for (const gap of gaps) expect(gap).toBeGreaterThanOrEqual(900);
    expect(run.failure).toMatchObject({ kind: "rate_limited", httpStatus: 429 });
    // "Please try again in 1s." — the reset time comes from the message (OpenCode prints no retries).
    expect(run.failure?.resetAt).toBeGreaterThan(Date.now() - 10_000);
  });

  it("a hanging request is cut by the provider timeout, not retried; classified as an unreachable API", async () => {
    const { server, run } = await session([{ fault: "hang" }, { text: "never sent" }], { retryBounds: { timeoutMs: 1_500, chunkTimeoutMs: 1_500 } });
    expect(run.timedOut).toBe(false);
    expect(run.code).toBe(1);
    expect(run.events.at(-1)).toMatchObject({ type: "result", ok: false, reason: "UnknownError", text: "The operation timed out." });
    expect(run.failure).toEqual({ kind: "overloaded", detail: "Could not reach the model API: The operation timed out." });
    expect(server.modelRequests().map((r) => r.note)).toEqual(["hang"]);
  });

  it("context too long: OpenCode compacts and retries without end; stopped here, classified context_exceeded", async () => {
    const overflows = (events: AgentEvent[]) => events.filter((e) => e.type === "result" && e.reason === "ContextOverflowError").length;
    const { server, run } = await session([{ fault: "context_too_long", repeat: 1_000 }], { until: (events) => overflows(events) >= 3 });
    expect(run.stopped).toBe(true);
    expect(run.failure?.kind).toBe("context_exceeded");
    // The compaction requests offer no tools: answered on the side, they leave the script alone.
    const faults = server.modelRequests().length;
    expect(faults).toBeGreaterThanOrEqual(3);
    expect(server.remaining()).toEqual([{ fault: "context_too_long", repeat: 1_000 - faults }]);
    expect(server.requests.some((r) => r.outcome === "fixed")).toBe(true);
  });

  it("a malformed stream is retried after a backoff and the session recovers", async () => {
    const { server, run } = await session([{ fault: "malformed" }, { text: "recovered" }]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.failure).toBeUndefined();
    expect(run.events.at(-1)).toMatchObject({ type: "result", ok: true, text: "recovered" });
    const [bad, good] = server.modelRequests();
    expect([bad?.note, good?.outcome]).toEqual(["malformed", "reply"]);
    expect((good?.time ?? 0) - (bad?.time ?? 0)).toBeGreaterThanOrEqual(1_500);
  });
});

// ---- the server on its own (no CLI) ---------------------------------------------------------------------------

describe("scripted Chat Completions server, protocol level", () => {
  const post = (server: ModelServer, body: unknown): Promise<Response> =>
    fetch(`${server.url}/v1/chat/completions`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  const tools = [{ type: "function", function: { name: "write", parameters: {} } }];
  const request = (text: string, extra: Record<string, unknown> = {}) => ({ model: "m", messages: [{ role: "user", content: text }], tools, ...extra });

  const Chunk = z.looseObject({
    choices: z.array(
      z.looseObject({
        delta: z.looseObject({
          content: z.string().optional(),
          tool_calls: z.array(z.looseObject({ index: z.number(), id: z.string().optional(), function: z.looseObject({ name: z.string().optional(), arguments: z.string().optional() }) })).optional(),
        }),
        finish_reason: z.string().nullable(),
      }),
    ),
    usage: z.looseObject({ prompt_tokens: z.number(), completion_tokens: z.number() }).optional(),
  });

  async function chunks(res: Response): Promise<{ data: z.infer<typeof Chunk>[]; done: boolean }> {
    const frames = (await res.text()).split("\n\n").filter((frame) => frame !== "");
    const done = frames.at(-1) === "data: [DONE]";
    return { data: frames.filter((frame) => frame !== "data: [DONE]").map((frame) => Chunk.parse(JSON.parse(frame.slice("data: ".length)))), done };
  }

  it("streams text and tool calls as deltas that reassemble, then the finish reason, usage and [DONE]", async () => {
    const input = { filePath: "/x/y.txt", content: "some content that is long enough to split" };
    const server = await serve([{ text: "Writing it.", tools: [{ name: "write", input }], usage: { input_tokens: 7, output_tokens: 3 } }]);
    const res = await post(server, request("x", { stream: true }));
    expect(res.headers.get("content-type")).toBe("text/event-stream");
    const { data, done } = await chunks(res);
    expect(done).toBe(true);
    const deltas = data.flatMap((chunk) => chunk.choices.map((choice) => choice.delta));
    expect(deltas.map((delta) => delta.content ?? "").join("")).toBe("Writing it.");
    const calls = deltas.flatMap((delta) => delta.tool_calls ?? []);
    expect(calls[0]).toMatchObject({ index: 0, id: expect.stringMatching(/^call_/), function: { name: "write" } });
    expect(JSON.parse(calls.map((call) => call.function.arguments ?? "").join(""))).toEqual(input);
    expect(data.flatMap((chunk) => chunk.choices.map((choice) => choice.finish_reason)).filter((r) => r !== null)).toEqual(["tool_calls"]);
    expect(data.at(-1)).toMatchObject({ choices: [], usage: { prompt_tokens: 7, completion_tokens: 3 } });
  });

  it("answers a tool-less request (title) on the side, non-streaming JSON too, and reports exhaustion as a 400", async () => {
    const server = await serve([{ text: "only" }]);
    const title = await post(server, { model: "m", stream: true, messages: [{ role: "user", content: "Generate a title" }] });
    const { data } = await chunks(title);
    expect(data.flatMap((chunk) => chunk.choices.map((choice) => choice.delta.content ?? "")).join("")).toBe(SIDE_REQUEST_TITLE);
    expect(server.remaining()).toHaveLength(1);

    const reply = await post(server, request("x"));
    expect(await reply.json()).toMatchObject({
      object: "chat.completion",
      choices: [{ message: { role: "assistant", content: "only" }, finish_reason: "stop" }],
    });
    const extra = await post(server, request("x"));
    expect(extra.status).toBe(400);
    expect(await extra.json()).toMatchObject({ error: { type: "invalid_request_error", message: expect.stringContaining("script exhausted") } });
    expect(server.problems()).toEqual([expect.stringContaining("script exhausted")]);
  });

  it("reads the text after the last assistant message: the prompt, or the tool results", () => {
    const body = {
      messages: [
        { role: "system", content: "sys" },
        { role: "user", content: [{ type: "text", text: "old prompt" }] },
        { role: "assistant", content: null, tool_calls: [] },
        { role: "tool", tool_call_id: "c1", content: "result one" },
        { role: "tool", tool_call_id: "c2", content: "result two" },
      ],
    };
    expect(chatLastUserText(body)).toBe("result one\nresult two");
    expect(chatLastUserText({ messages: [{ role: "user", content: [{ type: "text", text: "a" }, { type: "image_url" }] }] })).toBe("a");
    expect(chatLastUserText("nonsense")).toBe("");
  });

  it("stall: 200 and event-stream headers (JSON's when not streamed), then nothing until close(); a turn for another model is a mismatch", async () => {
    const server = await serve([{ fault: "stall", model: "a" }, { fault: "stall", model: "a" }, { text: "b only", model: "b" }]);
    const wrong = await post(server, { ...request("x", { stream: true }), model: "b" });
    expect([wrong.status, await wrong.json()]).toMatchObject([400, { error: { message: expect.stringContaining('expects a request for model "a", but it asked for "b"') } }]);
    const streamed = await post(server, { ...request("x", { stream: true }), model: "a" });
    expect([streamed.status, streamed.headers.get("content-type")]).toEqual([200, "text/event-stream"]);
    const plain = await post(server, { ...request("x"), model: "a" });
    expect([plain.status, plain.headers.get("content-type")]).toEqual([200, "application/json"]);
    const bodies = [streamed, plain].map((res) => res.text().then(() => "ended", () => "cut"));
    expect(await Promise.race([...bodies, sleep(300).then(() => "silent")])).toBe("silent");
    expect(await (await post(server, { ...request("x"), model: "b" })).json()).toMatchObject({ model: "b", choices: [{ message: { content: "b only" } }] });
    await server.close();
    expect(await Promise.all(bodies)).toEqual(["cut", "cut"]);
    expect(server.modelRequests().map((r) => [r.model, r.outcome])).toEqual([
      ["b", "mismatch"],
      ["a", "fault"],
      ["a", "fault"],
      ["b", "reply"],
    ]);
  });

  it("sends OpenAI error bodies: 429 and 503 with retry-after, 401, 400 context_length_exceeded", async () => {
    const server = await serve([
      { fault: "rate_limit", retryAfterSeconds: 7 },
      { fault: "overloaded", retryAfterSeconds: 1 },
      { fault: "unauthorized" },
      { fault: "context_too_long" },
      { fault: "server_error", status: 502 },
    ]);
    const limited = await post(server, request("x"));
    expect(limited.status).toBe(429);
    expect(limited.headers.get("retry-after")).toBe("7");
    expect(await limited.json()).toMatchObject({ error: { code: "rate_limit_exceeded", message: expect.stringContaining("try again in 7s") } });
    const overloaded = await post(server, request("x"));
    expect([overloaded.status, overloaded.headers.get("retry-after")]).toEqual([503, "1"]);
    expect(await (await post(server, request("x"))).json()).toMatchObject({ error: { code: "invalid_api_key" } });
    const long = await post(server, request("x"));
    expect([long.status, await long.json()]).toMatchObject([400, { error: { code: "context_length_exceeded" } }]);
    expect((await post(server, request("x"))).status).toBe(502);
  });
});
