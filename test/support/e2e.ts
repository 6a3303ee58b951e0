// What the tests that run real programs share: per-test sandboxes that afterEach removes (failing the test if
// a process it started outlived it), the failing repository they fix, and reading back what orch journaled.
import { mkdirSync, readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import Database from "better-sqlite3";
import { afterEach, expect } from "vitest";
import { z } from "zod";
import type { AgentAdapter, AgentCommand, AgentExit, AgentInvocation } from "../../src/agents/agent.js";
import { AgentEvent } from "../../src/core/agent-event.js";
import type { Failure } from "../../src/core/failure.js";
import { unpackOutput } from "../../src/store/packed-output.js";
import {
  leftoverProcesses,
  parseJsonOutput,
  runOrch,
  startOrch,
  startProcess,
  StatusJson,
  type CliOptions,
  type CliResult,
  type FoundProcess,
  type RunningProcess,
} from "./cli.js";
import { claudeEnv, startModelServer, type ModelServer, type RecordedRequest, type Script } from "./model-server/server.js";
import { makeSandbox, makeTempRepo, type Sandbox, type TempRepo } from "./repo.js";

/** node_modules/.bin, where the agent CLIs under test are installed. */
export const BIN = resolve(import.meta.dirname, "../../node_modules/.bin");
/** PATH with the agent CLIs first. */
export const PATH_WITH_BIN = `${BIN}:${process.env["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"}`;
/** The fixture agents (tiny shell scripts) for the `command` agent. */
export const AGENTS = resolve(import.meta.dirname, "../fixtures/agents");
/** The `--agent-command` that runs fixture agent `name`. */
export const fixtureAgent = (name: string): string => `sh '${join(AGENTS, name)}'`;

// ---- per-test sandboxes ---------------------------------------------------------------------------------

/** A sandbox with an empty working directory, for a CLI run outside any repository. */
export interface WorkSandbox extends Sandbox {
  work: string;
}

export type StatusView = z.infer<typeof StatusJson>;

/** A repository in which the command agent runs: fixture agents write what they were given to `out`. */
export interface OrchSandbox {
  repo: TempRepo;
  out: string;
  env: Record<string, string>;
  orch(args: readonly string[], options?: { env?: Record<string, string>; cwd?: string; timeoutMs?: number }): Promise<CliResult>;
  /** Starts orch and returns at once; afterEach kills it (and fails the test) if it is still running. */
  start(args: readonly string[], options?: { timeoutMs?: number }): RunningProcess;
  /** `orch status RUN --json`, which must exit 0. */
  status(runId: string): Promise<StatusView>;
}

/** The wire protocols a scripted model server speaks. */
export type Protocols = Parameters<typeof startModelServer>[0]["protocols"];

export interface Sandboxes {
  /** A throw-away git repository holding `files`, with its own HOME and TMPDIR. */
  repo(files: Record<string, string>): TempRepo;
  /** A throw-away HOME, TMPDIR and working directory. */
  dir(): WorkSandbox;
  /** A repository (see `repo`) set up for `orch run` with the command agent; `agentEnv` goes to the fixtures. */
  orchRepo(files: Record<string, string>, agentEnv?: Record<string, string>): OrchSandbox;
  /** A scripted model server speaking `protocols` (default Anthropic's). */
  server(script: Script, protocols?: Protocols): Promise<ModelServer>;
  /** Starts `file ...args`; afterEach kills it (and fails the test) if it is still running. */
  start(file: string, args: readonly string[], options: CliOptions): RunningProcess;
  run(file: string, args: readonly string[], options: CliOptions): Promise<CliResult>;
}

export interface SandboxesOptions {
  /** Prefix of each sandbox directory's name. */
  prefix: string;
  /** How long a process may outlive its test before it counts as leaked (a detached run writing its end). */
  graceMs?: number;
}

const ORCH_TIMEOUT_MS = 30_000;

function mkdir(dir: string): string {
  mkdirSync(dir);
  return dir;
}

/**
 * Registers an afterEach (call it at the top of a file or a describe) that kills what the test started and
 * left running — anything whose command line, working directory or environment names one of its sandboxes —
 * closes its model servers, removes its sandboxes, and fails the test if anything had to be killed.
 */
export function useSandboxes(options: SandboxesOptions): Sandboxes {
  const boxes: Sandbox[] = [];
  const servers: ModelServer[] = [];
  const started: { child: RunningProcess; command: string }[] = [];

  afterEach(async () => {
    const unfinished: FoundProcess[] = [];
    for (const { child, command } of started.splice(0)) {
      if (!child.running()) continue;
      child.kill();
      unfinished.push({ pid: child.pid, cmdline: command });
    }
    const leftover = await Promise.all(boxes.map((box) => leftoverProcesses(box.root, options.graceMs ?? 0)));
    await Promise.all(servers.splice(0).map((server) => server.close()));
    for (const box of boxes.splice(0)) box.remove();
    expect([...unfinished, ...leftover.flat()], "a process outlived its test").toEqual([]);
  });

  const track = (child: RunningProcess, command: string): RunningProcess => {
    started.push({ child, command });
    return child;
  };
  const start = (file: string, args: readonly string[], cli: CliOptions): RunningProcess =>
    track(startProcess(file, args, cli), [file, ...args].join(" "));
  const repo = (files: Record<string, string>): TempRepo => {
    const made = makeTempRepo({ files, prefix: options.prefix });
    boxes.push(made);
    return made;
  };
  return {
    repo,
    dir: () => {
      const box = makeSandbox({ prefix: options.prefix });
      boxes.push(box);
      return { ...box, work: mkdir(join(box.root, "work")) };
    },
    orchRepo: (files, agentEnv = {}) => {
      const made = repo(files);
      const out = mkdir(join(made.root, "agent-out"));
      const env = { ...made.gitEnv, AGENT_OUT: out, ...agentEnv };
      const orch: OrchSandbox["orch"] = (args, over = {}) =>
        runOrch(args, { cwd: over.cwd ?? made.dir, env: over.env ?? env, timeoutMs: over.timeoutMs ?? ORCH_TIMEOUT_MS });
      return {
        repo: made,
        out,
        env,
        orch,
        start: (args, over = {}) =>
          track(startOrch(args, { cwd: made.dir, env, timeoutMs: over.timeoutMs ?? ORCH_TIMEOUT_MS }), `orch ${args.join(" ")}`),
        status: async (runId) => {
          const result = await orch(["status", runId, "--json"]);
          expect(result.code, result.stderr).toBe(0);
          return parseJsonOutput(StatusJson, result.stdout);
        },
      };
    },
    server: async (script, protocols) => {
      const server = await startModelServer({ script, protocols });
      servers.push(server);
      return server;
    },
    start,
    run: (file, args, cli) => start(file, args, cli).done,
  };
}

// ---- the failing repository ------------------------------------------------------------------------------

/** src/sum.js as the repository has it (the bug), as a first wrong fix leaves it, and fixed. */
export const SUM = {
  buggy: "function sum(a, b) {\n  return a - b;\n}\n\nmodule.exports = { sum };\n",
  stillWrong: "function sum(a, b) {\n  return a * b;\n}\n\nmodule.exports = { sum };\n",
  fixed: "function sum(a, b) {\n  return a + b;\n}\n\nmodule.exports = { sum };\n",
} as const;

/** A repository whose one node:test (`node --test`) fails until src/sum.js adds. */
export const FAILING_REPO: Record<string, string> = {
  "src/sum.js": SUM.buggy,
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

/** The line of a version of src/sum.js that tells it apart (`return a - b;`): what a tool that read it shows. */
export function sumLine(source: string): string {
  const line = /return a . b;/.exec(source)?.[0];
  if (line === undefined) throw new Error(`not a version of src/sum.js: ${source}`);
  return line;
}

/** The user's checkout after a run: same branch, same commit, nothing changed, the bug still there. */
export function expectUserCheckoutUntouched(repo: TempRepo): void {
  expect(repo.git(["symbolic-ref", "--short", "HEAD"])).toBe(repo.branch);
  expect(repo.git(["rev-parse", "HEAD"])).toBe(repo.headSha);
  expect(repo.git(["status", "--porcelain"])).toBe("");
  expect(readFileSync(join(repo.dir, "src/sum.js"), "utf8")).toBe(SUM.buggy);
}

/** The commits on `branch` that the repository's one commit does not have, newest first. */
export function commitsOn(repo: TempRepo, branch: string): string[] {
  const out = repo.git(["rev-list", `${repo.headSha}..${branch}`]);
  return out === "" ? [] : out.split("\n");
}

/** The branch of a one-task run's task, where its verified commit is (the run branch integrates it). */
export function taskBranchOf(journal: Journal): string {
  const [task, ...others] = journal.tasks;
  if (task === undefined || others.length > 0) throw new Error(`expected one task, found ${journal.tasks.length}`);
  return task.branch;
}

/** The one task worktree orch made: `<ORCH_WORKTREES_DIR>/<repo key>/<run>/<task>`. */
export function worktreeOf(repo: TempRepo): string {
  const base = repo.runWorktrees;
  const [run, ...otherRuns] = readdirSync(base);
  if (run === undefined || otherRuns.length > 0) throw new Error(`expected one run under ${base}`);
  // The run branch's own worktree (`_run`) is where merges happen, not a task's.
  const [task, ...otherTasks] = readdirSync(join(base, run)).filter((name) => name !== "_run");
  if (task === undefined || otherTasks.length > 0) throw new Error(`expected one task under ${join(base, run)}`);
  return join(base, run, task);
}

/**
 * A tool input whose `key` is the absolute path of `relative` in the task's worktree, read when the server
 * serializes the reply: the worktree's path holds the run id, unknown when the script is written.
 */
export function inWorktree(repo: TempRepo, key: string, relative: string, rest: Record<string, unknown> = {}): Record<string, unknown> {
  const input: Record<string, unknown> = {};
  Object.defineProperty(input, key, { enumerable: true, get: () => join(worktreeOf(repo), relative) });
  return Object.assign(input, rest);
}

// ---- the journal, read back from .orch/orch.db -------------------------------------------------------------

const jsonColumn = <T extends z.ZodType>(schema: T) =>
  z.string().transform((text, ctx): z.output<T> => {
    const parsed = schema.safeParse(JSON.parse(text));
    if (parsed.success) return parsed.data;
    ctx.addIssue({ code: "custom", message: parsed.error.message });
    return z.NEVER;
  });
const nullableJson = <T extends z.ZodType>(schema: T) => z.union([z.null(), jsonColumn(schema)]);

const FailureJson = z.object({ kind: z.string(), detail: z.string(), httpStatus: z.number().optional(), resetAt: z.number().optional() });
const UsageJson = z.object({ inputTokens: z.number(), outputTokens: z.number(), cacheReadTokens: z.number().optional() });

const RunRow = z.object({
  id: z.string(),
  status: z.string(),
  reason: z.string().nullable(),
  attempts: z.number(),
  cost_usd: z.number(),
  tokens_in: z.number(),
  tokens_out: z.number(),
  report: z.string().nullable(),
});
const TaskRow = z.object({ id: z.string(), role: z.string(), goal: z.string(), status: z.string(), reason: z.string().nullable(), branch: z.string(), worktree: z.string(), commit_sha: z.string().nullable() });
const AttemptRow = z.object({
  id: z.string(),
  number: z.number(),
  agent: z.string(),
  status: z.string(),
  model: z.string().nullable(),
  pid: z.number().nullable(),
  session_id: z.string().nullable(),
  transcript: z.string(),
  exit_reason: z.string().nullable(),
  failure: nullableJson(FailureJson),
  usage: nullableJson(UsageJson),
  cost_usd: z.number().nullable(),
  commit_sha: z.string().nullable(),
});
const EventRow = z.object({ seq: z.number(), type: z.string(), task_id: z.string().nullable(), attempt_id: z.string().nullable(), data: jsonColumn(z.unknown()) });

export type AttemptRow = z.infer<typeof AttemptRow>;

export interface Journal {
  run: z.infer<typeof RunRow>;
  tasks: z.infer<typeof TaskRow>[];
  attempts: AttemptRow[];
  events: z.infer<typeof EventRow>[];
}

/** One run's rows, each parsed: the run, its tasks, its attempts by number, its events by seq. */
export function readJournal(repo: TempRepo, runId: string): Journal {
  const db = new Database(join(repo.dir, ".orch", "orch.db"), { readonly: true, fileMustExist: true });
  try {
    return {
      run: RunRow.parse(db.prepare("SELECT * FROM runs WHERE id = ?").get(runId)),
      tasks: z.array(TaskRow).parse(db.prepare("SELECT * FROM tasks WHERE run_id = ?").all(runId)),
      attempts: z.array(AttemptRow).parse(db.prepare("SELECT * FROM attempts WHERE run_id = ? ORDER BY number").all(runId)),
      events: z.array(EventRow).parse(db.prepare("SELECT seq, type, task_id, attempt_id, data FROM events WHERE run_id = ? ORDER BY seq").all(runId)),
    };
  } finally {
    db.close();
  }
}

export const AttemptStartedData = z.object({ number: z.number(), agent: z.string(), resumedSession: z.string().optional() });
export const TaskWaitedData = z.object({ delayMs: z.number(), until: z.number(), reason: z.string() });

/** The data of every `type` event, through `schema`. */
export function eventData<T extends z.ZodType>(journal: Journal, type: string, schema: T): z.output<T>[] {
  return journal.events.filter((e) => e.type === type).map((e) => schema.parse(e.data));
}

/** The normalized agent events orch journaled for one attempt, in order. */
export function agentEvents(journal: Journal, attemptId: string): AgentEvent[] {
  // A row may hold several lines of agent output (src/store/packed-output.ts): one event each.
  return journal.events.filter((e) => e.type === "agent.emitted" && e.attempt_id === attemptId).flatMap((e) => unpackOutput(e.type, e.data) ?? [AgentEvent.parse(e.data)]);
}

/** The events of one type, narrowed. */
export function ofType<T extends AgentEvent["type"]>(events: readonly AgentEvent[], type: T): Extract<AgentEvent, { type: T }>[] {
  return events.filter((event): event is Extract<AgentEvent, { type: T }> => event.type === type);
}

/** The model requests answered by script turns `from`..`to` (inclusive), in arrival order. */
export function requestsFor(server: ModelServer, from: number, to: number): RecordedRequest[] {
  return server.modelRequests().filter((r) => r.turn !== undefined && r.turn >= from && r.turn <= to);
}

// ---- an agent CLI started the way orch starts it --------------------------------------------------------------

export interface AdapterRun extends CliResult {
  /** Its stdout through the adapter's parser. */
  events: AgentEvent[];
  /** The adapter's verdict on this exit. */
  failure: Failure | undefined;
  /** Stopped by the test because `until` held (the CLI would have gone on). */
  stopped: boolean;
}

export interface AdapterRunOptions {
  timeoutMs: number;
  /** Stops the CLI early once the normalized events so far satisfy it. */
  until?: (events: AgentEvent[]) => boolean;
  /** Changes the command the adapter built before it runs. */
  command?: (built: AgentCommand) => AgentCommand;
}

/** One CLI process with the command, environment and stdin `adapter` builds for `invocation`, read back through it. */
export async function runAdapter(sandboxes: Sandboxes, adapter: AgentAdapter, invocation: AgentInvocation, options: AdapterRunOptions): Promise<AdapterRun> {
  const built = adapter.build(invocation);
  const command = options.command?.(built) ?? built;
  const parser = adapter.createParser(invocation);
  const events: AgentEvent[] = [];
  let partial = "";
  let stopped = false;
  // What the adapter had said when the test stopped it: output that races in after the kill (OpenCode may
  // finish a compaction step first) must not change the verdict, just as orch classifies a looping agent
  // from the failure it kept reporting.
  let atStop: AgentEvent[] = [];
  const cli: RunningProcess = sandboxes.start(command.file, command.args, {
    cwd: invocation.cwd,
    env: command.env,
    timeoutMs: options.timeoutMs,
    ...(command.stdin === undefined ? {} : { stdin: command.stdin }),
    onStdout: (chunk) => {
      const lines = (partial + chunk).split("\n");
      partial = lines.pop() ?? "";
      // Judged line by line, as orch judges events: one chunk may carry the failure that ends the wait and
      // the step OpenCode printed after it (a compaction), which must not count.
      for (const line of lines) {
        events.push(...parser.parseLine(line));
        if (options.until !== undefined && !stopped && options.until(events)) {
          stopped = true;
          atStop = [...events];
          cli.kill();
        }
      }
    },
  });
  const result = await cli.done;
  events.push(...parser.parseLine(partial));
  const judged = stopped ? atStop : events;
  const exit: AgentExit = {
    exitCode: stopped ? null : result.code,
    signal: stopped ? null : result.signal,
    stderrTail: result.stderr.slice(-8_000),
    result: ofType(judged, "result").at(-1),
    retries: ofType(judged, "retry"),
    endedAt: Date.now(),
  };
  return { ...result, events, failure: adapter.classify(exit), stopped };
}

/**
 * A repository of `files` where `command` agents work (their records in `out`) beside the real Claude Code CLI,
 * which the scripted model server answers with `script`: the environment for orch, and all three.
 */
export async function withClaude(boxes: Sandboxes, files: Record<string, string>, script: Script, extra: Record<string, string> = {}) {
  const repo = boxes.repo(files);
  const server = await boxes.server(script);
  const out = join(repo.root, "agent-out");
  mkdirSync(out);
  const env = {
    ...claudeEnv({ url: server.url, home: repo.home, tmp: repo.tmp, path: PATH_WITH_BIN, maxRetries: 0, timeoutMs: 600_000 }),
    AGENT_OUT: out,
    GIT_CONFIG_NOSYSTEM: "1",
    GIT_CEILING_DIRECTORIES: repo.root,
    ORCH_WORKTREES_DIR: repo.worktrees,
    ...extra,
  };
  return { repo, server, out, env };
}
