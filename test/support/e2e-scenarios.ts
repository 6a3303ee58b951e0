// The scenarios every real agent CLI runs through orch — converge on the second attempt, a rate limit, bad
// credentials, a hang, a prompt too long — each with the assertions that hold for any CLI; a CLI's test file
// supplies its driver.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { z } from "zod";
import { firstLine } from "../../src/core/text.js";
import { jsonLines, parseRunResult, processesMentioning, RunResultJson, runOrch, type CliResult } from "./cli.js";
import {
  agentEvents,
  AttemptStartedData,
  commitsOn,
  taskBranchOf,
  eventData,
  expectUserCheckoutUntouched,
  FAILING_REPO,
  ofType,
  PATH_WITH_BIN,
  readJournal,
  requestsFor,
  SUM,
  TaskWaitedData,
  useSandboxes,
  type AttemptRow,
  type Journal,
  type Protocols,
  type Sandboxes,
} from "./e2e.js";
import type { ModelServer, RecordedRequest, ReplyTurn, Script, Usage } from "./model-server/server.js";
import type { TempRepo } from "./repo.js";

export const GOAL = "make the failing tests pass";
/** Attempt 1's last words in the converge scenario, which attempt 2's handoff must quote. */
const WRONG_ANSWER = "I changed sum to multiply its arguments.";
export const FIXED_ANSWER = "Fixed: sum now adds its arguments.";

/** One change of src/sum.js the script makes the CLI perform. */
export interface FixStep {
  repo: TempRepo;
  before: string;
  after: string;
  /** What the request answered by the first of the fix's turns must contain. */
  match: string;
  usage?: Usage;
}

/** How one agent CLI is driven: its environment, its wire protocol, its tool-call turns, its transcript. */
export interface RealCli {
  /** orch's `--agent`, and the journal's `agent` column. */
  agent: string;
  /** As test titles name it. */
  name: string;
  protocols?: Protocols;
  /** More arguments for `orch run` (after `--agent`). */
  args?: readonly string[];
  /** How long one `orch run` may take; the test may take 30 s more. */
  orchTimeoutMs: number;
  /** The complete environment orch runs with and passes on to the CLI; may write the CLI's config files. */
  env(at: { url: string; repo: TempRepo; path: string }): Record<string, string>;
  /** The text the model answers in a request body: the prompt, or the last tool results. */
  lastUserText(body: unknown): string;
  /** Reads one raw transcript line as the session id it names, if it names one. */
  transcriptSession: z.ZodType<string>;
  /** What a session id of this CLI looks like. */
  sessionId: RegExp;
  /** The turns that change src/sum.js from `before` to `after` (reading it first where the CLI insists). */
  fix(step: FixStep): ReplyTurn[];
  /** What the CLI's tool result says once the fix's last turn has run (the next turn's `match`). */
  fixedMatch: string;
  /** A turn that runs `node --test`. */
  runTests(match: string, usage?: Usage): ReplyTurn;
}

/** What one `orch run` left: its exit, its --json, the journal, and the server that played the script. */
export interface OrchRun {
  repo: TempRepo;
  server: ModelServer;
  result: CliResult;
  out: z.infer<typeof RunResultJson>;
  journal: Journal;
}

export interface Converged extends OrchRun {
  first: AttemptRow;
  second: AttemptRow;
  /** The task's worktree, where the CLI worked. */
  worktree: string;
  /** Script turns per attempt. */
  turns: number;
  u1: Usage;
  u2: Usage;
  /** Attempt 2's first model request, and the prompt text in it. */
  handoff: RecordedRequest | undefined;
  prompt: string;
}

type Check<T> = (run: T) => void | Promise<void>;

export interface Scenarios {
  converge: {
    /** Tokens the CLI spent in attempt `n` on requests that took no script turn (a model router, say). */
    sideUsage?(server: ModelServer, attempt: 1 | 2): Usage;
    check?: Check<Converged>;
  };
  rateLimit?: { retryAfterSeconds?: number; check?: Check<OrchRun> };
  /** `message`: what the CLI quotes from the 401, which orch's reason passes on. */
  unauthorized: { message: string; check?: Check<OrchRun> };
  /** `stallSeconds`: long enough for the CLI to start and send its request on a busy machine. */
  hang?: { stallSeconds: number; check?: Check<OrchRun> };
  /** The model keeps answering "prompt too long"; `loops`: the CLI retries it itself (OpenCode compacts and retries forever). */
  contextTooLong?: { loops?: boolean; check?: Check<OrchRun> };
}

