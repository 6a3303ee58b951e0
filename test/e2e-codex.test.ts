// End to end: the built `orch` binary drives the real Codex CLI (node_modules/.bin/codex) against the scripted
// Responses server, in a throw-away repository with its own HOME, CODEX_HOME and TMPDIR. The agent works in a
// linked git worktree under Codex's workspace-write sandbox (orch's default permission). It checks what a user
// sees (exit code, --json, branches, report) and what orch wrote down (the journal, the transcripts).
import { readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { killAll, processesMentioning, runOrch, type CliResult } from "./support/cli.js";
import {
  codexEnv,
  codexExec,
  codexPatch,
  openaiResponsesProtocol,
  replaceFilePatch,
  responsesLastUserText,
  writeCodexHome,
} from "./support/model-server/openai-responses.js";
import { startModelServer, type ModelServer, type RecordedRequest, type ReplyTurn, type Script, type Usage } from "./support/model-server/server.js";
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
  const leaked = (await Promise.all(repos.map((repo) => processesMentioning(repo.root)))).flat();
  killAll(leaked);
  await Promise.all(servers.splice(0).map((server) => server.close()));
  for (const repo of repos.splice(0)) repo.remove();
  expect(leaked, "a process outlived its test").toEqual([]);
});

interface Sandbox {
  repo: TempRepo;
  server: ModelServer;
  /** The environment orch runs with; it passes it on to `codex`. */
  env: Record<string, string>;
}

function newRepo(): TempRepo {
  const repo = makeTempRepo({ files: FILES, prefix: "orch-e2e-codex-" });
  repos.push(repo);
  return repo;
}

async function sandbox(repo: TempRepo, script: Script): Promise<Sandbox> {
  const server = await startModelServer({ script, protocols: [openaiResponsesProtocol] });
  servers.push(server);
  const codexHome = join(repo.root, "codex-home");
  // No retries inside Codex: a scripted fault reaches orch at once, and orch's own recovery is under test.
  writeCodexHome(codexHome, { url: server.url, requestMaxRetries: 0, streamMaxRetries: 0 });
  const env = {
    ...codexEnv({ home: repo.home, codexHome, tmp: repo.tmp, path: `${BIN}:${process.env["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"}` }),
    GIT_CONFIG_NOSYSTEM: "1",
    GIT_CEILING_DIRECTORIES: repo.root,
  };
  return { repo, server, env };
}

function orchRun(box: Sandbox, extra: readonly string[]): Promise<CliResult> {
  const args = ["run", GOAL, "--verify", "node --test", "--agent", "codex", "--json", ...extra];
  return runOrch(args, { cwd: box.repo.dir, env: box.env, timeoutMs: ORCH_TIMEOUT_MS });
}

// ---- script turns: Codex's tools take paths relative to the worktree, so no path needs the run id ------------

const patchSum = (before: string, after: string, match: string, usage: Usage): ReplyTurn => ({
  ...codexPatch(replaceFilePatch("src/sum.js", before, after), "Patching src/sum.js."),
  match,
  usage,
});
const runTests = (match: string, usage: Usage): ReplyTurn => ({ ...codexExec("node --test"), match, usage });

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
const UsageJson = z.object({ inputTokens: z.number(), outputTokens: z.number(), cacheReadTokens: z.number().optional() });

const jsonColumn = <T extends z.ZodType>(schema: T) =>
  z.string().transform((text, ctx): z.output<T> => {
    const parsed = schema.safeParse(JSON.parse(text));
    if (parsed.success) return parsed.data;
    ctx.addIssue({ code: "custom", message: parsed.error.message });
    return z.NEVER;
  });
const nullableJson = <T extends z.ZodType>(schema: T) => z.union([z.null(), jsonColumn(schema)]);

const RunRow = z.object({ id: z.string(), status: z.string(), attempts: z.number(), cost_usd: z.number(), tokens_in: z.number(), tokens_out: z.number() });
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
  cost_usd: z.number().nullable(),
  commit_sha: z.string().nullable(),
});
const EventRow = z.object({ seq: z.number(), type: z.string(), attempt_id: z.string().nullable(), data: jsonColumn(z.unknown()) });

const ToolCalled = z.object({ type: z.literal("tool.called"), name: z.string(), summary: z.string() });
const ToolReturned = z.object({ type: z.literal("tool.returned"), isError: z.boolean(), exitCode: z.number().optional() });
const SessionStarted = z.object({ type: z.literal("session.started"), sessionId: z.string() });
const AttemptStartedData = z.object({ number: z.number(), resumedSession: z.string().optional() });

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
  return journal.events
    .filter((e) => e.type === "agent.emitted" && e.attempt_id === attemptId)
    .flatMap((e) => {
      const parsed = schema.safeParse(e.data);
      return parsed.success ? [parsed.data] : [];
    });
}

