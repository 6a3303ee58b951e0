// Proves the scripted model server's OpenAI Responses protocol against the real Codex CLI (offline, throw-away
// HOME, CODEX_HOME and TMPDIR per test): a tool session, resume, each fault, a failed `match`, and the sandbox
// modes orch maps its permissions to, in a linked git worktree. Every spawned CLI is bounded and reaped.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { permissionArgs } from "../src/agents/codex/command.js";
import type { Permission } from "../src/agents/permission.js";
import { jsonLines, type CliResult } from "./support/cli.js";
import { BIN, FAILING_REPO, SUM, useSandboxes } from "./support/e2e.js";
import {
  addFilePatch,
  codexEnv,
  codexExec,
  codexPatch,
  openaiResponsesProtocol,
  replaceFilePatch,
  responsesLastUserText,
  writeCodexHome,
  type CodexHomeOptions,
} from "./support/model-server/openai-responses.js";
import type { ModelServer, Script } from "./support/model-server/server.js";
import type { Sandbox } from "./support/repo.js";

const CODEX = join(BIN, "codex");
const RUN_TIMEOUT_MS = 25_000;

// Codex starts a login shell at startup to snapshot the user's shell; when Codex fails fast (a 401, a 429) that shell
// may finish a moment after it. It ends on its own: a grace lets it, anything still there after it fails the test.
// (orch itself stops whatever an agent left when the agent ends: process/marked.ts.)
const sandboxes = useSandboxes({ prefix: "orch-codex-server-", graceMs: 3_000 });

// ---- exec --json lines, parsed rather than cast --------------------------------------------------------

const ThreadStarted = z.object({ type: z.literal("thread.started"), thread_id: z.string() });
const Item = z.looseObject({ id: z.string(), type: z.string() });
const ItemLine = z.object({ type: z.enum(["item.started", "item.updated", "item.completed"]), item: Item });
const TurnCompleted = z.object({
  type: z.literal("turn.completed"),
  usage: z.looseObject({ input_tokens: z.number(), output_tokens: z.number() }),
});
const TurnFailed = z.object({ type: z.literal("turn.failed"), error: z.object({ message: z.string() }) });
const ErrorLine = z.object({ type: z.literal("error"), message: z.string() });

interface Run extends CliResult {
  /** stdout's JSON lines. */
  lines: unknown[];
}

interface RunOptions {
  cwd: string;
  env: Record<string, string>;
  /** Written to stdin (then closed); the prompt when the args end in `-`. */
  stdin: string;
  timeoutMs?: number;
}

/** `codex` in its own process group: a node launcher of a native binary, and a kill must reach both. */
async function runCodex(args: string[], options: RunOptions): Promise<Run> {
  const result = await sandboxes.run(CODEX, args, { ...options, timeoutMs: options.timeoutMs ?? RUN_TIMEOUT_MS });
  return { ...result, lines: jsonLines(result.stdout) };
}

const serve = (script: Script): Promise<ModelServer> => sandboxes.server(script, [openaiResponsesProtocol]);

/** Writes the box's CODEX_HOME for `server` and returns the environment that runs Codex against it. */
function envFor(box: Sandbox, server: ModelServer, home: Omit<CodexHomeOptions, "url"> = {}): Record<string, string> {
  const codexHome = join(box.root, "codex-home");
  writeCodexHome(codexHome, { url: server.url, ...home });
  return codexEnv({ home: box.home, codexHome, tmp: box.tmp });
}

/** `codex exec --json` as orch runs it: the permission's sandbox flags, the prompt on stdin. */
function execArgs(permission: Permission = "workspace-write", resume?: string): string[] {
  return ["exec", ...(resume === undefined ? [] : ["resume"]), "--json", "--skip-git-repo-check", ...permissionArgs(permission), "--", ...(resume === undefined ? [] : [resume]), "-"];
}

/** One CLI run in a fresh sandbox against a fresh server playing `script`. */
async function session(script: Script, prompt: string, home: Omit<CodexHomeOptions, "url"> = {}) {
  const box = sandboxes.dir();
  const server = await serve(script);
  const run = await runCodex(execArgs(), { cwd: box.work, env: envFor(box, server, home), stdin: prompt });
  return { box, server, run };
}