/** The scenarios `scenarios` names, for `cli`, in one describe block with its own sandboxes. */
export function describeRealCli(cli: RealCli, scenarios: Scenarios): void {
  describe(`orch run × the real ${cli.name}`, () => {
    const sandboxes = useSandboxes({ prefix: `orch-e2e-${cli.agent}-` });
    const timeout = cli.orchTimeoutMs + 30_000;
    const { rateLimit, unauthorized, hang } = scenarios;

    it("converges on the second attempt: the first fix fails verification, the resumed session gets the failure", { timeout }, async () => {
      const run = await converge(cli, sandboxes, scenarios.converge.sideUsage);
      await scenarios.converge.check?.(run);
    });
    if (rateLimit !== undefined) {
      it("rate limit: a 429 fails attempt 1 as rate_limited, orch waits, and a fresh session converges", { timeout }, async () => {
        const run = await rateLimited(cli, sandboxes, rateLimit.retryAfterSeconds);
        await rateLimit.check?.(run);
      });
    }
    it("bad credentials: a 401 stops the run at once, waiting for a human (exit 3), nothing committed", { timeout }, async () => {
      const run = await refused(cli, sandboxes, unauthorized.message);
      await unauthorized.check?.(run);
    });
    if (hang !== undefined) {
      it("hang: no output for the stall timeout makes the attempt hung; the CLI is stopped, nothing is left running", { timeout }, async () => {
        const run = await hung(cli, sandboxes, hang.stallSeconds);
        await hang.check?.(run);
      });
    }
    if (scenarios.contextTooLong !== undefined) {
      const { loops = false, check } = scenarios.contextTooLong;
      it("context too long: the attempt fails as context_exceeded, with no retry of the same prompt", { timeout }, async () => {
        const run = await contextTooLong(cli, sandboxes, loops);
        await check?.(run);
      });
    }
  });
}

/** `orch run GOAL --verify "node --test" --agent <cli> --json ...extra` in (by default) a fresh failing repository. */
export async function orchRun(cli: RealCli, sandboxes: Sandboxes, script: Script, extra: readonly string[], repo = sandboxes.repo(FAILING_REPO)): Promise<OrchRun> {
  const server = await sandboxes.server(script, cli.protocols);
  const env = { ...cli.env({ url: server.url, repo, path: PATH_WITH_BIN }), GIT_CONFIG_NOSYSTEM: "1", GIT_CEILING_DIRECTORIES: repo.root, ORCH_WORKTREES_DIR: repo.worktrees };
  // These runs are about the CLI as the implementer: no default reviewer (a CLI whose credentials another CLI can
  // use, OpenCode's, would be chosen otherwise), unless a test names one.
  const args = ["run", GOAL, "--verify", "node --test", "--agent", cli.agent, ...(cli.args ?? []), "--json", ...(extra.includes("--reviewer") || (cli.args ?? []).includes("--no-review") ? [] : ["--no-review"]), ...extra];
  const result = await runOrch(args, { cwd: repo.dir, env, timeoutMs: cli.orchTimeoutMs });
  const out = parseRunResult(result);
  return { repo, server, result, out, journal: readJournal(repo, out.runId) };
}

function expectCleanServer(server: ModelServer): void {
  expect(server.problems()).toEqual([]);
  expect(server.remaining()).toEqual([]);
}

