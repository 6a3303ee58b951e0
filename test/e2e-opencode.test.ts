// End to end: the built `orch` binary drives the real OpenCode CLI (node_modules/.bin/opencode) against the
// scripted Chat Completions server, in a throw-away repository with its own HOME and TMPDIR. It checks what a
// user sees (exit code, --json, branches, report) and what orch wrote down (the journal, the transcripts).
import { readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { killAll, processesMentioning, runOrch, type CliResult } from "./support/cli.js";
import { chatLastUserText, OPENCODE_FAKE_MODEL, openaiChatProtocol, opencodeEnv } from "./support/model-server/openai-chat.js";
import { startModelServer, type ModelServer, type RecordedRequest, type ReplyTurn, type Script, type Usage } from "./support/model-server/server.js";
import { makeTempRepo, type TempRepo } from "./support/repo.js";

const PROJECT = resolve(import.meta.dirname, "..");
const BIN = join(PROJECT, "node_modules", ".bin");
const GOAL = "make the failing tests pass";
// OpenCode takes seconds to start (more on a busy machine), and the converging run starts it twice.
const ORCH_TIMEOUT_MS = 150_000;
/** USD per million tokens, so that OpenCode reports a cost. */
const PRICE = { input: 3, output: 15 };

const BUGGY = "function sum(a, b) {\n  return a - b;\n}\n\nmodule.exports = { sum };\n";
const STILL_WRONG = "function sum(a, b) {\n  return a * b;\n}\n\nmodule.exports = { sum };\n";
const FIXED = "function sum(a, b) {\n  return a + b;\n}\n\nmodule.exports = { sum };\n";
const FILES = {
  "src/sum.js": BUGGY,
  "test/sum.test.js": [
    'const test = require("node:test");',
    'const assert = require("node:assert");',
    'const { sum } = require("../src/sum.js");',
    "",
    'test("sum adds two numbers", () => {',
    '  assert.strictEqual(sum(2, 3), 5, "sum(2, 3) must be 5");',
    "});",
    "",
  ].join("\n"),
};

// ---- sandboxes, and what afterEach tidies -----------------------------------------------------------------

const repos: TempRepo[] = [];
const servers: ModelServer[] = [];

afterEach(async () => {
  const leaked = (await Promise.all(repos.map((repo) => processesMentioning(repo.root)))).flat();
  killAll(leaked);
  await Promise.all(servers.splice(0).map((server) => server.close()));
  for (const repo of repos.splice(0)) repo.remove();
  expect(leaked, "a process outlived its test").toEqual([]);
});

interface Sandbox {
  repo: TempRepo;
  server: ModelServer;
  /** The environment orch runs with; it passes it on to `opencode`. */
  env: Record<string, string>;
}

function newRepo(): TempRepo {
  const repo = makeTempRepo({ files: FILES, prefix: "orch-e2e-opencode-" });
  repos.push(repo);
  return repo;
}

async function sandbox(repo: TempRepo, script: Script): Promise<Sandbox> {
  const server = await startModelServer({ script, protocols: [openaiChatProtocol] });
  servers.push(server);
  const env = {
    ...opencodeEnv({
      url: server.url,
      home: repo.home,
      tmp: repo.tmp,
      path: `${BIN}:${process.env["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"}`,
      modelCost: PRICE,
    }),
    GIT_CONFIG_NOSYSTEM: "1",
    GIT_CEILING_DIRECTORIES: repo.root,
    // What a shell would set: OpenCode prefers $PWD to its real working directory, so the adapter must
    // point it at the worktree, or it would work in the user's checkout.
    PWD: repo.dir,
  };
  return { repo, server, env };
}

function orchRun(box: Sandbox, extra: readonly string[]): Promise<CliResult> {
  const args = ["run", GOAL, "--verify", "node --test", "--agent", "opencode", "--model", OPENCODE_FAKE_MODEL, "--json", ...extra];
  return runOrch(args, { cwd: box.repo.dir, env: box.env, timeoutMs: ORCH_TIMEOUT_MS });
}

// ---- script turns whose file paths are known only once orch has made the worktree --------------------------

/** The one task worktree orch made: `<repo>/.orch/worktrees/<run>/<task>`. */
function worktreeOf(repo: TempRepo): string {
  const base = join(repo.dir, ".orch", "worktrees");
  const [run, ...otherRuns] = readdirSync(base);
  if (run === undefined || otherRuns.length > 0) throw new Error(`expected one run under ${base}`);
  const [task, ...otherTasks] = readdirSync(join(base, run));
  if (task === undefined || otherTasks.length > 0) throw new Error(`expected one task under ${join(base, run)}`);
  return join(base, run, task);
}

/** A tool input whose `filePath` is read when the server serializes the reply: the worktree does not exist yet. */
function inputAt(repo: TempRepo, relative: string, rest: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    get filePath(): string {
      return join(worktreeOf(repo), relative);
    },
    ...rest,
  };
}

