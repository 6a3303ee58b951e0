// Proves the Gemini protocol module of the scripted model server against the real Gemini CLI (offline, a
// throw-away HOME and TMPDIR per test), started with the command line the gemini adapter builds and read back
// through the adapter's parser and classifier: a tool session, the permission levels, resume, side requests
// and the faults the CLI surfaces quickly. Every spawned CLI is bounded and its process group reaped.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import type { AgentInvocation } from "../src/agents/agent.js";
import { createGeminiAdapter } from "../src/agents/gemini/index.js";
import type { Permission } from "../src/agents/permission.js";
import type { AgentEvent } from "../src/core/agent-event.js";
import { BIN, runAdapter, useSandboxes, type AdapterRun, type WorkSandbox } from "./support/e2e.js";
import { geminiEnv, geminiLastUserText, geminiProtocol, geminiShell, geminiWrite } from "./support/model-server/gemini.js";
import type { ModelServer, RecordedRequest, Script } from "./support/model-server/server.js";

const MODEL = "gemini-2.5-flash";
const RUN_TIMEOUT_MS = 40_000;
const adapter = createGeminiAdapter({ bin: join(BIN, "gemini") });

const sandboxes = useSandboxes({ prefix: "orch-gemini-server-" });
const serve = (script: Script): Promise<ModelServer> => sandboxes.server(script, [geminiProtocol]);

interface RunOptions {
  prompt: string;
  permission?: Permission;
  /** Default MODEL; `null` leaves the choice to the CLI (its model router). */
  model?: string | null;
  resume?: string;
  maxAttempts?: number;
}

/**
 * One CLI run with the command line the adapter builds, in the sandbox, against `server`. Its own process
 * group: the CLI relaunches itself as a child, and its shell tool starts more.
 */
function runGemini(box: WorkSandbox, server: ModelServer, options: RunOptions): Promise<AdapterRun> {
  const invocation: AgentInvocation = {
    prompt: options.prompt,
    cwd: box.work,
    model: options.model === null ? undefined : (options.model ?? MODEL),
    resumeSessionId: options.resume,
    runId: "r1",
    taskId: "t1",
    attempt: 1,
    env: geminiEnv({ url: server.url, home: box.home, tmp: box.tmp, maxAttempts: options.maxAttempts ?? 1 }),
    permission: options.permission ?? "workspace-write",
  };
  return runAdapter(sandboxes, adapter, invocation, { timeoutMs: RUN_TIMEOUT_MS });
}

/** A fresh sandbox and server playing `script`, and one run. */
async function session(script: Script, options: RunOptions) {
  const box = sandboxes.dir();
  const server = await serve(script);
  const run = await runGemini(box, server, options);
  return { box, server, run };
}

function resultOf(run: AdapterRun): Extract<AgentEvent, { type: "result" }> {
  const result = run.events.findLast((e): e is Extract<AgentEvent, { type: "result" }> => e.type === "result");
  if (result === undefined) throw new Error(`no result line; exit ${String(run.code)}\nstderr: ${run.stderr}\nstdout: ${run.stdout}`);
  return result;
}

const Declarations = z.looseObject({
  tools: z.array(z.looseObject({ functionDeclarations: z.array(z.looseObject({ name: z.string() })).optional() })),
});

/** The tool names a model request offered. */
function toolsOffered(request: RecordedRequest | undefined): string[] {
  const parsed = Declarations.safeParse(request?.body);
  return parsed.success ? parsed.data.tools.flatMap((t) => (t.functionDeclarations ?? []).map((d) => d.name)) : [];
}

const Contents = z.looseObject({ contents: z.array(z.looseObject({ role: z.string(), parts: z.array(z.unknown()) })) });

// ---- the real CLI against the server -----------------------------------------------------------------