async function converge(cli: RealCli, sandboxes: Sandboxes, sideUsage: Scenarios["converge"]["sideUsage"]): Promise<Converged> {
  const repo = sandboxes.repo(FAILING_REPO);
  const u1: Usage = { input_tokens: 101, output_tokens: 11 };
  const u2: Usage = { input_tokens: 202, output_tokens: 22 };
  const attempt1: ReplyTurn[] = [
    // A fix that is still wrong, the tests run (and fail), an answer anyway.
    ...cli.fix({ repo, before: SUM.buggy, after: SUM.stillWrong, match: "# Goal", usage: u1 }),
    cli.runTests(cli.fixedMatch, u1),
    { match: "sum(2, 3) must be 5", usage: u1, text: WRONG_ANSWER },
  ];
  const attempt2: ReplyTurn[] = [
    // Resumed: its prompt carries attempt 1's failing verify output; this time the fix is right.
    ...cli.fix({ repo, before: SUM.stillWrong, after: SUM.fixed, match: "Earlier attempts on this task: 1", usage: u2 }),
    cli.runTests(cli.fixedMatch, u2),
    { match: "pass 1", usage: u2, text: FIXED_ANSWER },
  ];
  const turns = attempt1.length;
  const run = await orchRun(cli, sandboxes, [...attempt1, ...attempt2], ["--max-attempts", "4"], repo);
  const { result, out, server, journal } = run;
  expect(result.code, result.stderr).toBe(0);
  expectCleanServer(server);

  // --json
  expect(out).toMatchObject({ status: "succeeded", attempts: 2 });
  expect(out.branch).toBe(`orch/${out.runId}/_run`);
  const taskBranch = taskBranchOf(journal);
  const taskId = /^orch\/[^/]+\/([^/]+)$/.exec(taskBranch)?.[1] ?? "";
  expect(out.report).toBe(join(repo.dir, ".orch", "reports", `${out.runId}.md`));

  // Git: one commit on the task branch with the right fix (orch committed it), integrated into the run branch; the
  // user's checkout as it was.
  const commits = commitsOn(repo, taskBranch);
  expect(commits).toHaveLength(1);
  expect(repo.git(["log", "-1", "--format=%B", taskBranch])).toContain(`Run ${out.runId}, task ${taskId}, attempt 2.`);
  expect(repo.git(["show", `${out.branch}:src/sum.js`])).toBe(SUM.fixed.trimEnd());
  expectUserCheckoutUntouched(repo);

  // The journal.
  const worktree = join(repo.runWorktrees, out.runId, taskId);
  expect(journal.run).toMatchObject({ status: "succeeded", attempts: 2 });
  expect(journal.tasks).toEqual([expect.objectContaining({ id: taskId, status: "succeeded", branch: taskBranch, worktree, commit_sha: commits[0] })]);
  const [first, second] = journal.attempts;
  if (first === undefined || second === undefined || journal.attempts.length !== 2) throw new Error("two attempts expected");
  expect(journal.attempts.map((a) => [a.number, a.agent, a.status])).toEqual([
    [1, cli.agent, "failed"],
    [2, cli.agent, "succeeded"],
  ]);
  expect(first.failure?.kind).toBe("verify_failed");
  expect(second.failure).toBeNull();
  expect(second.commit_sha).toBe(commits[0]);
  const types = new Set(journal.events.map((e) => e.type));
  for (const type of ["run.created", "run.started", "attempt.started", "attempt.spawned", "attempt.exited", "verify.completed", "attempt.finished", "task.finished", "run.finished"]) {
    expect(types, type).toContain(type);
  }

  // The session id is the CLI's own, as its raw transcript names it; attempt 2 resumed attempt 1's session
  // (the model did not change after a verify failure).
  for (const attempt of journal.attempts) {
    expect(attempt.session_id).toMatch(cli.sessionId);
    const named = jsonLines(readFileSync(attempt.transcript, "utf8")).flatMap((line) => {
      const parsed = cli.transcriptSession.safeParse(line);
      return parsed.success ? [parsed.data] : [];
    });
    expect([...new Set(named)]).toEqual([attempt.session_id]);
    const events = agentEvents(journal, attempt.id);
    expect(ofType(events, "session.started").map((e) => e.sessionId)).toEqual([attempt.session_id]);
    expect(ofType(events, "unknown")).toEqual([]);
    // What the agent did, normalized and journaled as it happened: the tools the script called.
    const scripted = (attempt.number === 1 ? attempt1 : attempt2).flatMap((turn) => (turn.tools ?? []).map((tool) => tool.name));
    expect(ofType(events, "tool.called").map((e) => e.name)).toEqual(scripted);
  }
  expect(second.session_id).toBe(first.session_id);
  expect(eventData(journal, "attempt.started", AttemptStartedData).map((e) => [e.number, e.agent, e.resumedSession])).toEqual([
    [1, cli.agent, undefined],
    [2, cli.agent, first.session_id],
  ]);

  // Tokens: each attempt is charged its own requests (the CLI's totals may span the resumed session).
  const charged = (attempt: 1 | 2, usage: Usage) => {
    const side = sideUsage?.(server, attempt) ?? { input_tokens: 0, output_tokens: 0 };
    return { inputTokens: turns * usage.input_tokens + side.input_tokens, outputTokens: turns * usage.output_tokens + side.output_tokens };
  };
  const [c1, c2] = [charged(1, u1), charged(2, u2)];
  expect(first.usage).toMatchObject(c1);
  expect(second.usage).toMatchObject(c2);
  expect(journal.run.tokens_in).toBe(c1.inputTokens + c2.inputTokens);
  expect(journal.run.tokens_out).toBe(c1.outputTokens + c2.outputTokens);
  expect(journal.run.cost_usd).toBeCloseTo((first.cost_usd ?? 0) + (second.cost_usd ?? 0), 10);

  // Attempt 2's first request: the new prompt hands over attempt 1's failure, what it did and its last words,
  // after attempt 1's whole conversation.
  const [handoff] = requestsFor(server, turns, turns);
  const prompt = cli.lastUserText(handoff?.body);
  expect(prompt).toContain("this is attempt 2 of at most 4");
  expect(prompt).toContain("Verify command `node --test` exited 1");
  expect(prompt).toContain("sum(2, 3) must be 5");
  expect(prompt).toContain(WRONG_ANSWER);
  for (const call of ofType(agentEvents(journal, first.id), "tool.called")) {
    expect(prompt).toContain(firstLine(`${call.name} ${call.summary}`.trim(), 160));
  }
  const history = JSON.stringify(handoff?.body);
  expect(history).toContain("return a * b");
  expect(history).toContain(WRONG_ANSWER);
  expect(requestsFor(server, 0, turns - 1)).toHaveLength(turns);
  expect(requestsFor(server, turns, 2 * turns - 1)).toHaveLength(turns);

  // One raw transcript per attempt.
  const logDir = join(repo.dir, ".orch", "logs", out.runId);
  const transcripts = readdirSync(logDir).filter((f) => f.endsWith(".jsonl")).sort();
  expect(transcripts).toEqual([`${first.id}.jsonl`, `${second.id}.jsonl`]);
  expect(journal.attempts.map((a) => a.transcript)).toEqual(transcripts.map((f) => join(logDir, f)));

  // The report.
  const report = readFileSync(out.report ?? "", "utf8");
  expect(report).toContain(GOAL);
  expect(report).toContain("### Attempt 1");
  expect(report).toContain("### Attempt 2");
  expect(report).toContain("verify_failed");
  expect(report).toContain(`Session: \`${first.session_id ?? ""}\``);
  expect(report).toContain(`git merge ${out.branch}`);

  return { ...run, first, second, worktree, turns, u1, u2, handoff, prompt };
}