// OpenCode refuses to overwrite a file this process has not read, so every attempt reads before it writes.
const readSum = (repo: TempRepo, match: string, usage: Usage): ReplyTurn => ({
  match,
  usage,
  text: "Let me look at the implementation.",
  tools: [{ name: "read", input: inputAt(repo, "src/sum.js") }],
});
const writeSum = (repo: TempRepo, content: string, match: string, usage: Usage): ReplyTurn => ({
  match,
  usage,
  tools: [{ name: "write", input: inputAt(repo, "src/sum.js", { content }) }],
});
const runTests = (match: string, usage: Usage): ReplyTurn => ({
  match,
  usage,
  tools: [{ name: "bash", input: { command: "node --test", description: "run the tests" } }],
});

// ---- reading back what orch wrote ---------------------------------------------------------------------------

const RunJson = z.object({
  runId: z.string(),
  status: z.string(),
  branch: z.string(),
  attempts: z.number(),
  report: z.string().nullable(),
  reason: z.string().nullable().optional(),
});
type RunJson = z.infer<typeof RunJson>;

function parseRunJson(result: CliResult): RunJson {
  const context = `exit ${String(result.code)}${result.timedOut ? " (timed out)" : ""}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`;
  let value: unknown;
  try {
    value = JSON.parse(result.stdout);
  } catch {
    throw new Error(`orch --json did not print one JSON document; ${context}`);
  }
  const parsed = RunJson.safeParse(value);
  if (!parsed.success) throw new Error(`unexpected --json shape: ${parsed.error.message}; ${context}`);
  return parsed.data;
}

const jsonColumn = <T extends z.ZodType>(schema: T) =>
  z.string().transform((text, ctx): z.output<T> => {
    const parsed = schema.safeParse(JSON.parse(text));
    if (parsed.success) return parsed.data;
    ctx.addIssue({ code: "custom", message: parsed.error.message });
    return z.NEVER;
  });
const nullableJson = <T extends z.ZodType>(schema: T) => z.union([z.null(), jsonColumn(schema)]);

const FailureJson = z.object({ kind: z.string(), detail: z.string(), httpStatus: z.number().optional() });
const UsageJson = z.object({ inputTokens: z.number(), outputTokens: z.number() });
const RunRow = z.object({ id: z.string(), status: z.string(), attempts: z.number(), cost_usd: z.number(), tokens_in: z.number() });
const TaskRow = z.object({ id: z.string(), status: z.string(), branch: z.string(), worktree: z.string(), commit_sha: z.string().nullable() });
const ChatBody = z.looseObject({ messages: z.array(z.unknown()) });
const AttemptRow = z.object({
  id: z.string(),
  number: z.number(),
  agent: z.string(),
  status: z.string(),
  model: z.string().nullable(),
  session_id: z.string().nullable(),
  transcript: z.string(),
  failure: nullableJson(FailureJson),
  usage: nullableJson(UsageJson),
  cost_usd: z.number().nullable(),
  commit_sha: z.string().nullable(),
});
const EventRow = z.object({ seq: z.number(), type: z.string(), attempt_id: z.string().nullable(), data: jsonColumn(z.unknown()) });

interface Journal {
  run: z.infer<typeof RunRow>;
  tasks: z.infer<typeof TaskRow>[];
  attempts: z.infer<typeof AttemptRow>[];
  events: z.infer<typeof EventRow>[];
}

function readJournal(repo: TempRepo, runId: string): Journal {
  const db = new Database(join(repo.dir, ".orch", "orch.db"), { readonly: true, fileMustExist: true });
  try {
    return {
      run: RunRow.parse(db.prepare("SELECT * FROM runs WHERE id = ?").get(runId)),
      tasks: z.array(TaskRow).parse(db.prepare("SELECT * FROM tasks WHERE run_id = ?").all(runId)),
      attempts: z.array(AttemptRow).parse(db.prepare("SELECT * FROM attempts WHERE run_id = ? ORDER BY number").all(runId)),
      events: z.array(EventRow).parse(db.prepare("SELECT seq, type, attempt_id, data FROM events WHERE run_id = ? ORDER BY seq").all(runId)),
    };
  } finally {
    db.close();
  }
}

function agentEvents<T extends z.ZodType>(journal: Journal, attemptId: string, schema: T): z.output<T>[] {
  return journal.events.flatMap((e) => {
    if (e.type !== "agent.emitted" || e.attempt_id !== attemptId) return [];
    const parsed = schema.safeParse(e.data);
    return parsed.success ? [parsed.data] : [];
  });
}

