// End to end: the built `orch` binary drives the real Claude Code CLI (node_modules/.bin/claude) against the
// scripted model server, in a throw-away repository with its own HOME and TMPDIR. It checks what a user sees
// (exit code, --json, branches, report) and what orch wrote down (the journal, the transcripts).
import { readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { leftoverProcesses, processesMentioning, RunResultJson, runOrch, type CliResult } from "./support/cli.js";
import { anthropicLastUserText } from "./support/model-server/anthropic.js";
import {
  claudeEnv,
  startModelServer,
  type ModelServer,
  type RecordedRequest,
  type ReplyTurn,
  type Script,
  type Usage,
} from "./support/model-server/server.js";
import { makeTempRepo, type TempRepo } from "./support/repo.js";

const PROJECT = resolve(import.meta.dirname, "..");
const BIN = join(PROJECT, "node_modules", ".bin");
const GOAL = "make the failing tests pass";
const ORCH_TIMEOUT_MS = 50_000;

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
  // Anything still running that was started for a test (its HOME, cwd or arguments lie in the sandbox) is killed.
  const leaked = (await Promise.all(repos.map((repo) => leftoverProcesses(repo.root)))).flat();
  await Promise.all(servers.splice(0).map((server) => server.close()));
  for (const repo of repos.splice(0)) repo.remove();
  expect(leaked, "a process outlived its test").toEqual([]);
});

interface Sandbox {
  repo: TempRepo;
  server: ModelServer;
  /** The environment orch runs with; it passes it on to `claude`. */
  env: Record<string, string>;
}

function newRepo(): TempRepo {
  const repo = makeTempRepo({ files: FILES, prefix: "orch-e2e-claude-" });
  repos.push(repo);
  return repo;
}

async function sandbox(repo: TempRepo, script: Script, claude: { timeoutMs?: number } = {}): Promise<Sandbox> {
  const server = await startModelServer({ script });
  servers.push(server);
  const env = {
    ...claudeEnv({
      url: server.url,
      home: repo.home,
      tmp: repo.tmp,
      path: `${BIN}:${process.env["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"}`,
      maxRetries: 0,
      ...(claude.timeoutMs !== undefined ? { timeoutMs: claude.timeoutMs } : {}),
    }),
    GIT_CONFIG_NOSYSTEM: "1",
    GIT_CEILING_DIRECTORIES: repo.root,
  };
  return { repo, server, env };
}

function orchRun(box: Sandbox, extra: readonly string[]): Promise<CliResult> {
  const args = ["run", GOAL, "--verify", "node --test", "--agent", "claude-code", "--json", ...extra];
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

/**
 * A tool input whose `file_path` is read when the server serializes the reply, i.e. at request time: the run
 * id (and so the worktree path) does not exist when the script is written.
 */
function inputAt(repo: TempRepo, relative: string, rest: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    get file_path(): string {
      return join(worktreeOf(repo), relative);
    },
    ...rest,
  };
}

const readSum = (repo: TempRepo, match: string, usage: Usage): ReplyTurn => ({
  match,
  usage,
  text: "Let me look at the implementation.",
  tools: [{ name: "Read", input: inputAt(repo, "src/sum.js") }],
});
const writeSum = (repo: TempRepo, content: string, match: string, usage: Usage): ReplyTurn => ({
  match,
  usage,
  tools: [{ name: "Write", input: inputAt(repo, "src/sum.js", { content }) }],
});
const runTests = (match: string, usage: Usage): ReplyTurn => ({
  match,
  usage,
  tools: [{ name: "Bash", input: { command: "node --test", description: "run the tests" } }],
});

// ---- reading back what orch wrote ---------------------------------------------------------------------------

type RunJson = z.infer<typeof RunResultJson>;

function parseRunJson(result: CliResult): RunJson {
  const context = `exit ${String(result.code)}${result.timedOut ? " (timed out)" : ""}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`;
  let value: unknown;
  try {
    value = JSON.parse(result.stdout);
  } catch {
    throw new Error(`orch --json did not print one JSON document; ${context}`);
  }
  const parsed = RunResultJson.safeParse(value);
  if (!parsed.success) throw new Error(`unexpected --json shape: ${parsed.error.message}; ${context}`);
  return parsed.data;
}

