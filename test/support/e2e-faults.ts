// The every-fault matrix: the scripted server plays one fault (or a run of it) before the turns that fix the
// failing repository, and `orch run` drives a real CLI through it with orch's own retry bounds. Each CLI's test
// file states what that CLI and orch make of each fault — every attempt's classification, its model calls and
// what orch did next — and one runner checks that row whole, then what must hold after any fault.
import { join } from "node:path";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import type { FailureKind } from "../../src/core/failure.js";
import { processesMentioning } from "./cli.js";
import {
  commitsOn,
  taskBranchOf,
  eventData,
  expectUserCheckoutUntouched,
  FAILING_REPO,
  SUM,
  TaskWaitedData,
  useSandboxes,
  type Journal,
  type Sandboxes,
} from "./e2e.js";
import { FIXED_ANSWER, orchRun, type OrchRun, type RealCli } from "./e2e-scenarios.js";
import type { FaultTurn, RecordedRequest, Turn } from "./model-server/server.js";

/** What orch did after a failed attempt: waited before the next one, switched to the next model at once, or neither. */
export type Action = "wait" | "fallback" | "none";

/** One attempt of a run, as the matrix states it. */
export type AttemptRow =
  /** `failed`: the kind orch classified the failure as; `status`: the HTTP status, where the CLI reported one. */
  | { failed: FailureKind; status?: number; calls: number; then: Action }
  | { succeeded: true; calls: number };

export interface FaultCase {
  /** The test's title: the fault. */
  title: string;
  /** Played before the fixing turns; each `repeat` is exactly what the CLI and orch consume, no more, no less. */
  faults: readonly FaultTurn[];
  /** Every attempt of the run in order, the last one succeeding; `calls`: the model requests it made, the CLI's
   * own retries and the fix's turns included. */
  attempts: readonly AttemptRow[];
  /** The bounds of every wait, in ms; orch's first backoff (1–2 s) unless the CLI reported when to retry. */
  waitMs?: readonly [number, number];
  /** `--model from --fallback-model to`: the faults answer only `from`, the fixing turns only `to`. */
  fallback?: { from: string; to: string };
  /** Why the CLI may spend more than one extra call on one rate-limit signal (orch cannot bound its retries). */
  unboundedRetries?: string;
  /** More `orch run` arguments (a short stall timeout, say). */
  args?: readonly string[];
  check?: (run: FaultRun) => void | Promise<void>;
}

export interface FaultMatrix {
  /** The CLI as the matrix runs it: with orch's own retry bounds, not the zeroed ones of the other scenarios. */
  cli: RealCli;
  /** The model a request names for a model orch was given (OpenCode leaves the provider out). */
  requestedModel?: (model: string) => string;
  cases: readonly FaultCase[];
}

export interface FaultRun extends OrchRun {
  /** The model requests made during each attempt, in order. */
  requestsByAttempt: RecordedRequest[][];
}

/** orch's first backoff: 2 s with equal jitter (DEFAULT_BACKOFF). */
const FIRST_BACKOFF_MS = [1_000, 2_000] as const;

/** One describe block: a test per case, each in a fresh repository against a fresh server. */
export function describeFaultMatrix(matrix: FaultMatrix): void {
  const { cli } = matrix;
  describe(`fault matrix: orch run × the real ${cli.name}, with orch's retry bounds`, () => {
    const sandboxes = useSandboxes({ prefix: `orch-faults-${cli.agent}-` });
    for (const c of matrix.cases) {
      it(c.title, { timeout: cli.orchTimeoutMs + 30_000 }, async () => {
        const run = await runCase(cli, sandboxes, c, matrix.requestedModel ?? ((model) => model));
        await c.check?.(run);
      });
    }
  });
}