const ToolCalled = z.object({ type: z.literal("tool.called"), name: z.string() });
const SessionStarted = z.object({ type: z.literal("session.started"), sessionId: z.string() });
const Unknown = z.object({ type: z.literal("unknown"), raw: z.string() });
const AttemptStartedData = z.object({ number: z.number(), resumedSession: z.string().optional() });

/** Every sessionID the raw transcript's lines carry (OpenCode names the session on each line). */
function transcriptSessions(transcript: string): Set<string> {
  const Line = z.looseObject({ sessionID: z.string() });
  const ids = new Set<string>();
  for (const line of readFileSync(transcript, "utf8").split("\n")) {
    if (line.trim() === "") continue;
    const parsed = Line.safeParse(JSON.parse(line));
    if (parsed.success) ids.add(parsed.data.sessionID);
  }
  return ids;
}

function requestsFor(server: ModelServer, from: number, to: number): RecordedRequest[] {
  return server.modelRequests().filter((r) => r.turn !== undefined && r.turn >= from && r.turn <= to);
}

function expectUserCheckoutUntouched(repo: TempRepo): void {
  expect(repo.git(["symbolic-ref", "--short", "HEAD"])).toBe(repo.branch);
  expect(repo.git(["rev-parse", "HEAD"])).toBe(repo.headSha);
  expect(repo.git(["status", "--porcelain"])).toBe("");
  expect(readFileSync(join(repo.dir, "src/sum.js"), "utf8")).toBe(BUGGY);
}

const commitsOn = (repo: TempRepo, branch: string): string[] => {
  const out = repo.git(["rev-list", `${repo.headSha}..${branch}`]);
  return out === "" ? [] : out.split("\n");
};

const costOf = (usage: Usage, steps: number) => (steps * (usage.input_tokens * PRICE.input + usage.output_tokens * PRICE.output)) / 1e6;

// ---- the tests ------------------------------------------------------------------------------------------------

