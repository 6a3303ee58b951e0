// End to end: the built `orch` binary drives the real Gemini CLI (node_modules/.bin/gemini) against the
// scripted model server, in a throw-away repository with its own HOME and TMPDIR. It checks what a user sees
// (exit code, --json, branches, report) and what orch wrote down (the journal, the transcripts).
import { readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { killAll, processesMentioning, runOrch, type CliResult } from "./support/cli.js";
import { geminiEnv, geminiLastUserText, geminiProtocol, geminiRead, geminiShell, geminiWrite } from "./support/model-server/gemini.js";
import { startModelServer, type ModelServer, type RecordedRequest, type ReplyTurn, type Script, type Usage } from "./support/model-server/server.js";
import { makeTempRepo, type TempRepo } from "./support/repo.js";

const PROJECT = resolve(import.meta.dirname, "..");
const BIN = join(PROJECT, "node_modules", ".bin");
const GOAL = "make the failing tests pass";
const ORCH_TIMEOUT_MS = 90_000;

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
  /** The environment orch runs with; it passes it on to `gemini`. */
  env: Record<string, string>;
}

async function sandbox(script: Script): Promise<Sandbox> {
  const repo = makeTempRepo({ files: FILES, prefix: "orch-e2e-gemini-" });
  repos.push(repo);
  const server = await startModelServer({ script, protocols: [geminiProtocol] });
  servers.push(server);
  const env = {
    // Writes ~/.gemini/settings.json into the repository's own HOME; maxAttempts 1: no CLI-side retries.
    ...geminiEnv({
      url: server.url,
      home: repo.home,
      tmp: repo.tmp,
      path: `${BIN}:${process.env["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"}`,
      maxAttempts: 1,
    }),
    GIT_CONFIG_NOSYSTEM: "1",
    GIT_CEILING_DIRECTORIES: repo.root,
  };
  return { repo, server, env };
}

function orchRun(box: Sandbox, extra: readonly string[]): Promise<CliResult> {
  const args = ["run", GOAL, "--verify", "node --test", "--agent", "gemini", "--json", ...extra];
  return runOrch(args, { cwd: box.repo.dir, env: box.env, timeoutMs: ORCH_TIMEOUT_MS });
}

// Gemini's file tools take paths relative to the workspace (the task's worktree), so the script needs no
// worktree path known only once orch has made it.
const readSum = (match: string, usage: Usage): ReplyTurn => ({ ...geminiRead("src/sum.js", "Let me look at the implementation."), match, usage });
const writeSum = (content: string, match: string, usage: Usage): ReplyTurn => ({ ...geminiWrite("src/sum.js", content), match, usage });
const runTests = (match: string, usage: Usage): ReplyTurn => ({ ...geminiShell("node --test", "run the tests"), match, usage });

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

const RunRow = z.object({ id: z.string(), status: z.string(), attempts: z.number(), tokens_in: z.number(), tokens_out: z.number() });
const TaskRow = z.object({ id: z.string(), status: z.string(), branch: z.string(), commit_sha: z.string().nullable() });
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
  commit_sha: z.string().nullable(),
});
const EventRow = z.object({ seq: z.number(), type: z.string(), attempt_id: z.string().nullable(), data: jsonColumn(z.unknown()) });

const ToolCalled = z.object({ type: z.literal("tool.called"), name: z.string(), summary: z.string() });
const SessionStarted = z.object({ type: z.literal("session.started"), sessionId: z.string() });
const AttemptStartedData = z.object({ number: z.number(), agent: z.string(), resumedSession: z.string().optional() });
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

function agentEvents(journal: Journal, attemptId: string): unknown[] {
  return journal.events.filter((e) => e.type === "agent.emitted" && e.attempt_id === attemptId).map((e) => e.data);
}

function pick<T extends z.ZodType>(values: unknown[], schema: T): z.output<T>[] {
  return values.flatMap((value) => {
    const parsed = schema.safeParse(value);
    return parsed.success ? [parsed.data] : [];
  });
}

function eventData<T extends z.ZodType>(journal: Journal, type: string, schema: T): z.output<T>[] {
  return journal.events.filter((e) => e.type === type).map((e) => schema.parse(e.data));
}