function linesOf<T extends z.ZodType>(run: Run, schema: T): z.output<T>[] {
  return run.lines.flatMap((line) => {
    const parsed = schema.safeParse(line);
    return parsed.success ? [parsed.data] : [];
  });
}

function completedItems(run: Run): z.infer<typeof Item>[] {
  return linesOf(run, ItemLine).filter((l) => l.type === "item.completed").map((l) => l.item);
}

function threadId(run: Run): string {
  const started = linesOf(run, ThreadStarted)[0];
  if (started === undefined) throw new Error(`no thread.started; stderr: ${run.stderr}\nstdout: ${JSON.stringify(run.lines)}`);
  return started.thread_id;
}

function failure(run: Run): string {
  const failed = linesOf(run, TurnFailed).at(-1);
  if (failed === undefined) throw new Error(`no turn.failed; stderr: ${run.stderr}\nstdout: ${JSON.stringify(run.lines)}`);
  return failed.error.message;
}

const RequestBody = z.looseObject({
  model: z.string(),
  stream: z.boolean(),
  input: z.array(z.looseObject({ type: z.string().optional() })),
  tools: z.array(z.looseObject({ type: z.string(), name: z.string().optional() })),
});

// ---- the real CLI against the server -----------------------------------------------------------------

describe("scripted Responses server × real Codex CLI", () => {
  it("plays an apply_patch + exec_command + answer session to success", async () => {
    const box = sandboxes.dir();
    const server = await serve([
      { ...codexPatch(addFilePatch("hello.txt", "hello from the script\n"), "Writing the file."), match: "make hello" },
      { ...codexExec("echo shell-ran > out.txt && cat hello.txt"), match: "Success. Updated the following files" },
      { text: "All done.", match: "hello from the script", usage: { input_tokens: 7, output_tokens: 3 } },
    ]);
    const run = await runCodex(execArgs(), { cwd: box.work, env: envFor(box, server), stdin: "please make hello" });

    expect(server.problems()).toEqual([]);
    expect(run.code, run.stderr).toBe(0);
    expect(readFileSync(join(box.work, "hello.txt"), "utf8")).toBe("hello from the script\n");
    expect(readFileSync(join(box.work, "out.txt"), "utf8")).toBe("shell-ran\n");
    threadId(run);

    const items = completedItems(run);
    expect(items.map((i) => i.type)).toEqual(["agent_message", "file_change", "command_execution", "agent_message"]);
    expect(items[1]).toMatchObject({ status: "completed", changes: [{ path: join(box.work, "hello.txt"), kind: "add" }] });
    expect(items[2]).toMatchObject({ exit_code: 0, aggregated_output: "hello from the script\n" });
    expect(items[3]).toMatchObject({ text: "All done." });
    // The thread's totals: DEFAULT_USAGE twice, then the last turn's own figures.
    expect(linesOf(run, TurnCompleted)[0]?.usage).toMatchObject({ input_tokens: 120 + 120 + 7, output_tokens: 24 + 24 + 3 });

    const model = server.modelRequests();
    expect(model.map((r) => [r.path, r.turn, r.outcome])).toEqual([
      ["/v1/responses", 0, "reply"],
      ["/v1/responses", 1, "reply"],
      ["/v1/responses", 2, "reply"],
    ]);
    const first = RequestBody.parse(model[0]?.body);
    expect(first).toMatchObject({ model: "gpt-5.5", stream: true });
    // A catalogued model gets apply_patch as a freeform (custom) tool.
    expect(first.tools).toEqual(expect.arrayContaining([expect.objectContaining({ type: "custom", name: "apply_patch" })]));
    expect(first.tools).toEqual(expect.arrayContaining([expect.objectContaining({ type: "function", name: "exec_command" })]));
    // Each follow-up carries the call and its output under the call id the server made up.
    const second = RequestBody.parse(model[1]?.body).input;
    const call = z.object({ call_id: z.string() }).parse(second.findLast((i) => i.type === "custom_tool_call"));
    expect(second.at(-1)).toMatchObject({ type: "custom_tool_call_output", call_id: call.call_id });
    expect(RequestBody.parse(model[2]?.body).input.at(-1)).toMatchObject({ type: "function_call_output" });
    expect(server.remaining()).toEqual([]);
  });

  it("continues the same thread with `exec resume`, sending the earlier history", async () => {
    const box = sandboxes.dir();
    const server = await serve([
      { text: "first answer alpha", match: "first prompt" },
      { text: "second answer beta", match: "second prompt" },
    ]);
    const env = envFor(box, server);
    const first = await runCodex(execArgs(), { cwd: box.work, env, stdin: "first prompt" });
    expect(first.code, first.stderr).toBe(0);
    const id = threadId(first);

    const second = await runCodex(execArgs("workspace-write", id), { cwd: box.work, env, stdin: "second prompt" });
    expect(second.code, second.stderr).toBe(0);
    expect(threadId(second)).toBe(id);
    expect(completedItems(second).at(-1)).toMatchObject({ type: "agent_message", text: "second answer beta" });
    expect(server.problems()).toEqual([]);

    const resumed = JSON.stringify(server.modelRequests()[1]?.body);
    expect(resumed).toContain("first prompt");
    expect(resumed).toContain("first answer alpha");
    expect(resumed).toContain("second prompt");
    // The thread's totals carry over: turn.completed of the resumed run counts both requests.
    expect(linesOf(second, TurnCompleted)[0]?.usage).toMatchObject({ input_tokens: 240, output_tokens: 48 });
  });

  it("429 with retry-after: retried after the delay, then 'exceeded retry limit, last status: 429'", async () => {
    const { server, run } = await session([{ fault: "rate_limit", retryAfterSeconds: 1, repeat: 2 }], "hi", { streamMaxRetries: 1 });
    expect(linesOf(run, ErrorLine).map((e) => e.message)).toEqual([
      expect.stringMatching(/^Reconnecting\.\.\. 1\/1 \(exceeded retry limit, last status: 429 Too Many Requests/),
      expect.stringMatching(/^exceeded retry limit, last status: 429 Too Many Requests/),
    ]);
    expect(failure(run)).toMatch(/^exceeded retry limit, last status: 429/);
    expect(run.code).toBe(1);
    const [a, b] = server.modelRequests();
    expect(server.modelRequests().map((r) => r.note)).toEqual(["rate_limit", "rate_limit"]);
    expect((b?.time ?? 0) - (a?.time ?? 0)).toBeGreaterThanOrEqual(900);
  });

  it("429 without retry-after is not retried", async () => {
    const { server, run } = await session([{ fault: "rate_limit" }, { text: "never sent" }], "hi", { streamMaxRetries: 2, requestMaxRetries: 2 });
    expect(failure(run)).toMatch(/last status: 429 Too Many Requests/);
    expect(run.code).toBe(1);
    expect(server.modelRequests()).toHaveLength(1);
  });

  it("overloaded (503): each stream retry is an `error` line, then the server's words", async () => {
    const { server, run } = await session([{ fault: "overloaded", repeat: 3 }], "hi", { streamMaxRetries: 2 });
    expect(linesOf(run, ErrorLine).filter((e) => e.message.startsWith("Reconnecting... ")).map((e) => e.message.slice(0, 19))).toEqual([
      "Reconnecting... 1/2",
      "Reconnecting... 2/2",
    ]);
    expect(failure(run)).toMatch(/^unexpected status 503 Service Unavailable: The server is overloaded or not ready yet\., url: http:\/\/127\.0\.0\.1:\d+\/v1\/responses/);
    expect(run.code).toBe(1);
    expect(server.remaining()).toEqual([]);
  });

  it("a 500 is shown in Codex's own words, a 502 with the server's", async () => {
    expect(failure((await session([{ fault: "server_error" }], "hi")).run)).toBe("We’re currently experiencing high demand, which may cause temporary errors.");
    expect(failure((await session([{ fault: "server_error", status: 502 }], "hi")).run)).toMatch(/^unexpected status 502 Bad Gateway: /);
  });

  it("401 is reported as an incorrect API key", async () => {
    const { run } = await session([{ fault: "unauthorized" }], "hi");
    expect(failure(run)).toMatch(/^unexpected status 401 Unauthorized: Incorrect API key provided/);
    expect(run.code).toBe(1);
  });

  it("context too long: Codex says it ran out of room in the context window", async () => {
    const { server, run } = await session([{ fault: "context_too_long" }], "hi", { streamMaxRetries: 2 });
    expect(failure(run)).toContain("Codex ran out of room in the model's context window");
    expect(run.code).toBe(1);
    expect(server.modelRequests()).toHaveLength(1);
  });

  it("a malformed stream is retried as a broken stream, and the retry recovers", async () => {
    const { server, run } = await session([{ fault: "malformed" }, { text: "recovered" }], "hi", { streamMaxRetries: 1 });
    expect(run.code, run.stderr).toBe(0);
    expect(linesOf(run, ErrorLine)[0]?.message).toContain("stream disconnected before completion");
    expect(completedItems(run).at(-1)).toMatchObject({ text: "recovered" });
    expect(server.remaining()).toEqual([]);
  });

  it("a request that never gets headers hangs Codex (no timeout applies): the caller must bound it", async () => {
    const box = sandboxes.dir();
    const server = await serve([{ fault: "hang" }]);
    const env = envFor(box, server, { streamIdleTimeoutMs: 500 });
    const run = await runCodex(execArgs(), { cwd: box.work, env, stdin: "hi", timeoutMs: 3_000 });
    expect(run.timedOut).toBe(true);
    expect(run.lines.map((l) => z.looseObject({ type: z.string() }).parse(l).type)).toEqual(["thread.started", "turn.started"]);
    expect(server.modelRequests().map((r) => r.note)).toEqual(["hang"]);
  });

  it("a failed match is answered 400 with an explanation Codex shows, and recorded", async () => {
    const { server, run } = await session([{ text: "never sent", match: "a phrase not in the prompt" }], "hi there");
    expect(failure(run)).toContain('expects the last user message to contain \\"a phrase not in the prompt\\"');
    expect(run.code).toBe(1);
    expect(server.problems()).toEqual([expect.stringContaining("hi there")]);
    expect(server.remaining()).toEqual([{ text: "never sent", match: "a phrase not in the prompt" }]);
  });
});

// ---- the sandbox modes orch maps its permissions to, in a linked worktree ------------------------------------

/**
 * Codex with `permission`'s sandbox flags, working in a linked worktree of the failing repository whose git dir
 * lives in the main repository (as orch makes it), against a server playing `script`; the run must succeed.
 */
async function inLinkedWorktree(permission: Permission, script: Script, prompt: string) {
  const repo = sandboxes.repo(FAILING_REPO);
  const worktree = join(repo.runWorktrees, "run-1", "task-1");
  repo.git(["worktree", "add", "--quiet", "-b", "orch/run-1/task-1", worktree]);
  expect(readFileSync(join(worktree, ".git"), "utf8")).toBe(`gitdir: ${join(repo.dir, ".git", "worktrees", "task-1")}\n`);
  const server = await serve(script);
  const run = await runCodex(execArgs(permission), { cwd: worktree, env: envFor(repo, server), stdin: prompt });
  expect(run.code, run.stderr).toBe(0);
  expect(server.problems()).toEqual([]);
  return { repo, worktree, server, run };
}

const LISTEN = `node -e "require('node:http').createServer().listen(0, '127.0.0.1', function () { console.log('listening'); this.close(); })"`;

describe("Codex sandbox modes in a linked git worktree (as root here)", () => {
  it("workspace-write (orch's default): patches, node --test, file writes and a loopback listen work; git metadata is read-only", async () => {
    const script: Script = [
      { ...codexPatch(replaceFilePatch("src/sum.js", SUM.buggy, SUM.fixed)), match: "fix" },
      codexExec("node --test && echo written > note.txt && echo ok-write"),
      codexExec(LISTEN),
      codexExec("git add --all && echo staged"),
      { text: "done", match: "git" },
    ];
    const { worktree, server, run } = await inLinkedWorktree("workspace-write", script, "fix the tests");

    const [patch, tests, listen, ...rest] = completedItems(run).filter((i) => i.type !== "agent_message");
    expect(patch).toMatchObject({ type: "file_change", status: "completed" });
    expect(readFileSync(join(worktree, "src", "sum.js"), "utf8")).toBe(SUM.fixed);
    expect(tests).toMatchObject({ exit_code: 0, aggregated_output: expect.stringContaining("# pass 1") });
    expect(readFileSync(join(worktree, "note.txt"), "utf8")).toBe("written\n");
    expect(listen).toMatchObject({ exit_code: 0, aggregated_output: "listening\n" });
    // The worktree's git dir is in the main repository, outside the sandbox's writable roots: orch commits.
    // (Codex reports a command the sandbox refused to the model, and only sometimes as an item on the stream.)
    for (const item of rest) expect(item).toMatchObject({ type: "command_execution", exit_code: 128, status: "failed" });
    const staged = responsesLastUserText(server.modelRequests()[4]?.body);
    expect(staged).toContain("Process exited with code 128");
    expect(staged).toContain("index.lock': Read-only file system");
  });

  it("read-only: commands run, writes are refused", async () => {
    const script: Script = [codexExec("node --test; echo x > note.txt"), { text: "could not write", match: "Read-only file system" }];
    const { worktree, server } = await inLinkedWorktree("read-only", script, "try");
    expect(responsesLastUserText(server.modelRequests()[1]?.body)).toContain("# fail 1");
    expect(existsSync(join(worktree, "note.txt"))).toBe(false);
  });

  it("full: no sandbox, even as root: git metadata is writable too", async () => {
    const script: Script = [codexExec("echo x > note.txt && git add note.txt && echo staged"), { text: "done", match: "staged" }];
    const { repo, worktree } = await inLinkedWorktree("full", script, "go");
    expect(repo.git(["status", "--porcelain"], worktree)).toBe("A  note.txt");
  });
});

// ---- the protocol on its own (no CLI) ---------------------------------------------------------------------

describe("Responses protocol, without the CLI", () => {
  const post = (server: ModelServer, body: unknown): Promise<Response> =>
    fetch(`${server.url}/v1/responses`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  const userInput = (text: string, stream = false) => ({
    model: "m",
    stream,
    input: [{ type: "message", role: "user", content: [{ type: "input_text", text }] }],
  });

  it("reads the text the model answers: the trailing tool outputs, else the last user message", () => {
    expect(responsesLastUserText(userInput("the prompt"))).toBe("the prompt");
    const input = [
      { type: "message", role: "user", content: [{ type: "input_text", text: "<environment_context/>" }] },
      { type: "message", role: "user", content: [{ type: "input_text", text: "prompt" }] },
      { type: "function_call", name: "exec_command", arguments: "{}", call_id: "c1" },
      { type: "function_call_output", call_id: "c1", output: "out one" },
      { type: "custom_tool_call_output", call_id: "c2", output: [{ type: "input_text", text: "out two" }] },
    ];
    expect(responsesLastUserText({ input })).toBe("out one\nout two");
    expect(responsesLastUserText({ input: input.slice(0, 3) })).toBe("prompt");
    expect(responsesLastUserText({ input: "plain" })).toBe("plain");
    expect(responsesLastUserText(undefined)).toBe("");
  });

  it("streams text deltas and tool items that reassemble to the script", async () => {
    const server = await serve([
      { text: "some words to split", tools: [{ name: "exec_command", input: { cmd: "ls" } }, { name: "apply_patch", input: { input: "*** Begin Patch\n*** End Patch\n" } }], usage: { input_tokens: 9, output_tokens: 4 } },
    ]);
    const res = await post(server, userInput("x", true));
    expect(res.headers.get("content-type")).toBe("text/event-stream");
    const Frame = z.looseObject({ type: z.string(), sequence_number: z.number() });
    const frames = (await res.text()).split("\n\n").filter((f) => f !== "");
    const events = frames.map((frame) => {
      const [event, data] = frame.split("\n");
      const parsed = Frame.parse(JSON.parse(data?.replace(/^data: /, "") ?? ""));
      expect(event).toBe(`event: ${parsed.type}`);
      return parsed;
    });
    expect(events.map((e) => e.sequence_number)).toEqual(events.map((_, i) => i));
    expect(events.map((e) => e.type)).toEqual([
      "response.created",
      "response.output_item.added", "response.output_text.delta", "response.output_text.delta", "response.output_item.done",
      "response.output_item.added", "response.output_item.done",
      "response.output_item.added", "response.output_item.done",
      "response.completed",
    ]);
    const deltas = events.flatMap((e) => (e.type === "response.output_text.delta" ? [z.string().parse(e["delta"])] : []));
    expect(deltas.join("")).toBe("some words to split");
    const done = events.filter((e) => e.type === "response.output_item.done").map((e) => e["item"]);
    expect(done).toEqual([
      expect.objectContaining({ type: "message", content: [expect.objectContaining({ type: "output_text", text: "some words to split" })] }),
      expect.objectContaining({ type: "function_call", name: "exec_command", arguments: '{"cmd":"ls"}', call_id: expect.stringMatching(/^call_/) }),
      expect.objectContaining({ type: "custom_tool_call", name: "apply_patch", input: "*** Begin Patch\n*** End Patch\n" }),
    ]);
    expect(events.at(-1)).toMatchObject({ response: { status: "completed", usage: { input_tokens: 9, output_tokens: 4, total_tokens: 13 } } });
  });

  it("stall: 200 and event-stream headers, then nothing until close(); a turn for another model is a 400 mismatch", async () => {
    const server = await serve([{ fault: "stall", model: "gpt-a" }, { text: "b only", model: "gpt-b" }]);
    const wrong = await post(server, { ...userInput("x", true), model: "gpt-b" });
    expect([wrong.status, await wrong.json()]).toMatchObject([400, { error: { message: expect.stringContaining('expects a request for model "gpt-a"') } }]);
    const stalled = await post(server, { ...userInput("x", true), model: "gpt-a" });
    expect([stalled.status, stalled.headers.get("content-type")]).toEqual([200, "text/event-stream"]);
    const body = stalled.text().then(() => "ended", () => "cut");
    expect(await Promise.race([body, sleep(300).then(() => "silent")])).toBe("silent");
    expect(await (await post(server, { ...userInput("x"), model: "gpt-b" })).json()).toMatchObject({ model: "gpt-b", status: "completed" });
    await server.close();
    expect(await body).toBe("cut");
    expect(server.modelRequests().map((r) => [r.model, r.outcome])).toEqual([
      ["gpt-b", "mismatch"],
      ["gpt-a", "fault"],
      ["gpt-b", "reply"],
    ]);
  });

  it("answers a non-streaming request with one JSON response, and faults with OpenAI error bodies", async () => {
    const server = await serve([{ text: "plain" }, { fault: "rate_limit", retryAfterSeconds: 3 }, { fault: "context_too_long" }]);
    expect(await (await post(server, userInput("x"))).json()).toMatchObject({ object: "response", status: "completed", output: [{ type: "message" }] });
    const limited = await post(server, userInput("x"));
    expect(limited.status).toBe(429);
    expect(limited.headers.get("retry-after")).toBe("3");
    expect(await limited.json()).toMatchObject({ error: { code: "rate_limit_exceeded", message: expect.any(String) } });
    const long = await post(server, userInput("x"));
    expect(long.status).toBe(400);
    expect(await long.json()).toMatchObject({ error: { type: "invalid_request_error", code: "context_length_exceeded" } });
    const extra = await post(server, userInput("x"));
    expect(extra.status).toBe(400);
    expect(server.problems()).toEqual([expect.stringContaining("script exhausted")]);
    expect((await fetch(`${server.url}/v1/models`)).status).toBe(404);
  });
});