async function rateLimited(cli: RealCli, sandboxes: Sandboxes, retryAfterSeconds: number | undefined): Promise<OrchRun> {
  const repo = sandboxes.repo(FAILING_REPO);
  const usage: Usage = { input_tokens: 50, output_tokens: 5 };
  const script: Script = [
    { fault: "rate_limit", match: "# Goal", ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }) },
    ...cli.fix({ repo, before: SUM.buggy, after: SUM.fixed, match: "rate_limited", usage }),
    { match: cli.fixedMatch, text: FIXED_ANSWER },
  ];
  const run = await orchRun(cli, sandboxes, script, ["--max-attempts", "3"], repo);
  const { result, out, server, journal } = run;
  expect(result.code, result.stderr).toBe(0);
  expectCleanServer(server);
  expect(out).toMatchObject({ status: "succeeded", attempts: 2 });

  const [first, second] = journal.attempts;
  if (first === undefined || second === undefined) throw new Error("two attempts expected");
  expect(first.failure).toMatchObject({ kind: "rate_limited", httpStatus: 429 });
  expect(second.status).toBe("succeeded");
  // A failure other than verification starts a fresh session.
  expect(eventData(journal, "attempt.started", AttemptStartedData).map((e) => [e.number, e.resumedSession])).toEqual([
    [1, undefined],
    [2, undefined],
  ]);
  expect(second.session_id).not.toBe(first.session_id);

  // One wait before attempt 2 (how long is the CLI's business: a quoted reset time, or orch's backoff).
  const waits = eventData(journal, "task.waited", TaskWaitedData);
  expect(waits).toHaveLength(1);
  const [wait] = waits;
  expect(wait?.reason).toContain("rate_limited");
  const [limited, retried] = [requestsFor(server, 0, 0)[0], requestsFor(server, 1, 1)[0]];
  expect((retried?.time ?? 0) - (limited?.time ?? 0)).toBeGreaterThanOrEqual(wait?.delayMs ?? Infinity);

  expect(commitsOn(repo, taskBranchOf(run.journal))).toHaveLength(1);
  expectUserCheckoutUntouched(repo);
  return run;
}