async function runCase(cli: RealCli, sandboxes: Sandboxes, c: FaultCase, requestedModel: (model: string) => string): Promise<FaultRun> {
  // A rate limit must cost at most one extra call wherever orch bounds the CLI's retries; a case claiming more
  // must say why.
  for (const a of c.attempts) {
    if ("failed" in a && a.failed === "rate_limited" && c.unboundedRetries === undefined) expect(a.calls, c.title).toBeLessThanOrEqual(2);
  }
  const repo = sandboxes.repo(FAILING_REPO);
  const forModel = (model: string | undefined) => <T extends Turn>(turn: T): T => (model === undefined ? turn : { ...turn, model: requestedModel(model) });
  const fix = [...cli.fix({ repo, before: SUM.buggy, after: SUM.fixed, match: "# Goal" }), { match: cli.fixedMatch, text: FIXED_ANSWER }];
  const script = [...c.faults.map(forModel(c.fallback?.from)), ...fix.map(forModel(c.fallback?.to))];
  const modelArgs = c.fallback === undefined ? [] : ["--model", c.fallback.from, "--fallback-model", c.fallback.to];
  // One attempt more than the case expects: an extra attempt shows as one, not as a run out of attempts.
  const run = await orchRun(cli, sandboxes, script, ["--max-attempts", String(c.attempts.length + 1), ...modelArgs, ...(c.args ?? [])], repo);
  const { result, out, server, journal } = run;
  const starts = attemptStarts(repo.dir, out.runId);
  const requestsByAttempt = starts.map((start, i) => server.modelRequests().filter((r) => r.time >= start && r.time < (starts[i + 1] ?? Infinity)));

  // The row: each attempt's classification, its calls, and orch's action after it.
  expect(observedRow(journal, requestsByAttempt), result.stderr).toEqual(c.attempts.map(expectedRow));
  // The script was played exactly: no call more, none missing, none for another model or answering other text.
  expect(server.problems()).toEqual([]);
  expect(server.remaining()).toEqual([]);
  expect(server.modelRequests()).toHaveLength(c.attempts.reduce((sum, a) => sum + a.calls, 0));
  expectWaits(c, journal, starts);
  if (c.fallback !== undefined) expectFallback(c.fallback, c.attempts.length, journal, requestsByAttempt, requestedModel);
  await expectFinished(run, c.attempts.length);
  return { ...run, requestsByAttempt };
}

/** Each wait names the failure before it, lasts as long as the case says, and was kept by the next attempt. */
function expectWaits(c: FaultCase, journal: Journal, starts: readonly number[]): void {
  const waits = eventData(journal, "task.waited", TaskWaitedData);
  const waited = c.attempts.flatMap((a, i) => ("failed" in a && a.then === "wait" ? [{ kind: a.failed, next: i + 1 }] : []));
  expect(waits.map((w) => w.reason.split(":")[0])).toEqual(waited.map((w) => w.kind));
  const [least, most] = c.waitMs ?? FIRST_BACKOFF_MS;
  waits.forEach((wait, i) => {
    expect(wait.delayMs).toBeGreaterThanOrEqual(least);
    expect(wait.delayMs).toBeLessThanOrEqual(most);
    expect(starts[waited[i]?.next ?? -1]).toBeGreaterThanOrEqual(wait.until);
  });
}

/** One switch, said in the journal with the failure that opened the circuit; every later request for the other model. */
function expectFallback(
  fallback: { from: string; to: string },
  attempts: number,
  journal: Journal,
  requestsByAttempt: readonly RecordedRequest[][],
  requestedModel: (model: string) => string,
): void {
  const { from, to } = fallback;
  const last = journal.attempts.at(-2)?.failure;
  expect(notes(journal)).toEqual([`switching to model ${to} from ${from}: its circuit is open after ${last?.kind ?? "?"}: ${last?.detail ?? "?"}`]);
  const models = [...Array<string>(attempts - 1).fill(from), to];
  expect(journal.attempts.map((a) => a.model)).toEqual(models);
  expect(requestsByAttempt.map((requests) => [...new Set(requests.map((r) => r.model))])).toEqual(models.map((model) => [requestedModel(model)]));
}