const FailureJson = z.object({ kind: z.string(), detail: z.string(), httpStatus: z.number().optional(), resetAt: z.number().optional() });
const UsageJson = z.object({ inputTokens: z.number(), outputTokens: z.number() });

const jsonColumn = <T extends z.ZodType>(schema: T) =>
  z.string().transform((text, ctx): z.output<T> => {
    const parsed = schema.safeParse(JSON.parse(text));
    if (parsed.success) return parsed.data;
    ctx.addIssue({ code: "custom", message: parsed.error.message });
    return z.NEVER;
  });
const nullableJson = <T extends z.ZodType>(schema: T) => z.union([z.null(), jsonColumn(schema)]);

const RunRow = z.object({ id: z.string(), status: z.string(), reason: z.string().nullable(), attempts: z.number(), cost_usd: z.number(), tokens_in: z.number(), tokens_out: z.number(), report: z.string().nullable() });
const TaskRow = z.object({ id: z.string(), status: z.string(), branch: z.string(), worktree: z.string(), commit_sha: z.string().nullable() });
const AttemptRow = z.object({
  id: z.string(),
  number: z.number(),
  agent: z.string(),
  status: z.string(),
  session_id: z.string().nullable(),
  transcript: z.string(),
  exit_reason: z.string().nullable(),
  failure: nullableJson(FailureJson),
  usage: nullableJson(UsageJson),
  cost_usd: z.number().nullable(),
  commit_sha: z.string().nullable(),
});
const EventRow = z.object({ seq: z.number(), type: z.string(), attempt_id: z.string().nullable(), data: jsonColumn(z.unknown()) });

const ToolCalled = z.object({ type: z.literal("tool.called"), name: z.string(), summary: z.string() });
const SessionStarted = z.object({ type: z.literal("session.started"), sessionId: z.string() });
const AttemptStartedData = z.object({ number: z.number(), resumedSession: z.string().optional() });
const TaskWaitedData = z.object({ delayMs: z.number(), until: z.number(), reason: z.string() });

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

/** The normalized agent events orch journaled for one attempt, in order. */
function agentEvents(journal: Journal, attemptId: string): unknown[] {
  return journal.events.filter((e) => e.type === "agent.emitted" && e.attempt_id === attemptId).map((e) => e.data);
}

function toolsCalled(journal: Journal, attemptId: string): string[] {
  return agentEvents(journal, attemptId).flatMap((e) => {
    const parsed = ToolCalled.safeParse(e);
    return parsed.success ? [parsed.data.name] : [];
  });
}

function eventData<T extends z.ZodType>(journal: Journal, type: string, schema: T): z.output<T>[] {
  return journal.events.filter((e) => e.type === type).map((e) => schema.parse(e.data));
}

/** The session id of the `system/init` line of a raw transcript. */
function initSessionId(transcript: string): string | undefined {
  const Init = z.object({ type: z.literal("system"), subtype: z.literal("init"), session_id: z.string() });
  for (const line of readFileSync(transcript, "utf8").split("\n")) {
    if (line.trim() === "") continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      continue;
    }
    const init = Init.safeParse(value);
    if (init.success) return init.data.session_id;
  }
  return undefined;
}

/** The model requests answered by script turns `from`..`to` (inclusive), in arrival order. */
function requestsFor(server: ModelServer, from: number, to: number): RecordedRequest[] {
  return server.modelRequests().filter((r) => r.turn !== undefined && r.turn >= from && r.turn <= to);
}

function expectCleanServer(server: ModelServer): void {
  expect(server.problems()).toEqual([]);
  expect(server.remaining()).toEqual([]);
}

/** The user's checkout after the run: same branch, same commit, nothing changed, the bug still there. */
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

// ---- the tests ------------------------------------------------------------------------------------------------