function eventData<T extends z.ZodType>(journal: Journal, type: string, schema: T): z.output<T>[] {
  return journal.events.filter((e) => e.type === type).map((e) => schema.parse(e.data));
}

/** The thread id of the `thread.started` line of a raw transcript. */
function transcriptThreadId(transcript: string): string | undefined {
  const Started = z.object({ type: z.literal("thread.started"), thread_id: z.string() });
  for (const line of readFileSync(transcript, "utf8").split("\n")) {
    if (line.trim() === "") continue;
    try {
      const parsed = Started.safeParse(JSON.parse(line));
      if (parsed.success) return parsed.data.thread_id;
    } catch {
      // not JSON; the parser turns such a line into an unknown event
    }
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

describe("orch run × the real Codex CLI", () => {
  it("converges on the second attempt, which resumes the Codex thread with the failure handed over", async () => {
    const repo = newRepo();
    const u1: Usage = { input_tokens: 101, output_tokens: 11 };
    const u2: Usage = { input_tokens: 202, output_tokens: 22 };
    const box = await sandbox(repo, [
      // Attempt 1: a fix that is still wrong, the tests run (and fail), an answer anyway.
      patchSum(BUGGY, STILL_WRONG, "# Goal", u1),
      runTests("Success. Updated the following files", u1),
      { match: "sum(2, 3) must be 5", usage: u1, text: "I changed sum to multiply its arguments." },
      // Attempt 2 (`codex exec resume`): its prompt carries attempt 1's failing verify output.
      patchSum(STILL_WRONG, FIXED, "Earlier attempts on this task: 1", u2),
      runTests("Success. Updated the following files", u2),
      { match: "# pass 1", usage: u2, text: "Fixed: sum now adds its arguments." },
    ]);

    const result = await orchRun(box, ["--max-attempts", "4"]);
    const out = parseRunJson(result);
    expect(result.code, result.stderr).toBe(0);
    expectCleanServer(box.server);

    expect(out).toMatchObject({ status: "succeeded", attempts: 2 });
    const branchMatch = /^orch\/([^/]+)\/([^/]+)$/.exec(out.branch);
    expect(branchMatch?.[1]).toBe(out.runId);
    const taskId = branchMatch?.[2] ?? "";

    // Git: one commit on the task branch with the right fix (orch committed; the sandbox kept the agent out of
    // the git metadata); the user's checkout as it was.
    const commits = commitsOn(repo, out.branch);
    expect(commits).toHaveLength(1);
    expect(repo.git(["log", "-1", "--format=%B", out.branch])).toContain(`Run ${out.runId}, task ${taskId}, attempt 2.`);
    expect(repo.git(["show", `${out.branch}:src/sum.js`])).toBe(FIXED.trimEnd());
    expectUserCheckoutUntouched(repo);

    const journal = readJournal(repo, out.runId);
    expect(journal.run).toMatchObject({ status: "succeeded", attempts: 2 });
    expect(journal.tasks).toEqual([expect.objectContaining({ id: taskId, status: "succeeded", branch: out.branch, commit_sha: commits[0] })]);
    const [first, second] = journal.attempts;
    if (first === undefined || second === undefined || journal.attempts.length !== 2) throw new Error("two attempts expected");
    expect(journal.attempts.map((a) => [a.number, a.agent, a.status])).toEqual([
      [1, "codex", "failed"],
      [2, "codex", "succeeded"],
    ]);
    expect(first.failure?.kind).toBe("verify_failed");
    expect(second.failure).toBeNull();
    expect(second.commit_sha).toBe(commits[0]);

    // The session is Codex's thread: the same id in both transcripts, and attempt 2 resumed it.
    const thread = first.session_id;
    expect(thread).not.toBeNull();
    for (const attempt of journal.attempts) {
      expect(attempt.session_id).toBe(thread);
      expect(transcriptThreadId(attempt.transcript)).toBe(thread);
      expect(agentEvents(journal, attempt.id, SessionStarted).map((e) => e.sessionId)).toEqual([thread]);
    }
    expect(eventData(journal, "attempt.started", AttemptStartedData)).toEqual([
      { number: 1 },
      expect.objectContaining({ number: 2, resumedSession: thread }),
    ]);

    // Tokens: Codex reports the thread's totals; each attempt is charged its own three requests only.
    expect(first.usage).toMatchObject({ inputTokens: 3 * u1.input_tokens, outputTokens: 3 * u1.output_tokens });
    expect(second.usage).toMatchObject({ inputTokens: 3 * u2.input_tokens, outputTokens: 3 * u2.output_tokens });
    expect(journal.run.tokens_in).toBe(3 * (u1.input_tokens + u2.input_tokens));
    expect(journal.run.tokens_out).toBe(3 * (u1.output_tokens + u2.output_tokens));
    // Codex reports no cost.
    expect(first.cost_usd ?? 0).toBe(0);
    expect(journal.run.cost_usd).toBe(0);

    // What the agent did, normalized as it happened: the tests failed under attempt 1, passed under attempt 2.
    for (const attempt of journal.attempts) {
      expect(agentEvents(journal, attempt.id, ToolCalled).map((e) => e.name)).toEqual(["apply_patch", "exec_command"]);
    }
    expect(agentEvents(journal, first.id, ToolReturned)).toEqual([
      expect.objectContaining({ isError: false }),
      expect.objectContaining({ isError: true, exitCode: 1 }),
    ]);
    expect(agentEvents(journal, second.id, ToolReturned)).toEqual([
      expect.objectContaining({ isError: false }),
      expect.objectContaining({ isError: false, exitCode: 0 }),
    ]);

    // Attempt 2's first request: the new prompt hands over the failure, and (resumed) attempt 1's whole
    // conversation comes before it.
    const [handoff] = requestsFor(box.server, 3, 3);
    const prompt = responsesLastUserText(handoff?.body);
    expect(prompt).toContain("this is attempt 2 of at most 4");
    expect(prompt).toContain("Verify command `node --test` exited 1");
    expect(prompt).toContain("sum(2, 3) must be 5");
    expect(prompt).toContain("apply_patch update");
    expect(prompt).toContain("I changed sum to multiply its arguments.");
    const history = JSON.stringify(handoff?.body);
    expect(history).toContain("+  return a * b;");
    expect(history).toContain("I changed sum to multiply its arguments.");

    const transcripts = readdirSync(join(repo.dir, ".orch", "logs", out.runId)).filter((f) => f.endsWith(".jsonl")).sort();
    expect(transcripts).toEqual([`${first.id}.jsonl`, `${second.id}.jsonl`]);
    const report = readFileSync(out.report ?? "", "utf8");
    expect(report).toContain("### Attempt 2");
    expect(report).toContain(`git merge ${out.branch}`);
  });

  it("rate limit: a 429 fails attempt 1 as rate_limited; a fresh thread then converges", async () => {
    const repo = newRepo();
    const box = await sandbox(repo, [
      { fault: "rate_limit", match: "# Goal" },
      patchSum(BUGGY, FIXED, "# Goal", { input_tokens: 50, output_tokens: 5 }),
      { match: "Success. Updated the following files", text: "Fixed: sum now adds its arguments." },
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
    expect(first.failure?.detail).toContain("last status: 429 Too Many Requests");
    expect(second.status).toBe("succeeded");
    // A failure other than verification starts a fresh thread.
    expect(eventData(journal, "attempt.started", AttemptStartedData)).toEqual([{ number: 1 }, { number: 2 }]);
    expect(second.session_id).not.toBe(first.session_id);
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
    expect(out).toMatchObject({ status: "waiting", attempts: 1 });
    expect(out.reason).toContain("Incorrect API key provided");

    const journal = readJournal(repo, out.runId);
    expect(journal.attempts).toHaveLength(1);
    expect(journal.attempts[0]?.failure).toMatchObject({ kind: "auth_failed", httpStatus: 401 });
    expect(commitsOn(repo, out.branch)).toEqual([]);
    expectUserCheckoutUntouched(repo);
  });

  it("hang: a request that is never answered makes the attempt hung; Codex (launcher and binary) is stopped", async () => {
    const repo = newRepo();
    const box = await sandbox(repo, [{ fault: "hang" }]);

    const result = await orchRun(box, ["--stall-timeout", "2s", "--max-attempts", "1"]);
    const out = parseRunJson(result);
    expect(result.code, result.stderr).toBe(1);
    expect(box.server.modelRequests().map((r) => r.note)).toEqual(["hang"]);
    expect(out).toMatchObject({ status: "failed", attempts: 1 });

    const journal = readJournal(repo, out.runId);
    expect(journal.attempts[0]).toMatchObject({ status: "failed", exit_reason: "hung" });
    expect(journal.attempts[0]?.failure?.kind).toBe("hung");
    expect(commitsOn(repo, out.branch)).toEqual([]);
    // orch has exited; neither the node launcher nor the native codex binary may still be running.
    expect(await processesMentioning(repo.root)).toEqual([]);
    expect(result.ms).toBeLessThan(20_000);
  });
});