/** Succeeded with one commit holding the fix, the user's checkout as it was, nothing running, nothing lost. */
async function expectFinished({ repo, result, out, journal }: OrchRun, attempts: number): Promise<void> {
  expect(result.code, result.stderr).toBe(0);
  expect(out).toMatchObject({ status: "succeeded", attempts });
  expect(journal.run).toMatchObject({ status: "succeeded", attempts });
  const taskBranch = taskBranchOf(journal);
  const commits = commitsOn(repo, taskBranch);
  expect(commits).toHaveLength(1);
  expect(repo.git(["show", `${out.branch}:src/sum.js`])).toBe(SUM.fixed.trimEnd());
  expect(repo.git(["log", "-1", "--format=%B", taskBranch])).toContain(`attempt ${attempts}.`);
  expect(journal.tasks).toEqual([expect.objectContaining({ status: "succeeded", commit_sha: commits[0] })]);
  expectUserCheckoutUntouched(repo);
  expect(await processesMentioning(repo.root)).toEqual([]);
  // Every attempt was closed in the journal, then the run; only its delivery (no remote here: not pushed) comes after.
  expect(journal.events.filter((e) => e.type === "attempt.finished").map((e) => e.attempt_id)).toEqual(journal.attempts.map((a) => a.id));
  expect(journal.events.filter((e) => e.type !== "run.delivered").at(-1)?.type).toBe("run.finished");
  expect(journal.events.filter((e) => e.type === "run.delivered").map((e) => e.type)).toEqual(["run.delivered"]);
}

/** A row as compared: a failure without a status has no `status` key at all. */
type RowCell = { failed: string; status?: number; calls: number; then: Action } | { succeeded: true; calls: number };

function expectedRow(row: AttemptRow): RowCell {
  if ("succeeded" in row) return row;
  const { failed, status, calls, then } = row;
  return { failed, ...(status === undefined ? {} : { status }), calls, then };
}

/** The row the run left: each attempt's outcome and calls, and the action the journal shows after it. */
function observedRow(journal: Journal, requestsByAttempt: readonly RecordedRequest[][]): RowCell[] {
  const actions = new Map<string, Action>();
  let current: string | undefined;
  for (const event of journal.events) {
    if (event.type === "attempt.started") current = event.attempt_id ?? undefined;
    if (current === undefined) continue;
    if (event.type === "task.waited") actions.set(current, "wait");
    if (event.type === "run.noted" && NoteData.parse(event.data).message.startsWith("switching to model")) actions.set(current, "fallback");
  }
  return journal.attempts.map((attempt, i): RowCell => {
    const calls = requestsByAttempt[i]?.length ?? 0;
    if (attempt.failure === null) {
      return attempt.status === "succeeded" ? { succeeded: true, calls } : { failed: `(${attempt.status}, no failure)`, calls, then: "none" };
    }
    const { kind, httpStatus } = attempt.failure;
    return { failed: kind, ...(httpStatus === undefined ? {} : { status: httpStatus }), calls, then: actions.get(attempt.id) ?? "none" };
  });
}

const NoteData = z.object({ message: z.string() });

function notes(journal: Journal): string[] {
  return eventData(journal, "run.noted", NoteData).map((n) => n.message);
}

/** When each attempt started (epoch ms), by number: the attempts table has it, the shared journal reader not. */
function attemptStarts(repoDir: string, runId: string): number[] {
  const db = new Database(join(repoDir, ".orch", "orch.db"), { readonly: true, fileMustExist: true });
  try {
    const rows = db.prepare("SELECT started_at FROM attempts WHERE run_id = ? ORDER BY number").all(runId);
    return z.array(z.object({ started_at: z.number() })).parse(rows).map((r) => r.started_at);
  } finally {
    db.close();
  }
}

/** Milliseconds between consecutive requests. */
export function gapsMs(requests: readonly RecordedRequest[]): number[] {
  return requests.slice(1).map((r, i) => r.time - (requests[i]?.time ?? r.time));
}