describe("scripted model server × real Gemini CLI", () => {
  it("plays a write_file + run_shell_command + answer session to success (workspace-write)", async () => {
    const box = sandboxes.dir();
    const server = await serve([
      { ...geminiWrite("hello.txt", "hello from the script\n", "Writing the file."), match: "please make hello" },
      { ...geminiShell("echo shell-ran > out.txt && cat hello.txt", "write out.txt"), match: "Successfully created" },
      { text: "All done.", match: "hello from the script" },
    ]);
    const run = await runGemini(box, server, { prompt: "please make hello" });

    expect(server.problems()).toEqual([]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.failure).toBeUndefined();
    expect(await readFile(join(box.work, "hello.txt"), "utf8")).toBe("hello from the script\n");
    expect(await readFile(join(box.work, "out.txt"), "utf8")).toBe("shell-ran\n");

    const started = run.events[0];
    expect(started).toMatchObject({ type: "session.started", model: MODEL });
    const sessionId = started?.type === "session.started" ? started.sessionId : "";
    expect(sessionId).toMatch(/^[0-9a-f-]{36}$/);
    const called = run.events.filter((e) => e.type === "tool.called");
    expect(called.map((e) => e.type === "tool.called" && [e.name, e.summary])).toEqual([
      ["write_file", "hello.txt"],
      ["run_shell_command", "echo shell-ran > out.txt && cat hello.txt"],
    ]);
    const returned = run.events.filter((e) => e.type === "tool.returned");
    expect(returned.map((e) => e.type === "tool.returned" && e.id)).toEqual(called.map((e) => e.type === "tool.called" && e.id));
    expect(returned[1]).toMatchObject({ isError: false, output: "hello from the script" });
    expect(run.events.filter((e) => e.type === "text").map((e) => e.type === "text" && e.text)).toEqual(["Writing the file.", "All done."]);
    expect(resultOf(run)).toMatchObject({ ok: true, text: "All done.", sessionId, reason: "success", permissionDenials: 0 });
    // Three turns of the default usage (120 in, 24 out), summed by the CLI.
    expect(resultOf(run).usage).toEqual({ inputTokens: 360, outputTokens: 72, cacheReadTokens: 0 });

    const model = server.modelRequests();
    expect(model.map((r) => [r.turn, r.outcome, r.path])).toEqual([
      [0, "reply", `/v1beta/models/${MODEL}:streamGenerateContent`],
      [1, "reply", `/v1beta/models/${MODEL}:streamGenerateContent`],
      [2, "reply", `/v1beta/models/${MODEL}:streamGenerateContent`],
    ]);
    // The follow-up request answers the write with a functionResponse for the same tool.
    const followUp = Contents.parse(model[1]?.body).contents.at(-1);
    expect(followUp?.role).toBe("user");
    expect(JSON.stringify(followUp?.parts)).toContain('"functionResponse":{"name":"write_file"');
    expect(geminiLastUserText(model[2]?.body)).toContain("hello from the script");
    expect(server.remaining()).toEqual([]);

    // workspace-write: edits and the shell, but not yolo's everything-approved extras.
    const offered = toolsOffered(model[0]);
    expect(offered).toEqual(expect.arrayContaining(["read_file", "write_file", "replace", "run_shell_command"]));
    expect(offered).not.toContain("list_background_processes");
  });

  it.each([
    ["read-only", ["read_file", "grep_search", "glob"], ["write_file", "replace", "run_shell_command"]],
    ["full", ["write_file", "replace", "run_shell_command", "list_background_processes"], []],
  ] as const)("permission %s offers the model %j and not %j", async (permission, offered, withheld) => {
    const { server, run } = await session([{ text: "ok" }], { prompt: "hi", permission });
    expect(run.code, run.stderr).toBe(0);
    const tools = toolsOffered(server.modelRequests()[0]);
    expect(tools).toEqual(expect.arrayContaining([...offered]));
    for (const name of withheld) expect(tools).not.toContain(name);
  });

  it("continues the same session with --resume, sending the earlier history", async () => {
    const box = sandboxes.dir();
    const server = await serve([
      { text: "first answer alpha", match: "first prompt" },
      { text: "second answer beta", match: "second prompt" },
    ]);
    const first = await runGemini(box, server, { prompt: "first prompt" });
    expect(first.code, first.stderr).toBe(0);
    const sessionId = resultOf(first).sessionId ?? "";

    const second = await runGemini(box, server, { prompt: "second prompt", resume: sessionId });
    expect(second.code, second.stderr).toBe(0);
    expect(second.events[0]).toMatchObject({ type: "session.started", sessionId });
    expect(resultOf(second)).toMatchObject({ ok: true, text: "second answer beta", sessionId });
    expect(server.problems()).toEqual([]);

    const resumed = JSON.stringify(server.modelRequests()[1]?.body);
    expect(resumed).toContain("first prompt");
    expect(resumed).toContain("first answer alpha");
    expect(resumed).toContain("second prompt");
  });

  it("without a model the CLI asks its router first; that side request is answered without using a turn", async () => {
    const { server, run } = await session([{ text: "routed", match: "hi" }], { prompt: "hi", model: null });
    expect(run.code, run.stderr).toBe(0);
    expect(resultOf(run)).toMatchObject({ ok: true, text: "routed" });
    expect(server.remaining()).toEqual([]);
    const side = server.requests.filter((r) => r.outcome === "fixed");
    expect(side.length).toBeGreaterThanOrEqual(1);
    expect(side.every((r) => r.path.endsWith(":generateContent") && r.turn === undefined)).toBe(true);
    expect(server.modelRequests()).toHaveLength(1);
    // The router's schema-shaped answer was accepted: no routing failure on stderr.
    expect(run.stderr).not.toContain("Strategy failed");
  });

  it("429 with RetryInfo: general.maxAttempts bounds the retries, and the CLI recovers within them", async () => {
    const { server, run } = await session([{ fault: "rate_limit", retryAfterSeconds: 1 }, { text: "recovered" }], {
      prompt: "hi",
      maxAttempts: 2,
    });
    expect(run.code, run.stderr).toBe(0);
    expect(resultOf(run)).toMatchObject({ ok: true, text: "recovered" });
    expect(server.modelRequests().map((r) => r.outcome)).toEqual(["fault", "reply"]);
    const [limited, retried] = server.modelRequests();
    expect((retried?.time ?? 0) - (limited?.time ?? 0)).toBeGreaterThanOrEqual(1_000);
  });

  it("429 out of attempts: exit 173 (429 mod 256), rate limited until Google's suggested time", async () => {
    const { server, run } = await session([{ fault: "rate_limit", retryAfterSeconds: 7 }], { prompt: "hi" });
    expect(run.code).toBe(173);
    expect(resultOf(run)).toMatchObject({ ok: false, reason: "error" });
    expect(resultOf(run).text).toContain("Suggested retry after 7s.");
    expect(run.failure).toMatchObject({ kind: "rate_limited", httpStatus: 429 });
    expect(run.failure?.resetAt).toBeGreaterThan(Date.now() + 5_000);
    expect(server.modelRequests().map((r) => r.note)).toEqual(["rate_limit"]);
  });

  it.each([
    ["overloaded", { fault: "overloaded" }, 247, { kind: "overloaded", httpStatus: 503 }],
    ["unauthorized", { fault: "unauthorized" }, 145, { kind: "auth_failed", httpStatus: 401 }],
    ["context_too_long", { fault: "context_too_long" }, 144, { kind: "context_exceeded", httpStatus: 400 }],
    ["malformed", { fault: "malformed" }, 1, { kind: "bad_output" }],
  ] as const)("%s: the CLI's exit code and the adapter's classification", async (_name, fault, exitCode, failure) => {
    const { server, run } = await session([fault], { prompt: "hi" });
    expect(run.code, run.stderr).toBe(exitCode);
    expect(resultOf(run).ok).toBe(false);
    expect(run.failure).toMatchObject(failure);
    expect(server.modelRequests()).toHaveLength(1);
  });

  it("an empty model reply exits 0, but its result says error: bad output, not a clean finish", async () => {
    const { run } = await session([{ text: "" }], { prompt: "hi" });
    expect(run.code).toBe(0);
    expect(resultOf(run)).toMatchObject({ ok: false, text: expect.stringContaining("empty response") });
    expect(run.failure?.kind).toBe("bad_output");
  });

  it("a failed match is answered 500 with an explanation the CLI shows, and recorded", async () => {
    const { server, run } = await session([{ text: "never sent", match: "a phrase not in the prompt" }], { prompt: "hi there" });
    expect(run.code).toBe(244);
    expect(resultOf(run)).toMatchObject({ ok: false, httpStatus: 500 });
    expect(resultOf(run).text).toContain('expects the last user message to contain \\"a phrase not in the prompt\\"');
    expect(server.problems()).toEqual([expect.stringContaining("hi there")]);
    expect(server.remaining()).toEqual([{ text: "never sent", match: "a phrase not in the prompt" }]);
  });
});

