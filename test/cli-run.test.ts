// End to end through the built CLI: `orch run` with the `command` agent (tiny shell scripts in
// test/fixtures/agents) and the scripted agent, on real throw-away repositories, then every read-only
// command on what the runs left behind. Each test has its own sandbox; afterEach fails it if a process
// it started is still running.
import { chmodSync, existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { delimiter, join } from "node:path";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { isRunning, ListJson, parseEventLines, parseJsonOutput, parseRunResult, StatusJson, type EventJson } from "./support/cli.js";
import { AGENTS, fixtureAgent as agent, useSandboxes, type OrchSandbox } from "./support/e2e.js";

const GOAL = "make the failing test pass";
const TASK = "make-the-failing-test-pass";
const VERIFY = "node test.mjs";
const BUGGY = "export function sum(a, b) {\n  return a - b;\n}\n";
const FILES = {
  "sum.mjs": BUGGY,
  "test.mjs": [
    'import { sum } from "./sum.mjs";',
    "const got = sum(2, 3);",
    "if (got !== 5) {",
    "  console.log(`not ok - sum(2, 3) returned ${got}, expected 5`);",
    "  process.exit(1);",
    "}",
    'console.log("ok - sum(2, 3) is 5");',
    "",
  ].join("\n"),
};

// ---- sandboxes -------------------------------------------------------------------------------------------

const sandboxes = useSandboxes({ prefix: "orch-cli-run-", graceMs: 3_000 });
const sandbox = (agentEnv: Record<string, string> = {}): OrchSandbox => sandboxes.orchRepo(FILES, agentEnv);

/** `orch run GOAL --verify VERIFY ...args --json`, with the exit code checked and the result parsed. */
async function orchRun(box: OrchSandbox, args: readonly string[], expectedCode: number) {
  const result = await box.orch(["run", GOAL, "--verify", VERIFY, ...args, "--json"]);
  expect(result.code, `exit code; stderr:\n${result.stderr}`).toBe(expectedCode);
  return { result, json: parseRunResult(result) };
}

async function journal(box: OrchSandbox, ref: string): Promise<EventJson[]> {
  const result = await box.orch(["logs", ref, "--json"]);
  expect(result.code, result.stderr).toBe(0);
  return parseEventLines(result.stdout);
}

const Failure = z.object({ kind: z.string(), detail: z.string() });
const ExitedData = z.object({ exitCode: z.number().nullable(), reason: z.string(), failure: Failure.optional() });
const WaitedData = z.object({ delayMs: z.number(), reason: z.string() });
const CreatedData = z.object({ criteria: z.array(z.string()) });
const NotedData = z.object({ message: z.string() });
const StartedData = z.object({ number: z.number(), resumedSession: z.string().optional() });

/** The failure kind of each attempt's `attempt.exited` event, by attempt id. */
function exitFailures(events: readonly EventJson[]): Map<string, string | undefined> {
  const kinds = new Map<string, string | undefined>();
  for (const event of events) {
    if (event.type !== "attempt.exited" || event.attemptId === undefined) continue;
    kinds.set(event.attemptId, ExitedData.parse(event.data).failure?.kind);
  }
  return kinds;
}

const read = (path: string): string => readFileSync(path, "utf8");
const agentPid = (box: OrchSandbox, attempt: number): number => Number(read(join(box.out, `pid.${attempt}`)).trim());

// ---- orch run --------------------------------------------------------------------------------------------

describe("orch run with the command agent", () => {
  it("converges on attempt 2: commit on the task branch, integrated into the run branch, prompt on stdin and in ORCH_PROMPT, handoff, user's tree untouched", async () => {
    const box = sandbox();
    const { repo } = box;
    const before = {
      head: repo.git(["rev-parse", "HEAD"]),
      branch: repo.git(["symbolic-ref", "--short", "HEAD"]),
      status: repo.git(["status", "--porcelain", "--untracked-files=all"]),
    };

    const { json } = await orchRun(box, ["--agent-command", agent("fix-on-attempt.sh")], 0);
    expect(json).toMatchObject({ status: "succeeded", attempts: 2, branch: `orch/${json.runId}/_run` });
    expect(json.runId).toMatch(/^\d{6}-\d{4}-[0-9a-z]{4}$/);
    expect(json.report).toBe(join(repo.dir, ".orch", "reports", `${json.runId}.md`));
    expect(existsSync(json.report ?? "")).toBe(true);

    // What the agent was given, attempt by attempt.
    const worktree = join(repo.runWorktrees, json.runId, TASK);
    for (const n of [1, 2]) {
      const stdin = read(join(box.out, `stdin.${n}`));
      expect(stdin).toContain(GOAL);
      expect(stdin).toContain(`\`${VERIFY}\``);
      expect(read(join(box.out, `prompt-env.${n}`))).toBe(stdin);
      expect(read(join(box.out, `ids.${n}`))).toBe(`run=${json.runId}\ntask=${TASK}\nattempt=${n}\ncwd=${worktree}\n`);
    }
    expect(read(join(box.out, "stdin.1"))).not.toContain("Earlier attempts");
    const handoff = read(join(box.out, "stdin.2"));
    expect(handoff).toContain("Earlier attempts on this task: 1");
    expect(handoff).toContain("### Attempt 1 (command)");
    // Attempt 1's failing verify output and its last words.
    expect(handoff).toContain("not ok - sum(2, 3) returned -1, expected 5");
    expect(handoff).toContain("attempt 1: not sure yet; changed nothing");

    // The verified commit: on the task branch, on top of the base, naming run, task and attempt; the run branch
    // integrates it with a merge of that very tree (not verified again: the run's criteria ran once per attempt).
    const taskBranch = `orch/${json.runId}/${TASK}`;
    expect(repo.git(["rev-parse", `${taskBranch}^`])).toBe(before.head);
    expect(repo.git(["log", "-1", "--format=%B", taskBranch])).toContain(`Run ${json.runId}, task ${TASK}, attempt 2.`);
    expect(repo.git(["rev-parse", `${json.branch}^1`, `${json.branch}^2`]).split("\n")).toEqual([before.head, repo.git(["rev-parse", taskBranch])]);
    expect(repo.git(["rev-parse", `${json.branch}^{tree}`])).toBe(repo.git(["rev-parse", `${taskBranch}^{tree}`]));
    expect(repo.git(["show", `${json.branch}:sum.mjs`])).toContain("return a + b;");

    // .orch/ is excluded, and the user's branch, index and files are as they were.
    expect(read(join(repo.dir, ".git", "info", "exclude")).split("\n")).toContain(".orch/");
    expect({
      head: repo.git(["rev-parse", "HEAD"]),
      branch: repo.git(["symbolic-ref", "--short", "HEAD"]),
      status: repo.git(["status", "--porcelain", "--untracked-files=all"]),
    }).toEqual(before);
    expect(read(join(repo.dir, "sum.mjs"))).toBe(BUGGY);
  });

  it("integrates a one-task run without verifying the same tree again, unless integration.verifyEveryMerge asks", async () => {
    const box = sandbox();
    // The criterion logs where it ran: the task's worktree, or the run branch's (…/_run).
    const verify = `echo "$PWD" >> ${JSON.stringify(join(box.out, "verified"))}; test -f done.txt`;
    const run = async () => {
      const result = await box.orch(["run", "write done.txt", "--verify", verify, "--agent-command", "echo ok > done.txt", "--json"]);
      expect(result.code, result.stderr).toBe(0);
      return read(join(box.out, "verified")).trim().split("\n");
    };
    const once = await run();
    expect(once).toHaveLength(1);
    expect(once[0]).not.toMatch(/\/_run$/);
    writeFileSync(join(box.repo.dir, "orch.config.yaml"), "integration:\n  verifyEveryMerge: true\n");
    const twice = (await run()).slice(1);
    expect(twice).toHaveLength(2);
    expect(twice[1]).toMatch(/\/_run$/);
  });

  it("notes once that the user's uncommitted changes are not part of the run, and only when there are some", async () => {
    const box = sandbox();
    const run = () => box.orch(["run", "write done.txt", "--verify", "test -f done.txt", "--agent-command", "echo ok > done.txt"]);
    const clean = await run();
    expect(clean.code, clean.stderr).toBe(0);
    expect(clean.stderr).not.toMatch(/uncommitted changes/);
    writeFileSync(join(box.repo.dir, "sum.mjs"), "// being edited\n" + BUGGY);
    const dirty = await run();
    expect(dirty.code, dirty.stderr).toBe(0);
    expect(dirty.stderr.match(/orch: note: your uncommitted changes are not part of this run; it starts from main at [0-9a-f]{12}/g)).toHaveLength(1);
    // A request refused on its checks says nothing of them, and leaves the edit alone.
    const refused = await box.orch(["run", "write done.txt", "--agent-command", "true"]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).not.toMatch(/uncommitted changes/);
    expect(read(join(box.repo.dir, "sum.mjs"))).toBe("// being edited\n" + BUGGY);
  });

  it("--max-attempts 2 with an agent that never fixes it: exit 1, failed on the limit, a report of both attempts", async () => {
    const box = sandbox({ FIX_ON_ATTEMPT: "99" });
    const { json } = await orchRun(box, ["--agent-command", agent("fix-on-attempt.sh"), "--max-attempts", "2"], 1);
    expect(json).toMatchObject({ status: "failed", attempts: 2 });
    expect(json.reason).toMatch(/limit of 2 attempts/);
    const report = read(json.report ?? "");
    expect(report).toContain("**Outcome:** failed — reached the limit of 2 attempts");
    expect(report).toContain("### Attempt 1");
    expect(report).toContain("### Attempt 2");
    expect(report).not.toContain("### Attempt 3");
    expect(report).toMatch(/- \[ \] `node test\.mjs` — failed \(exit 1\)/);
    expect(report).toContain("(nothing integrated)");
  });

  it("--max-hours takes hours (1.5) or a duration like every other (2h, 90m)", async () => {
    const box = sandbox();
    const LimitsData = z.object({ limits: z.object({ maxMs: z.number() }) });
    for (const [value, ms] of [["2h", 7_200_000], ["90m", 5_400_000], ["1.5", 5_400_000]] as const) {
      const { json } = await orchRun(box, ["--agent-command", "true", "--max-attempts", "1", "--max-hours", value], 1);
      const created = (await journal(box, json.runId)).find((e) => e.type === "run.created");
      expect(LimitsData.parse(created?.data).limits.maxMs).toBe(ms);
    }
  });

  it("stall: an agent that changes nothing stops the run as stalled after --stall-attempts", async () => {
    const box = sandbox({ FIX_ON_ATTEMPT: "99" });
    const { json } = await orchRun(
      box,
      ["--agent-command", agent("fix-on-attempt.sh"), "--stall-attempts", "2", "--max-attempts", "5"],
      1,
    );
    expect(json).toMatchObject({ status: "stalled", attempts: 2 });
    expect(json.reason).toMatch(/progress has not risen for 2 attempts/);
  });

  it("a hung agent (no output) is stopped after --stall-timeout as `hung`, and its process is gone", async () => {
    const box = sandbox();
    const { json, result } = await orchRun(
      box,
      ["--agent-command", agent("hang.sh"), "--stall-timeout", "1s", "--max-attempts", "1"],
      1,
    );
    expect(json).toMatchObject({ status: "failed", attempts: 1 });
    expect(result.ms).toBeLessThan(15_000);
    expect(isRunning(agentPid(box, 1))).toBe(false);

    const view = await box.status(json.runId);
    expect(view.lastResult).toMatch(/^attempt 1 failed \(hung: no output for 1s/);
    expect(read(json.report ?? "")).toContain("- Failure: **hung**");
    expect([...exitFailures(await journal(box, json.runId)).values()]).toEqual(["hung"]);
  });

  it("--attempt-timeout stops an agent that prints forever, as `timeout`", async () => {
    const box = sandbox();
    const { json } = await orchRun(box, ["--agent-command", agent("chatty.sh"), "--attempt-timeout", "1s", "--max-attempts", "1"], 1);
    expect(json).toMatchObject({ status: "failed", attempts: 1 });
    expect(isRunning(agentPid(box, 1))).toBe(false);
    const events = await journal(box, json.runId);
    expect([...exitFailures(events).values()]).toEqual(["timeout"]);
    expect((await box.status(json.runId)).lastResult).toMatch(/timeout: the attempt ran past its 1s limit/);
    // What it printed before it was stopped is in the transcript.
    const logs = await box.orch(["logs", json.runId]);
    expect(logs.stdout).toContain("» thinking, step 1");
  });

  it("429 on attempt 1 is `rate_limited`, orch backs off (1–2 s on the first retry) and attempt 2 converges", async () => {
    const box = sandbox();
    const { json } = await orchRun(box, ["--agent-command", agent("rate-limited-once.sh")], 0);
    expect(json).toMatchObject({ status: "succeeded", attempts: 2 });
    const events = await journal(box, json.runId);
    expect(exitFailures(events)).toEqual(
      new Map([
        [`${json.runId}.${TASK}.1`, "rate_limited"],
        [`${json.runId}.${TASK}.2`, undefined],
      ]),
    );
    // Exactly one wait, of the first backoff step (2 s with equal jitter: 1–2 s), before attempt 2 starts.
    const waits = events.filter((e) => e.type === "task.waited");
    expect(waits).toHaveLength(1);
    const waited = waits[0];
    if (waited === undefined) throw new Error("no task.waited event");
    const { delayMs, reason } = WaitedData.parse(waited.data);
    expect(delayMs).toBeGreaterThanOrEqual(1_000);
    expect(delayMs).toBeLessThanOrEqual(2_000);
    expect(reason).toMatch(/^rate_limited: API Error: 429 Too Many Requests/);
    const second = events.find((e) => e.type === "attempt.started" && e.attemptId === `${json.runId}.${TASK}.2`);
    expect(second?.at ?? 0).toBeGreaterThanOrEqual(waited.at + delayMs - 20);
    // The figures say so: one rate limit, recovered without a human, the wait counted.
    const { figures } = await box.status(json.runId);
    expect(figures).toEqual({ failuresByKind: { rate_limited: 1 }, interrupted: 0, recovered: 1, escalated: 0, recoveryRate: 1, waitedMs: delayMs, retryCalls: 1 });
    expect(read(json.report ?? "")).toContain("Agent failures recovered without a human: 1 of 1 (100%).");
  });

  it("an agent that reports the same failure three times in one attempt is stopped and classified from it", async () => {
    const box = sandbox();
    const { json, result } = await orchRun(
      box,
      ["--script", join(AGENTS, "looping-script.yaml"), "--attempt-timeout", "60s", "--stall-timeout", "60s", "--max-attempts", "1"],
      1,
    );
    expect(json).toMatchObject({ status: "failed", attempts: 1 });
    // Stopped on the third report, long before either timer.
    expect(result.ms).toBeLessThan(30_000);
    const events = await journal(box, json.runId);
    expect([...exitFailures(events).values()]).toEqual(["context_exceeded"]);
    const exited = events.find((e) => e.type === "attempt.exited");
    expect(ExitedData.parse(exited?.data)).toMatchObject({ reason: "repeated_failure" });
    expect((await box.status(json.runId)).lastResult).toMatch(/context_exceeded: .*reported 3 times in one attempt; the agent was stopped/);
  });

  it("after a hang the next attempt resumes the agent's session, so finished turns are not paid for twice", async () => {
    const box = sandbox();
    const { json } = await orchRun(box, ["--script", join(AGENTS, "hang-then-fix-script.yaml"), "--stall-timeout", "3s"], 0);
    expect(json).toMatchObject({ status: "succeeded", attempts: 2 });
    const events = await journal(box, json.runId);
    expect([...exitFailures(events).values()]).toEqual(["hung", undefined]);
    const started = events.filter((e) => e.type === "attempt.started").map((e) => StartedData.parse(e.data));
    expect(started.map((s) => s.resumedSession)).toEqual([undefined, `scripted-${json.runId}-${TASK}-1`]);
  });

  it("an agent killed by SIGKILL mid-attempt is `crashed`, and the next attempt converges", async () => {
    const box = sandbox();
    const { json } = await orchRun(box, ["--agent-command", agent("killed-once.sh")], 0);
    expect(json).toMatchObject({ status: "succeeded", attempts: 2 });
    const events = await journal(box, json.runId);
    expect([...exitFailures(events).values()]).toEqual(["crashed", undefined]);
    expect((await box.status(json.runId)).figures).toMatchObject({ failuresByKind: { crashed: 1 }, recovered: 1, escalated: 0 });
  });

  it("a verify command that hangs is stopped at its own timeout, counted as not met, said live and in the report, and leaves nothing running", async () => {
    const box = sandbox();
    const { json, result } = await orchRun(
      box,
      ["--agent-command", agent("fix-on-attempt.sh"), "--verify", "sleep 60", "--verify-timeout", "2s", "--max-attempts", "1"],
      1,
    );
    expect(json).toMatchObject({ status: "failed", attempts: 1 });
    expect(result.ms).toBeLessThan(20_000);
    expect(result.stderr).toContain("attempt 1: criteria 0/2 passed · progress 0% (timed out: `sleep 60`)");
    const view = await box.status(json.runId);
    expect(view.lastResult).toMatch(/verify_failed: .*`sleep 60` failed/);
    expect(read(json.report ?? "")).toContain("- `sleep 60`: timed out");
  });

  it("while a verify command runs, status says the attempt is verifying and what its verdict leads to", async () => {
    const box = sandbox();
    const started = await box.orch(["run", GOAL, "--verify", "sleep 30", "--verify-timeout", "20s", "--agent-command", agent("fix-on-attempt.sh"), "--max-attempts", "1", "--detach"]);
    expect(started.code, started.stderr).toBe(0);
    const runId = /^Run (\S+) is running in the background/m.exec(started.stdout)?.[1] ?? "";
    let view = await box.status(runId);
    for (let i = 0; i < 200 && !/verifying/.test(view.now ?? ""); i++) view = await box.status(runId);
    expect(view.now).toBe("attempt 1: verifying");
    expect(view.next).toBe("the verdict on attempt 1: a commit if every criterion passes, else attempt 2");
    expect((await box.orch(["abort", runId])).code).toBe(0);
    for (let i = 0; i < 200 && view.status === "running"; i++) view = await box.status(runId);
    expect(view.status).toBe("aborted");
  });

  it("--budget-usd ends the run as failed on the budget before the attempt limit (scripted agent reporting cost)", async () => {
    const box = sandbox();
    const { json } = await orchRun(
      box,
      ["--script", join(AGENTS, "costly-script.yaml"), "--budget-usd", "1", "--max-attempts", "5"],
      1,
    );
    expect(json.status).toBe("failed");
    expect(json.attempts).toBe(2);
    expect(json.reason).toMatch(/budget/);
    expect(read(json.report ?? "")).toContain("| Cost | $1.20 of a $1.00 budget |");
  });

  it("--task-budget-tokens ends the task on its own token budget and says it was the task's", async () => {
    const box = sandbox();
    const { json } = await orchRun(
      box,
      ["--script", join(AGENTS, "costly-script.yaml"), "--task-budget-tokens", "60000", "--max-attempts", "5"],
      1,
    );
    expect(json.status).toBe("failed");
    // 54,000 tokens an attempt: the second goes over the 6,000 left and is stopped, or ends just past it.
    expect(json.attempts).toBe(2);
    expect(json.reason).toMatch(/task's 60000 token budget|over the 6000 left in the budget/);
  });
});

// ---- reading runs back -----------------------------------------------------------------------------------

describe("status, list, logs and report", () => {
  it("show the runs of a repository from the journal", async () => {
    const box = sandbox();
    const empty = await box.orch(["list", "--json"]);
    expect(empty.code).toBe(0);
    expect(parseJsonOutput(ListJson, empty.stdout)).toEqual([]);
    expect(existsSync(join(box.repo.dir, ".orch"))).toBe(false);

    const failed = (
      await orchRun(box, ["--agent-command", agent("fix-on-attempt.sh"), "--max-attempts", "1"], 1)
    ).json;
    const succeeded = (await orchRun(box, ["--agent-command", agent("fix-on-attempt.sh")], 0)).json;
    const [a, b] = [failed.runId, succeeded.runId];

    // list: newest first.
    const list = await box.orch(["list", "--json"]);
    expect(list.code).toBe(0);
    const runs = parseJsonOutput(ListJson, list.stdout);
    expect(runs.map((r) => [r.runId, r.goal, r.status])).toEqual([
      [b, GOAL, "succeeded"],
      [a, GOAL, "failed"],
    ]);
    const [newest, oldest] = runs;
    expect(Date.parse(newest?.createdAt ?? "")).toBeGreaterThanOrEqual(Date.parse(oldest?.createdAt ?? ""));
    // Each run's time driven and cost, as its status gives them (the command agent reports no cost).
    for (const run of runs) {
      const status = parseJsonOutput(StatusJson.extend({ elapsedMs: z.number() }), (await box.orch(["status", run.runId, "--json"])).stdout);
      expect([run.elapsedMs, run.costUsd]).toEqual([status.elapsedMs, 0]);
      expect(run.elapsedMs).toBeGreaterThan(0);
    }
    const table = await box.orch(["list"]);
    expect(table.stdout).toMatch(new RegExp(`^RUN +STATUS[^\\n]*\\n${b} +succeeded +100% +2/10 [^\\n]*\\n${a} +failed +0% +1/1 `));

    // status: the newest by default; by id; by prefix-free JSON.
    const text = await box.orch(["status"]);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain(`run ${b}: succeeded — all 1 criteria met on attempt 2`);
    expect(text.stdout).toMatch(/attempt +2\/10/);
    expect(text.stdout).toMatch(/progress +100%/);
    const view = await box.status(a);
    expect(view).toMatchObject({ runId: a, goal: GOAL, status: "failed", attempts: 1, maxAttempts: 1, progress: 0 });
    expect(view.tasks).toEqual([{ id: TASK, title: GOAL, status: "failed", attempts: 1, branch: `orch/${a}/${TASK}` }]);
    expect((await box.status(b)).progress).toBe(1);

    // logs of a run: the loop's milestones around the agent's lines.
    const runLogs = await box.orch(["logs", b]);
    expect(runLogs.code).toBe(0);
    for (const line of [
      `── run ${b} created: ${GOAL}`,
      "#1 ── attempt 1 started (command)",
      "#1 » attempt 1: not sure yet; changed nothing",
      "#1 ✖ FAIL `node test.mjs`",
      "#2 » attempt 2: sum now adds instead of subtracting",
      "#2 ✔ pass `node test.mjs`",
      "── run succeeded: all 1 criteria met on attempt 2",
    ]) {
      expect(runLogs.stdout).toContain(line);
    }

    // RUN/TASK: only the task's events; an attempt id: only that attempt's.
    const taskLogs = await box.orch(["logs", `${b}/${TASK}`]);
    expect(taskLogs.code).toBe(0);
    expect(taskLogs.stdout).toContain("#2 ✔ pass `node test.mjs`");
    expect(taskLogs.stdout).not.toContain("── run");
    const attemptLogs = await box.orch(["logs", `${b}.${TASK}.1`]);
    expect(attemptLogs.code).toBe(0);
    expect(attemptLogs.stdout).toContain("#1 ── attempt 1 started");
    expect(attemptLogs.stdout).not.toContain("#2");

    // --json: one journal event per line, in order, from run.created to run.finished, then its delivery (no remote).
    const events = await journal(box, b);
    expect(events[0]?.type).toBe("run.created");
    expect(events.map((e) => e.type).slice(-2)).toEqual(["run.finished", "run.delivered"]);
    const seqs = events.map((e) => e.seq);
    expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
    expect(events.every((e) => e.runId === b)).toBe(true);
    expect(events.some((e) => e.type === "agent.emitted" && e.data["text"] === "attempt 2: sum now adds instead of subtracting")).toBe(true);

    // report: printed, or written where --out says.
    const out = join(box.repo.root, "run-report.md");
    const written = await box.orch(["report", b, "--out", out]);
    expect(written.code, written.stderr).toBe(0);
    expect(written.stderr).toContain(`report written to ${out}`);
    const report = read(out);
    expect(report).toContain(`# orch run ${b}`);
    expect(report).toContain("**Outcome:** succeeded — all 1 criteria met on attempt 2");
    expect(report).toContain(`| Branch to merge | \`orch/${b}/_run\``);
    expect(report).toContain("- [x] `node test.mjs` — passed");
    const printed = await box.orch(["report", a]);
    expect(printed.code).toBe(0);
    expect(printed.stdout).toContain("**Outcome:** failed — reached the limit of 1 attempts");
  });
});

// ---- init ------------------------------------------------------------------------------------------------

describe("orch init", () => {
  it("writes orch.config.yaml once, refuses to overwrite it without --force, and runs honour it", async () => {
    const box = sandbox({ FIX_ON_ATTEMPT: "99" });
    const file = join(box.repo.dir, "orch.config.yaml");
    const first = await box.orch(["init"]);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toContain(`Wrote ${file}`);
    const template = read(file);
    expect(template).toContain("maxAttempts: 10");
    expect(existsSync(join(box.repo.dir, ".orch"))).toBe(true);
    expect(read(join(box.repo.dir, ".git", "info", "exclude")).split("\n")).toContain(".orch/");
    expect(box.repo.git(["status", "--porcelain"])).toBe("?? orch.config.yaml");

    const again = await box.orch(["init"]);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain(`${file} already exists`);
    expect(again.stderr).toContain("--force");

    // verify: and limits.maxAttempts from the file, no --verify on the command line.
    writeFileSync(
      file,
      template.replace("verify: []", `verify:\n  - ${VERIFY}`).replace(/maxAttempts: 10 /, "maxAttempts: 2  "),
    );
    const run = await box.orch(["run", GOAL, "--agent-command", agent("fix-on-attempt.sh"), "--json"]);
    expect(run.code, run.stderr).toBe(1);
    const json = parseRunResult(run);
    expect(json).toMatchObject({ status: "failed", attempts: 2 });
    expect(json.reason).toMatch(/limit of 2 attempts/);
    const created = (await journal(box, json.runId)).find((e) => e.type === "run.created");
    expect(CreatedData.parse(created?.data).criteria).toEqual([VERIFY]);
    expect((await box.status(json.runId)).maxAttempts).toBe(2);

    const forced = await box.orch(["init", "--force"]);
    expect(forced.code).toBe(0);
    expect(read(file)).toBe(template);
  });
});

// ---- doctor and demo -------------------------------------------------------------------------------------

const DoctorJson = z.object({
  ok: z.boolean(),
  checks: z.array(z.object({ name: z.string(), ok: z.boolean(), detail: z.string() })),
  agents: z.array(
    z.object({
      agent: z.string(),
      found: z.boolean(),
      version: z.string().optional(),
      credentials: z.object({ present: z.boolean(), source: z.string().optional() }),
      ready: z.boolean(),
      fix: z.string().optional(),
    }),
  ),
});

function findOnPath(name: string): string {
  for (const dir of (process.env["PATH"] ?? "").split(delimiter)) {
    const candidate = join(dir, name);
    if (dir !== "" && existsSync(candidate)) return candidate;
  }
  throw new Error(`${name} is not on PATH`);
}

describe("orch doctor", () => {
  it("with only git and node on PATH: exit 3 (only the command and scripted agents run), claude-code not found; with a `claude` and a key: exit 0, the key never printed", async () => {
    const box = sandbox();
    const bin = join(box.repo.root, "bin");
    mkdirSync(bin);
    symlinkSync(findOnPath("git"), join(bin, "git"));
    symlinkSync(process.execPath, join(bin, "node"));
    const env = { HOME: box.repo.home, PATH: bin, GIT_CONFIG_NOSYSTEM: "1", LC_ALL: "C", TMPDIR: box.repo.tmp };

    const bare = await box.orch(["doctor", "--json"], { env });
    expect(bare.code, bare.stderr).toBe(3);
    const missing = parseJsonOutput(DoctorJson, bare.stdout);
    expect(missing.ok).toBe(false);
    expect(missing.checks.find((c) => c.name === "git")?.ok).toBe(true);
    expect(missing.agents[0]).toMatchObject({ agent: "claude-code", found: false, ready: false });
    expect(missing.agents[0]?.fix).toMatch(/npm install -g @anthropic-ai\/claude-code/);

    const claude = join(bin, "claude");
    writeFileSync(claude, '#!/bin/sh\necho "2.1.197 (Claude Code)"\n');
    chmodSync(claude, 0o755);
    const secret = "sk-ant-api03-doctor-must-never-print-this-0123456789";
    const keyed = { ...env, ANTHROPIC_API_KEY: secret };
    const ready = await box.orch(["doctor", "--json"], { env: keyed });
    expect(ready.code, ready.stderr).toBe(0);
    const found = parseJsonOutput(DoctorJson, ready.stdout);
    expect(found.ok).toBe(true);
    expect(found.agents[0]).toMatchObject({
      agent: "claude-code",
      found: true,
      version: "2.1.197 (Claude Code)",
      credentials: { present: true, source: "$ANTHROPIC_API_KEY" },
      ready: true,
    });
    const text = await box.orch(["doctor"], { env: keyed });
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/✔ claude-code +2\.1\.197 \(Claude Code\) at .*claude; credentials present \(\$ANTHROPIC_API_KEY\)/);
    for (const output of [ready.stdout, ready.stderr, text.stdout, text.stderr]) expect(output).not.toContain(secret);
  });
});

describe("orch demo", () => {
  it("converges its throw-away repository with the scripted agent in 2 attempts, and claims no cost", async () => {
    const box = sandbox();
    const demo = join(box.repo.root, "demo");
    const result = await box.orch(["demo", "--json", "--dir", demo], { cwd: box.repo.root });
    expect(result.code, result.stderr).toBe(0);
    const json = parseRunResult(result);
    expect(json).toMatchObject({ status: "succeeded", attempts: 2 });
    // The scripted agent calls no model: no invented dollar figure in the status or the report.
    const status = await box.orch(["status", json.runId], { cwd: join(demo, "repo") });
    expect(status.stdout).toMatch(/^ {2}cost {6}none: the scripted agent calls no model · tokens 0 in \/ 0 out$/m);
    expect(status.stdout).not.toMatch(/\$\d/);
    const report = await box.orch(["report", json.runId], { cwd: join(demo, "repo") });
    expect(report.stdout).toContain("| Cost | none: the scripted agent calls no model |");
    // Its attempts state no tokens and no cost: none was reported.
    expect(report.stdout).toMatch(/^\| 1 \| scripted \| scripted-demo \| [^|]+ \| — \| — \| verify_failed \| 0\/1 \| 50% \|$/m);
    expect(report.stdout).not.toMatch(/\$\d/);
  });
});

// ---- recovery policy ------------------------------------------------------------------------------------

describe("recovery: fallback, circuit breaker, per-kind policy", () => {
  const models = (box: OrchSandbox) => read(join(box.out, "models")).trim().split("\n");
  const notes = (events: readonly EventJson[]) => events.filter((e) => e.type === "run.noted").map((e) => NotedData.parse(e.data).message);

  it("falls back to the next model when the first is overloaded, and converges there", async () => {
    const box = sandbox({ UNHEALTHY_MODELS: "primary" });
    const { json } = await orchRun(box, ["--agent-command", agent("unhealthy-model.sh"), "--model", "primary", "--fallback-model", "backup"], 0);
    expect(json).toMatchObject({ status: "succeeded", attempts: 2 });
    expect(models(box)).toEqual(["1 primary", "2 backup"]);
    const events = await journal(box, json.runId);
    expect(notes(events)).toEqual(["switching to model backup from primary: its circuit is open after overloaded: API Error: 529 Overloaded"]);
    // A fallback is no wait: the next model is tried at once.
    expect(events.filter((e) => e.type === "task.waited")).toEqual([]);
  });

  it("opens a single model's circuit after three overloads in a row, waits the cool-down, and one probe succeeds", async () => {
    const box = sandbox({ FAIL_ATTEMPTS: "3" });
    writeFileSync(join(box.repo.dir, "orch.config.yaml"), "recovery:\n  circuitBreaker:\n    failures: 3\n    cooldown: 1s\n");
    const { json } = await orchRun(box, ["--agent-command", agent("unhealthy-model.sh"), "--model", "only"], 0);
    expect(json).toMatchObject({ status: "succeeded", attempts: 4 });
    const waits = (await journal(box, json.runId)).filter((e) => e.type === "task.waited").map((e) => WaitedData.parse(e.data));
    // Two backoffs, then the open circuit's cool-down instead of a third backoff.
    expect(waits.map((w) => w.reason.replace(/:.*/, ""))).toEqual(["overloaded", "overloaded", "circuit open for every model"]);
    expect(waits[2]?.reason).toBe("circuit open for every model: only; probing again after the cool-down");
    expect(waits[2]?.delayMs).toBeLessThanOrEqual(1_000);
    const { figures } = await box.status(json.runId);
    expect(figures).toMatchObject({ failuresByKind: { overloaded: 3 }, recovered: 3, escalated: 0 });
  });

  it("--on-limit stop ends the task on a rate limit instead of waiting, and says why", async () => {
    const box = sandbox();
    const { json } = await orchRun(box, ["--agent-command", agent("rate-limited-once.sh"), "--on-limit", "stop"], 1);
    expect(json).toMatchObject({ status: "failed", attempts: 1 });
    expect(json.reason).toMatch(/^rate_limited: API Error: 429 Too Many Requests/);
    expect((await journal(box, json.runId)).some((e) => e.type === "task.waited")).toBe(false);
  });

  it("the config can escalate a kind that would be retried (hung → escalate)", async () => {
    const box = sandbox();
    writeFileSync(join(box.repo.dir, "orch.config.yaml"), "recovery:\n  onFailure:\n    hung: escalate\n");
    const { json } = await orchRun(box, ["--agent-command", agent("hang.sh"), "--stall-timeout", "1s"], 1);
    expect(json).toMatchObject({ status: "failed", attempts: 1 });
    expect(json.reason).toMatch(/^hung: no output for 1s/);
  });
});