async function refused(cli: RealCli, sandboxes: Sandboxes, message: string): Promise<OrchRun> {
  const run = await orchRun(cli, sandboxes, [{ fault: "unauthorized", match: "# Goal" }], ["--max-attempts", "4"]);
  const { result, out, server, journal, repo } = run;
  expect(result.code, result.stderr).toBe(3);
  expectCleanServer(server);
  expect(server.modelRequests()).toHaveLength(1);
  expect(out).toMatchObject({ status: "waiting", attempts: 1 });
  expect(out.reason).toMatch(/refused/i);
  expect(out.reason).toContain(message);

  expect(journal.run.status).toBe("waiting");
  expect(journal.attempts.map((a) => [a.agent, a.failure?.kind, a.failure?.httpStatus])).toEqual([[cli.agent, "auth_failed", 401]]);
  expect(journal.events.some((e) => e.type === "task.waited")).toBe(false);
  expect(commitsOn(repo, out.branch)).toEqual([]);
  expectUserCheckoutUntouched(repo);
  return run;
}

async function hung(cli: RealCli, sandboxes: Sandboxes, stallSeconds: number): Promise<OrchRun> {
  const run = await orchRun(cli, sandboxes, [{ fault: "hang" }], ["--stall-timeout", `${stallSeconds}s`, "--max-attempts", "1"]);
  const { result, out, server, journal, repo } = run;
  expect(result.code, result.stderr).toBe(1);
  expect(server.modelRequests().map((r) => r.note)).toEqual(["hang"]);
  expect(out).toMatchObject({ status: "failed", attempts: 1 });

  expect(journal.run.status).toBe("failed");
  expect(journal.attempts).toHaveLength(1);
  expect(journal.attempts[0]).toMatchObject({ status: "failed", exit_reason: "hung" });
  expect(journal.attempts[0]?.failure).toEqual({ kind: "hung", detail: `no output for ${stallSeconds}s; the agent was stopped` });
  expect(commitsOn(repo, out.branch)).toEqual([]);
  // The attempt limit ends the task: no backoff before saying so.
  expect(journal.events.some((e) => e.type === "task.waited")).toBe(false);

  // orch has exited; the CLI and everything it started (launchers, relaunched children) are gone.
  expect(await processesMentioning(repo.root)).toEqual([]);
  expect(result.ms).toBeLessThan(Math.max(20_000, stallSeconds * 1_000 + 16_000));
  return run;
}

async function contextTooLong(cli: RealCli, sandboxes: Sandboxes, loops: boolean): Promise<OrchRun> {
  // Long timers: only the failure itself (or, for a CLI that loops on it, orch's repeated-failure rule) may end it.
  const run = await orchRun(cli, sandboxes, [{ fault: "context_too_long", repeat: 200 }], [
    "--max-attempts",
    "1",
    "--stall-timeout",
    "120s",
    "--attempt-timeout",
    "120s",
  ]);
  const { result, out, journal, repo } = run;
  expect(result.code, result.stderr).toBe(1);
  expect(out).toMatchObject({ status: "failed", attempts: 1 });
  const [attempt] = journal.attempts;
  expect(attempt?.failure?.kind).toBe("context_exceeded");
  expect(attempt?.exit_reason).toBe(loops ? "repeated_failure" : "exited");
  if (loops) expect(attempt?.failure?.detail).toMatch(/\(reported 3 times in one attempt; the agent was stopped\)$/);
  expect(commitsOn(repo, out.branch)).toEqual([]);
  expect(await processesMentioning(repo.root)).toEqual([]);
  return run;
}