describe("orch run × the real Claude Code CLI", () => {
  it("converges on the second attempt: the first fix fails verification, the handoff carries the failure", async () => {
    const repo = newRepo();
    const u1: Usage = { input_tokens: 101, output_tokens: 11 };
    const u2: Usage = { input_tokens: 202, output_tokens: 22 };
    const box = await sandbox(repo, [
      // Attempt 1: reads, writes a fix that is still wrong, runs the tests, and answers anyway.
      readSum(repo, "# Goal", u1),
      writeSum(repo, STILL_WRONG, "return a - b", u1),
      runTests("src/sum.js", u1),
      { match: "sum(2, 3) must be 5", usage: u1, text: "I changed sum to multiply its arguments." },
      // Attempt 2: its prompt carries attempt 1's failing verify output; this time the fix is right.
      readSum(repo, "Earlier attempts on this task: 1", u2),
      writeSum(repo, FIXED, "return a * b", u2),
      runTests("src/sum.js", u2),
      { match: "pass 1", usage: u2, text: "Fixed: sum now adds its arguments." },
    ]);

    const result = await orchRun(box, ["--max-attempts", "4"]);
    const out = parseRunJson(result);
    expect(result.code, result.stderr).toBe(0);
    expectCleanServer(box.server);

    // --json
    expect(out).toMatchObject({ status: "succeeded", attempts: 2 });
    const branchMatch = /^orch\/([^/]+)\/([^/]+)$/.exec(out.branch);
    expect(branchMatch?.[1]).toBe(out.runId);
    const taskId = branchMatch?.[2] ?? "";
    expect(out.report).toBe(join(repo.dir, ".orch", "reports", `${out.runId}.md`));

    // Git: one new commit on the task branch holding the right fix; the user's checkout as it was.
    const commits = commitsOn(repo, out.branch);
    expect(commits).toHaveLength(1);
    const message = repo.git(["log", "-1", "--format=%B", out.branch]);
    expect(message).toContain(`Run ${out.runId}, task ${taskId}, attempt 2.`);
    expect(repo.git(["show", `${out.branch}:src/sum.js`])).toBe(FIXED.trimEnd());
    expectUserCheckoutUntouched(repo);

    // The journal.
    const journal = readJournal(repo, out.runId);
    expect(journal.run).toMatchObject({ status: "succeeded", attempts: 2 });
    expect(journal.tasks).toEqual([expect.objectContaining({ id: taskId, status: "succeeded", branch: out.branch, commit_sha: commits[0] })]);
    const [first, second] = journal.attempts;
    expect(journal.attempts).toHaveLength(2);
    if (first === undefined || second === undefined) throw new Error("two attempts expected");
    expect(journal.attempts.map((a) => [a.number, a.agent, a.status])).toEqual([
      [1, "claude-code", "failed"],
      [2, "claude-code", "succeeded"],
    ]);
    expect(first.failure?.kind).toBe("verify_failed");
    expect(second.failure).toBeNull();
    expect(second.commit_sha).toBe(commits[0]);

    // Session ids come from Claude's own system/init line, which the raw transcript keeps.
    for (const attempt of journal.attempts) {
      expect(attempt.session_id).not.toBeNull();
      expect(initSessionId(attempt.transcript)).toBe(attempt.session_id);
      const started = agentEvents(journal, attempt.id).flatMap((e) => {
        const parsed = SessionStarted.safeParse(e);
        return parsed.success ? [parsed.data.sessionId] : [];
      });
      expect(started).toEqual([attempt.session_id]);
    }
    // Tokens and cost from the result line: Claude sums its turns' usage per process.
    expect(first.usage).toMatchObject({ inputTokens: 4 * u1.input_tokens, outputTokens: 4 * u1.output_tokens });
    expect(second.usage).toMatchObject({ inputTokens: 4 * u2.input_tokens, outputTokens: 4 * u2.output_tokens });
    expect(first.cost_usd).toBeGreaterThan(0);
    expect(second.cost_usd).toBeGreaterThan(0);
    expect(journal.run.tokens_in).toBe(4 * (u1.input_tokens + u2.input_tokens));
    expect(journal.run.cost_usd).toBeCloseTo((first.cost_usd ?? 0) + (second.cost_usd ?? 0), 10);

    // What the agent did, normalized and journaled as it happened.
    expect(toolsCalled(journal, first.id)).toEqual(["Read", "Write", "Bash"]);
    expect(toolsCalled(journal, second.id)).toEqual(["Read", "Write", "Bash"]);
    const types = new Set(journal.events.map((e) => e.type));
    for (const type of ["run.created", "run.started", "attempt.started", "attempt.spawned", "attempt.exited", "verify.completed", "attempt.finished", "task.finished", "run.finished"]) {
      expect(types, type).toContain(type);
    }

    // Attempt 2 resumed attempt 1's Claude session: the model did not change after a verify failure.
    const started = eventData(journal, "attempt.started", AttemptStartedData);
    expect(started).toEqual([{ number: 1 }, expect.objectContaining({ number: 2, resumedSession: first.session_id })]);
    expect(second.session_id).toBe(first.session_id);

    // The first request of attempt 2: its new prompt hands over attempt 1's failing verify output, and (resumed)
    // the request carries attempt 1's whole conversation before it.
    const [handoffRequest] = requestsFor(box.server, 4, 4);
    const prompt = anthropicLastUserText(handoffRequest?.body);
    expect(prompt).toContain("this is attempt 2 of at most 4");
    expect(prompt).toContain("Verify command `node --test` exited 1");
    expect(prompt).toContain("sum(2, 3) must be 5");
    const worktree = journal.tasks[0]?.worktree ?? "";
    expect(worktree).toBe(join(repo.dir, ".orch", "worktrees", out.runId, taskId));
    expect(prompt).toContain(`Write ${worktree}/src/sum.js`);
    expect(prompt).toContain("Bash node --test");
    expect(prompt).toContain("I changed sum to multiply its arguments.");
    const history = JSON.stringify(handoffRequest?.body);
    expect(history).toContain(JSON.stringify(STILL_WRONG).slice(1, -1));
    expect(requestsFor(box.server, 0, 3)).toHaveLength(4);
    expect(requestsFor(box.server, 4, 7)).toHaveLength(4);

    // One raw transcript per attempt.
    const transcripts = readdirSync(join(repo.dir, ".orch", "logs", out.runId)).filter((f) => f.endsWith(".jsonl")).sort();
    expect(transcripts).toEqual([`${first.id}.jsonl`, `${second.id}.jsonl`]);
    expect(journal.attempts.map((a) => a.transcript)).toEqual(transcripts.map((f) => join(repo.dir, ".orch", "logs", out.runId, f)));

    // The report.
    const report = readFileSync(out.report ?? "", "utf8");
    expect(report).toContain(GOAL);
    expect(report).toContain("### Attempt 1");
    expect(report).toContain("### Attempt 2");
    expect(report).toContain("verify_failed");
    expect(report).toContain(`git merge ${out.branch}`);
  });

  it("rate limit: a 429 fails attempt 1 as rate_limited, orch waits, and the next attempt converges", async () => {
    const repo = newRepo();
    const box = await sandbox(repo, [
      { fault: "rate_limit", retryAfterSeconds: 1, match: "# Goal" },
      readSum(repo, "rate_limited", { input_tokens: 50, output_tokens: 5 }),
      writeSum(repo, FIXED, "return a - b", { input_tokens: 50, output_tokens: 5 }),
      { match: "src/sum.js", text: "Fixed: sum now adds its arguments." },
    ]);

    const result = await orchRun(box, ["--max-attempts", "3"]);
    const out = parseRunJson(result);
    expect(result.code, result.stderr).toBe(0);
    expectCleanServer(box.server);
    expect(out).toMatchObject({ status: "succeeded", attempts: 2 });

    const journal = readJournal(repo, out.runId);
    const [first, second] = journal.attempts;
    if (first === undefined || second === undefined) throw new Error("two attempts expected");
    expect(first.failure).toMatchObject({ kind: "rate_limited", httpStatus: 429 });
    expect(second.status).toBe("succeeded");
    // The rate limit ended the session: attempt 2 starts a fresh one.
    expect(eventData(journal, "attempt.started", AttemptStartedData)).toEqual([{ number: 1 }, { number: 2 }]);

    // Claude made one request (CLAUDE_CODE_MAX_RETRIES=0) and printed no reset time, so orch backed off by its
    // own first step: 1–2 s with jitter.
    const waits = eventData(journal, "task.waited", TaskWaitedData);
    expect(waits).toHaveLength(1);
    const [wait] = waits;
    expect(wait?.reason).toContain("rate_limited");
    expect(wait?.delayMs).toBeGreaterThanOrEqual(1_000);
    expect(wait?.delayMs).toBeLessThanOrEqual(2_000);
    const [limited, retried] = [requestsFor(box.server, 0, 0)[0], requestsFor(box.server, 1, 1)[0]];
    expect((retried?.time ?? 0) - (limited?.time ?? 0)).toBeGreaterThanOrEqual(wait?.delayMs ?? Infinity);

    expect(commitsOn(repo, out.branch)).toHaveLength(1);
    expectUserCheckoutUntouched(repo);
  });

  it("bad credentials: a 401 stops the run at once, waiting for a human (exit 3), nothing committed", async () => {
    const repo = newRepo();
    const box = await sandbox(repo, [{ fault: "unauthorized" }]);

    const result = await orchRun(box, ["--max-attempts", "4"]);
    const out = parseRunJson(result);
    expect(result.code, result.stderr).toBe(3);
    expectCleanServer(box.server);
    expect(box.server.modelRequests()).toHaveLength(1);
    expect(out).toMatchObject({ status: "waiting", attempts: 1 });
    expect(out.reason).toMatch(/refused/i);
    expect(out.reason).toContain("Invalid API key");

    const journal = readJournal(repo, out.runId);
    expect(journal.run.status).toBe("waiting");
    expect(journal.attempts).toHaveLength(1);
    expect(journal.attempts[0]?.failure).toMatchObject({ kind: "auth_failed", httpStatus: 401 });
    expect(journal.events.some((e) => e.type === "task.waited")).toBe(false);
    expect(commitsOn(repo, out.branch)).toEqual([]);
    expectUserCheckoutUntouched(repo);
  });

  it("hang: no output for the stall timeout makes the attempt hung; claude is stopped and nothing is left running", async () => {
    const repo = newRepo();
    // A large request timeout, so that orch's stall timer acts before Claude gives up on its own.
    const box = await sandbox(repo, [{ fault: "hang" }], { timeoutMs: 600_000 });

    // 4 s rather than 2 s: Claude takes ~1.5 s on a busy two-core machine to print its first line and send the
    // request, and a stall timer that fires before the request reaches the server would test nothing.
    const result = await orchRun(box, ["--stall-timeout", "4s", "--max-attempts", "1"]);
    const out = parseRunJson(result);
    expect(result.code, result.stderr).toBe(1);
    expect(box.server.modelRequests().map((r) => r.note)).toEqual(["hang"]);
    expect(out).toMatchObject({ status: "failed", attempts: 1 });

    const journal = readJournal(repo, out.runId);
    expect(journal.run.status).toBe("failed");
    expect(journal.attempts).toHaveLength(1);
    expect(journal.attempts[0]).toMatchObject({ status: "failed", exit_reason: "hung" });
    expect(journal.attempts[0]?.failure).toEqual({ kind: "hung", detail: "no output for 4s; the agent was stopped" });
    expect(journal.attempts[0]?.session_id).not.toBeNull();
    expect(commitsOn(repo, out.branch)).toEqual([]);
    // The attempt limit ends the task: no backoff before saying so.
    expect(journal.events.some((e) => e.type === "task.waited")).toBe(false);

    // orch has exited; no claude (nor anything else started for this test) may still be running.
    expect(await processesMentioning(repo.root)).toEqual([]);
    expect(result.ms).toBeLessThan(20_000);
  });
});