// ---- the protocol module on its own (no CLI) ------------------------------------------------------------

describe("Gemini protocol module, protocol level", () => {
  const post = (server: ModelServer, path: string, body: unknown): Promise<Response> =>
    fetch(`${server.url}${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  const userContent = (text: string) => ({ contents: [{ role: "user", parts: [{ text }] }] });
  const Chunk = z.looseObject({
    candidates: z.array(z.looseObject({ content: z.looseObject({ parts: z.array(z.unknown()) }), finishReason: z.string().optional() })),
  });

  it("streams text in pieces, then the calls, the finish reason and the usage", async () => {
    const server = await serve([{ text: "Writing it now.", tools: [{ name: "write_file", input: { file_path: "a.txt", content: "x" } }], usage: { input_tokens: 7, output_tokens: 3 } }]);
    const res = await post(server, "/v1beta/models/m1:streamGenerateContent?alt=sse", userContent("x"));
    expect(res.headers.get("content-type")).toBe("text/event-stream");
    const chunks = (await res.text())
      .split("\r\n\r\n")
      .filter((frame) => frame !== "")
      .map((frame) => Chunk.parse(JSON.parse(frame.replace(/^data: /, ""))));
    expect(chunks).toHaveLength(2);
    const parts = chunks.flatMap((c) => c.candidates[0]?.content.parts ?? []);
    expect(parts).toEqual([{ text: "Writing " }, { text: "it now." }, { functionCall: { name: "write_file", args: { file_path: "a.txt", content: "x" } } }]);
    expect(chunks[1]).toMatchObject({
      candidates: [{ finishReason: "STOP" }],
      usageMetadata: { promptTokenCount: 7, candidatesTokenCount: 3, totalTokenCount: 10 },
      modelVersion: "m1",
    });
  });

  it("answers generateContent and countTokens without consuming turns, JSON shaped after the requested schema", async () => {
    const server = await serve([{ text: "only" }]);
    const schema = {
      type: "OBJECT",
      properties: { reasoning: { type: "STRING" }, next_speaker: { type: "string", enum: ["user", "model"] }, score: { type: "INTEGER", minimum: 5 } },
    };
    const side = await post(server, "/v1beta/models/lite:generateContent", {
      ...userContent("route me"),
      generationConfig: { responseMimeType: "application/json", responseJsonSchema: schema },
    });
    const answer = Chunk.parse(await side.json()).candidates[0]?.content.parts[0];
    expect(JSON.parse(z.object({ text: z.string() }).parse(answer).text)).toEqual({ reasoning: "scripted", next_speaker: "user", score: 5 });
    const title = await post(server, "/v1beta/models/lite:generateContent", userContent("title please"));
    expect(Chunk.parse(await title.json()).candidates[0]?.content.parts).toEqual([{ text: "Scripted session" }]);
    expect(await (await post(server, "/v1beta/models/lite:countTokens", userContent("x"))).json()).toEqual({ totalTokens: 120 });
    expect(server.remaining()).toEqual([{ text: "only" }]);
    expect((await fetch(`${server.url}/v1beta/models`)).status).toBe(404);
  });

  it("reads the last user content: prompt text and function responses", () => {
    const body = {
      contents: [
        { role: "user", parts: [{ text: "first" }] },
        { role: "model", parts: [{ functionCall: { name: "run_shell_command", args: {} } }] },
        { role: "user", parts: [{ functionResponse: { name: "run_shell_command", response: { output: "Output: hi" } } }, { functionResponse: { name: "x", response: { error: "no" } } }] },
      ],
    };
    expect(geminiLastUserText(body)).toBe('Output: hi\n{"error":"no"}');
    expect(geminiLastUserText({ nope: 1 })).toBe("");
  });

  it("stall: 200 and event-stream headers, then nothing until close(); a turn's model is read from the path", async () => {
    const server = await serve([{ fault: "stall", model: "gemini-a" }, { text: "b only", model: "gemini-b" }]);
    const wrong = await post(server, "/v1beta/models/gemini-b:streamGenerateContent?alt=sse", userContent("x"));
    expect([wrong.status, await wrong.text()]).toEqual([500, expect.stringContaining('expects a request for model \\"gemini-a\\", but it asked for \\"gemini-b\\"')]);
    const stalled = await post(server, "/v1beta/models/gemini-a:streamGenerateContent?alt=sse", userContent("x"));
    expect([stalled.status, stalled.headers.get("content-type")]).toEqual([200, "text/event-stream"]);
    const body = stalled.text().then(() => "ended", () => "cut");
    expect(await Promise.race([body, sleep(300).then(() => "silent")])).toBe("silent");
    const reply = await post(server, "/v1beta/models/gemini-b:streamGenerateContent?alt=sse", userContent("x"));
    expect(await reply.text()).toContain('"modelVersion":"gemini-b"');
    await server.close();
    expect(await body).toBe("cut");
    expect(server.modelRequests().map((r) => [r.model, r.outcome])).toEqual([
      ["gemini-b", "mismatch"],
      ["gemini-a", "fault"],
      ["gemini-b", "reply"],
    ]);
  });

  it("sends Google error bodies, with RetryInfo and retry-after for rate limits", async () => {
    const server = await serve([{ fault: "rate_limit", retryAfterSeconds: 7 }, { fault: "server_error", status: 502 }]);
    const limited = await post(server, "/v1beta/models/m:streamGenerateContent?alt=sse", userContent("x"));
    expect(limited.status).toBe(429);
    expect(limited.headers.get("retry-after")).toBe("7");
    expect(await limited.json()).toEqual({
      error: {
        code: 429,
        message: "Resource has been exhausted (e.g. check quota).",
        status: "RESOURCE_EXHAUSTED",
        details: [{ "@type": "type.googleapis.com/google.rpc.RetryInfo", retryDelay: "7s" }],
      },
    });
    const down = await post(server, "/v1beta/models/m:streamGenerateContent?alt=sse", userContent("x"));
    expect(down.status).toBe(502);
    expect(await down.json()).toMatchObject({ error: { code: 502, status: "INTERNAL" } });
  });
});