/** The session id of the `init` line of a raw transcript: what the CLI itself printed. */
function initSessionId(transcript: string): string | undefined {
  const Init = z.object({ type: z.literal("init"), session_id: z.string() });
  for (const line of readFileSync(transcript, "utf8").split("\n")) {
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

function requestsFor(server: ModelServer, from: number, to: number): RecordedRequest[] {
  return server.modelRequests().filter((r) => r.turn !== undefined && r.turn >= from && r.turn <= to);
}

function expectCleanServer(server: ModelServer): void {
  expect(server.problems()).toEqual([]);
  expect(server.remaining()).toEqual([]);
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

// ---- the tests ------------------------------------------------------------------------------------------------

describe("orch run × the real Gemini CLI", () => {
  it("converges on the second attempt: the first fix fails verification, the resumed session gets the failure", async () => {
    const u1: Usage = { input_tokens: 101, output_tokens: 11 };
    const u2: Usage = { input_tokens: 202, output_tokens: 22 };
    const box = await sandbox([
      // Attempt 1: reads, writes a fix that is still wrong, runs the tests, and answers anyway.
      readSum("# Goal", u1),
      writeSum(STILL_WRONG, "return a - b", u1),
      runTests("src/sum.js", u1),
      { match: "sum(2, 3) must be 5", usage: u1, text: "I changed sum to multiply its arguments." },
      // Attempt 2: its prompt carries attempt 1's failing verify output; this time the fix is right.
      readSum("Earlier attempts on this task: 1", u2),
      writeSum(FIXED, "return a * b", u2),
      runTests("src/sum.js", u2),
      { match: "pass 1", usage: u2, text: "Fixed: sum now adds its arguments." },
    ]);
    const { repo } = box;

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
    expect(repo.git(["log", "-1", "--format=%B", out.branch])).toContain(`Run ${out.runId}, task ${taskId}, attempt 2.`);
    expect(repo.git(["show", `${out.branch}:src/sum.js`])).toBe(FIXED.trimEnd());
    expectUserCheckoutUntouched(repo);

    // The journal.
    const journal = readJournal(repo, out.runId);
    expect(journal.run).toMatchObject({ status: "succeeded", attempts: 2 });
    expect(journal.tasks).toEqual([expect.objectContaining({ id: taskId, status: "succeeded", branch: out.branch, commit_sha: commits[0] })]);
    const [first, second] = journal.attempts;
    if (first === undefined || second === undefined || journal.attempts.length !== 2) throw new Error("two attempts expected");
    expect(journal.attempts.map((a) => [a.number, a.agent, a.status])).toEqual([
      [1, "gemini", "failed"],
      [2, "gemini", "succeeded"],
    ]);
    expect(first.failure?.kind).toBe("verify_failed");
    expect(second.failure).toBeNull();
    expect(second.commit_sha).toBe(commits[0]);

    // Session ids come from the CLI's own `init` line, which the raw transcript keeps.
    for (const attempt of journal.attempts) {
      expect(attempt.session_id).toMatch(/^[0-9a-f-]{36}$/);
      expect(initSessionId(attempt.transcript)).toBe(attempt.session_id);
      expect(pick(agentEvents(journal, attempt.id), SessionStarted).map((e) => e.sessionId)).toEqual([attempt.session_id]);
    }
    // Attempt 2 resumed attempt 1's session (the model did not change after a verify failure).
    expect(eventData(journal, "attempt.started", AttemptStartedData).map((e) => [e.number, e.agent, e.resumedSession])).toEqual([
      [1, "gemini", undefined],
      [2, "gemini", first.session_id],
    ]);
    expect(second.session_id).toBe(first.session_id);

    // No --model: the CLI asked its router (a non-streaming side request, answered without using a turn and
    // with the server's default usage) before the first turn. Tokens: the CLI sums every request per process;
    // it reports no cost.
    const side = box.server.requests.filter((r) => r.outcome === "fixed");
    expect(side.every((r) => r.path.endsWith(":generateContent"))).toBe(true);
    // The router sees the prompt it routes; attempt 2's carries the handoff.
    const sides2 = side.filter((r) => geminiLastUserText(r.body).includes("Earlier attempts on this task")).length;
    const sides1 = side.length - sides2;
    expect(sides1).toBeGreaterThanOrEqual(1);
    const sideUsage = { input_tokens: 120, output_tokens: 24 };
    expect(first.usage).toMatchObject({
      inputTokens: 4 * u1.input_tokens + sides1 * sideUsage.input_tokens,
      outputTokens: 4 * u1.output_tokens + sides1 * sideUsage.output_tokens,
    });
    expect(second.usage).toMatchObject({
      inputTokens: 4 * u2.input_tokens + sides2 * sideUsage.input_tokens,
      outputTokens: 4 * u2.output_tokens + sides2 * sideUsage.output_tokens,
    });
    expect(journal.run.tokens_in).toBe(4 * (u1.input_tokens + u2.input_tokens) + side.length * sideUsage.input_tokens);

    // What the agent did, normalized and journaled as it happened.
    for (const attempt of journal.attempts) {
      expect(pick(agentEvents(journal, attempt.id), ToolCalled).map((e) => e.name)).toEqual(["read_file", "write_file", "run_shell_command"]);
    }

    // The first request of attempt 2: the new prompt hands over attempt 1's failing verify output, and (resumed)
    // the request carries attempt 1's whole conversation before it.
    const [handoffRequest] = requestsFor(box.server, 4, 4);
    const prompt = geminiLastUserText(handoffRequest?.body);
    expect(prompt).toContain("this is attempt 2 of at most 4");
    expect(prompt).toContain("Verify command `node --test` exited 1");
    expect(prompt).toContain("sum(2, 3) must be 5");
    expect(prompt).toContain("I changed sum to multiply its arguments.");
    expect(JSON.stringify(handoffRequest?.body)).toContain(JSON.stringify(STILL_WRONG).slice(1, -1));
    expect(requestsFor(box.server, 0, 3)).toHaveLength(4);
    expect(requestsFor(box.server, 4, 7)).toHaveLength(4);

    // One raw transcript per attempt.
    const logDir = join(repo.dir, ".orch", "logs", out.runId);
    const transcripts = readdirSync(logDir).filter((f) => f.endsWith(".jsonl")).sort();
    expect(transcripts).toEqual([`${first.id}.jsonl`, `${second.id}.jsonl`]);

    // The report.
    const report = readFileSync(out.report ?? "", "utf8");
    expect(report).toContain(GOAL);
    expect(report).toContain("### Attempt 1");
    expect(report).toContain("### Attempt 2");
    expect(report).toContain("verify_failed");
    expect(report).toContain(`Session: \`${first.session_id ?? ""}\``);
    expect(report).toContain(`git merge ${out.branch}`);
  });

  it("rate limit: a 429 fails attempt 1 as rate_limited, orch waits Google's suggested delay, and a fresh session converges", async () => {
    const box = await sandbox([
      { fault: "rate_limit", retryAfterSeconds: 1, match: "# Goal" },
      { ...writeSum(FIXED, "rate_limited", { input_tokens: 50, output_tokens: 5 }) },
      { match: "src/sum.js", text: "Fixed: sum now adds its arguments." },
    ]);

    const result = await orchRun(box, ["--max-attempts", "3"]);
    const out = parseRunJson(result);
    expect(result.code, result.stderr).toBe(0);
    expectCleanServer(box.server);
    expect(out).toMatchObject({ status: "succeeded", attempts: 2 });

    const journal = readJournal(box.repo, out.runId);
    const [first, second] = journal.attempts;
    if (first === undefined || second === undefined) throw new Error("two attempts expected");
    expect(first.failure).toMatchObject({ kind: "rate_limited", httpStatus: 429 });
    expect(first.failure?.resetAt).toBeDefined();
    expect(second.status).toBe("succeeded");
    expect(eventData(journal, "attempt.started", AttemptStartedData).map((e) => e.resumedSession)).toEqual([undefined, undefined]);

    // The CLI quoted Google's RetryInfo ("Suggested retry after 1s."), so orch waited that long, not its backoff.
    const waits = eventData(journal, "task.waited", TaskWaitedData);
    expect(waits).toHaveLength(1);
    expect(waits[0]?.reason).toContain("rate_limited");
    expect(waits[0]?.delayMs).toBeLessThanOrEqual(1_000);
    expect(commitsOn(box.repo, out.branch)).toHaveLength(1);
    expectUserCheckoutUntouched(box.repo);
  });

  it("bad credentials: a 401 stops the run at once, waiting for a human (exit 3), nothing committed", async () => {
    const box = await sandbox([{ fault: "unauthorized" }]);

    const result = await orchRun(box, ["--max-attempts", "4"]);
    const out = parseRunJson(result);
    expect(result.code, result.stderr).toBe(3);
    expectCleanServer(box.server);
    expect(box.server.modelRequests()).toHaveLength(1);
    expect(out).toMatchObject({ status: "waiting", attempts: 1 });
    expect(out.reason).toContain("API key not valid");

    const journal = readJournal(box.repo, out.runId);
    expect(journal.attempts).toHaveLength(1);
    expect(journal.attempts[0]?.failure).toMatchObject({ kind: "auth_failed", httpStatus: 401 });
    expect(commitsOn(box.repo, out.branch)).toEqual([]);
    expectUserCheckoutUntouched(box.repo);
  });

  it("hang: no output for the stall timeout makes the attempt hung; gemini and its relaunched child are stopped", async () => {
    const box = await sandbox([{ fault: "hang" }]);

    // Long enough for the CLI to start and send its request on a busy machine (it prints nothing before that).
    const result = await orchRun(box, ["--stall-timeout", "8s", "--max-attempts", "1"]);
    const out = parseRunJson(result);
    expect(result.code, result.stderr).toBe(1);
    expect(box.server.modelRequests().map((r) => r.note)).toEqual(["hang"]);
    expect(out).toMatchObject({ status: "failed", attempts: 1 });

    const journal = readJournal(box.repo, out.runId);
    expect(journal.attempts[0]).toMatchObject({ status: "failed", exit_reason: "hung" });
    expect(journal.attempts[0]?.failure?.kind).toBe("hung");
    expect(commitsOn(box.repo, out.branch)).toEqual([]);
    expect(await processesMentioning(box.repo.root)).toEqual([]);
  });
});