describe("orch run × the real OpenCode CLI", () => {
  it("converges on the second attempt: the first fix fails verification, the resumed session gets it right", { timeout: 200_000 }, async () => {
    const repo = newRepo();
    const u1: Usage = { input_tokens: 101, output_tokens: 11 };
    const u2: Usage = { input_tokens: 202, output_tokens: 22 };
    const box = await sandbox(repo, [
      // Attempt 1: reads, writes a fix that is still wrong, runs the tests, and answers anyway.
      readSum(repo, "# Goal", u1),
      writeSum(repo, STILL_WRONG, "return a - b", u1),
      runTests("Wrote file successfully", u1),
      { match: "sum(2, 3) must be 5", usage: u1, text: "I changed sum to multiply its arguments." },
      // Attempt 2, in the same OpenCode session: its prompt carries attempt 1's failing verify output.
      readSum(repo, "this is attempt 2 of at most 4", u2),
      writeSum(repo, FIXED, "return a * b", u2),
      runTests("Wrote file successfully", u2),
      { match: "pass 1", usage: u2, text: "Fixed: sum now adds its arguments." },
    ]);

    const result = await orchRun(box, ["--max-attempts", "4"]);
    const out = parseRunJson(result);
    expect(result.code, result.stderr).toBe(0);
    expect(box.server.problems()).toEqual([]);
    expect(box.server.remaining()).toEqual([]);
    // orch names each new session itself (--title), so OpenCode asks the model for no title: every request is a turn.
    expect(box.server.requests.map((r) => r.outcome)).toEqual(Array<string>(8).fill("reply"));

    // --json
    expect(out).toMatchObject({ status: "succeeded", attempts: 2 });
    const branchMatch = /^orch\/([^/]+)\/([^/]+)$/.exec(out.branch);
    expect(branchMatch?.[1]).toBe(out.runId);
    const taskId = branchMatch?.[2] ?? "";
    expect(out.report).toBe(join(repo.dir, ".orch", "reports", `${out.runId}.md`));

    // Git: one new commit on the task branch holding the right fix; the user's checkout as it was.
    const commits = commitsOn(repo, out.branch);
    expect(commits).toHaveLength(1);
    expect(repo.git(["log", "-1", "--format=%B", out.branch])).toContain(`Run ${out.runId}, task ${taskId}, attempt 2.`);
    expect(repo.git(["show", `${out.branch}:src/sum.js`])).toBe(FIXED.trimEnd());
    expectUserCheckoutUntouched(repo);

    // The journal.
    const journal = readJournal(repo, out.runId);
    expect(journal.run).toMatchObject({ status: "succeeded", attempts: 2 });
    expect(journal.tasks).toEqual([expect.objectContaining({ id: taskId, status: "succeeded", branch: out.branch, commit_sha: commits[0] })]);
    const [first, second] = journal.attempts;
    expect(journal.attempts).toHaveLength(2);
    if (first === undefined || second === undefined) throw new Error("two attempts expected");
    expect(journal.attempts.map((a) => [a.number, a.agent, a.status, a.model])).toEqual([
      [1, "opencode", "failed", OPENCODE_FAKE_MODEL],
      [2, "opencode", "succeeded", OPENCODE_FAKE_MODEL],
    ]);
    expect(first.failure?.kind).toBe("verify_failed");
    expect(second.failure).toBeNull();
    expect(second.commit_sha).toBe(commits[0]);

    // The session id is OpenCode's own (every raw line names it); attempt 2 resumed attempt 1's session.
    const sessionId = first.session_id ?? "";
    expect(sessionId).toMatch(/^ses_/);
    expect(second.session_id).toBe(sessionId);
    for (const attempt of journal.attempts) {
      expect([...transcriptSessions(attempt.transcript)]).toEqual([sessionId]);
      expect(agentEvents(journal, attempt.id, SessionStarted).map((e) => e.sessionId)).toEqual([sessionId]);
      expect(agentEvents(journal, attempt.id, Unknown)).toEqual([]);
    }
    expect(agentEvents(journal, first.id, ToolCalled).map((e) => e.name)).toEqual(["read", "write", "bash"]);
    expect(agentEvents(journal, second.id, ToolCalled).map((e) => e.name)).toEqual(["read", "write", "bash"]);
    const started = journal.events.filter((e) => e.type === "attempt.started").map((e) => AttemptStartedData.parse(e.data));
    expect(started).toEqual([expect.objectContaining({ number: 1 }), expect.objectContaining({ number: 2, resumedSession: sessionId })]);
    expect(started[0]?.resumedSession).toBeUndefined();

    // Tokens and cost: OpenCode reports each step; the adapter sums the four steps of each process.
    expect(first.usage).toMatchObject({ inputTokens: 4 * u1.input_tokens, outputTokens: 4 * u1.output_tokens });
    expect(second.usage).toMatchObject({ inputTokens: 4 * u2.input_tokens, outputTokens: 4 * u2.output_tokens });
    expect(first.cost_usd).toBeCloseTo(costOf(u1, 4), 9);
    expect(second.cost_usd).toBeCloseTo(costOf(u2, 4), 9);
    expect(journal.run.tokens_in).toBe(4 * (u1.input_tokens + u2.input_tokens));
    expect(journal.run.cost_usd).toBeCloseTo(costOf(u1, 4) + costOf(u2, 4), 9);

    // Attempt 2's first request: the handoff names attempt 1's failure, after attempt 1's whole conversation.
    const [handoff] = requestsFor(box.server, 4, 4);
    const prompt = chatLastUserText(handoff?.body);
    expect(prompt).toContain("Verify command `node --test` exited 1");
    expect(prompt).toContain("sum(2, 3) must be 5");
    expect(prompt).toContain("I changed sum to multiply its arguments.");
    expect(JSON.stringify(ChatBody.parse(handoff?.body).messages)).toContain("return a * b");

    // OpenCode worked in the task's worktree although orch's own $PWD is the user's checkout.
    const worktree = journal.tasks[0]?.worktree ?? "";
    expect(worktree).toContain(join(".orch", "worktrees", out.runId));
    expect(JSON.stringify(requestsFor(box.server, 0, 0)[0]?.body)).toContain(`Working directory: ${worktree}`);

    // One raw transcript per attempt, and the report.
    const transcripts = readdirSync(join(repo.dir, ".orch", "logs", out.runId)).filter((f) => f.endsWith(".jsonl")).sort();
    expect(transcripts).toEqual([`${first.id}.jsonl`, `${second.id}.jsonl`]);
    const report = readFileSync(out.report ?? "", "utf8");
    expect(report).toContain(GOAL);
    expect(report).toContain("### Attempt 1");
    expect(report).toContain("### Attempt 2");
    expect(report).toContain("verify_failed");
    expect(report).toContain(`git merge ${out.branch}`);
  });

  it("bad credentials: the 401 OpenCode reports stops the run, waiting for a human (exit 3)", { timeout: 120_000 }, async () => {
    const repo = newRepo();
    const box = await sandbox(repo, [{ fault: "unauthorized", match: "# Goal" }]);

    const result = await orchRun(box, ["--max-attempts", "4"]);
    const out = parseRunJson(result);
    expect(result.code, result.stderr).toBe(3);
    expect(box.server.problems()).toEqual([]);
    expect(box.server.modelRequests()).toHaveLength(1);
    expect(out).toMatchObject({ status: "waiting", attempts: 1 });
    expect(out.reason).toContain("Incorrect API key provided");

    const journal = readJournal(repo, out.runId);
    expect(journal.attempts.map((a) => [a.agent, a.failure?.kind, a.failure?.httpStatus])).toEqual([["opencode", "auth_failed", 401]]);
    expect(commitsOn(repo, out.branch)).toEqual([]);
    expectUserCheckoutUntouched(repo);
  });
});
