// More attempts for a run that ended on its limit: `orch resume RUN --max-attempts N` journals the new limits,
// reopens the task and goes on with the next attempt number and the same handoff; bad inputs are refused with
// exit 2 and nothing written. The command agent and real git throughout.
import { readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseRunResult } from "./support/cli.js";
import { AttemptStartedData, eventData, readJournal, useSandboxes, type OrchSandbox } from "./support/e2e.js";

const sandboxes = useSandboxes({ prefix: "orch-cli-continue-", graceMs: 3_000 });
const FILES = { "README.md": "# app\n" };
/** Writes done.txt only from attempt 3 on; before that it leaves a note of what it tried. */
const AGENT = 'echo "tried $ORCH_ATTEMPT" >> notes.txt; if [ "$ORCH_ATTEMPT" -ge 3 ]; then echo ok > done.txt; fi';
const VERIFY = "test -f done.txt";

async function failedRun(box: OrchSandbox): Promise<string> {
  const result = await box.orch(["run", "write done.txt", "--verify", VERIFY, "--agent-command", AGENT, "--max-attempts", "2", "--json"]);
  expect(result.code, result.stderr).toBe(1);
  const json = parseRunResult(result);
  expect(json).toMatchObject({ status: "failed", attempts: 2 });
  return json.runId;
}

/** The journal file's size and its events: what "nothing written" is checked against. */
function written(box: OrchSandbox, runId: string): { events: number; size: number } {
  return { events: readJournal(box.repo, runId).events.length, size: statSync(join(box.repo.dir, ".orch", "orch.db")).size };
}

describe("orch resume RUN --max-attempts N", () => {
  it("continues a run that failed on its attempt limit with attempt 3, the same handoff, and converges", async () => {
    const box = sandboxes.orchRepo(FILES);
    const runId = await failedRun(box);

    const resumed = await box.orch(["resume", runId, "--max-attempts", "4", "--json"]);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(parseRunResult(resumed)).toMatchObject({ runId, status: "succeeded", attempts: 3 });

    const journal = readJournal(box.repo, runId);
    expect(eventData(journal, "attempt.started", AttemptStartedData).map((a) => a.number)).toEqual([1, 2, 3]);
    const types = journal.events.map((e) => e.type);
    const extended = types.indexOf("run.extended");
    expect(types.slice(extended, extended + 3)).toEqual(["run.extended", "task.reopened", "run.resumed"]);
    expect(types.filter((t) => t === "run.finished")).toHaveLength(2);
    expect(journal.run.status).toBe("succeeded");
    expect(journal.tasks.map((t) => t.status)).toEqual(["succeeded"]);

    // Attempt 2 was told what attempt 1 changed: its diff stat and its hunk.
    const taskId = journal.tasks[0]?.id ?? "";
    const second = readFileSync(join(box.repo.dir, ".orch", "logs", runId, `${runId}.${taskId}.2.prompt.md`), "utf8");
    expect(second).toContain("What it changed (the worktree against its last commit; the changes are still there):\n```\n notes.txt | 1 +\n 1 file changed, 1 insertion(+)\n```");
    expect(second).toContain("```diff\ndiff --git a/notes.txt b/notes.txt");
    expect(second).toContain("+tried 1");
    // Attempt 3 was given the handoff of attempts 1 and 2, under the new limit.
    const third = readFileSync(join(box.repo.dir, ".orch", "logs", runId, `${runId}.${taskId}.3.prompt.md`), "utf8");
    expect(third).toContain("# Earlier attempts (this is attempt 3 of at most 4)");
    expect(third).toContain("Earlier attempts on this task: 2.");
    expect(third).toContain("### Attempt 2 (command)");
    const prompt = await box.orch(["logs", runId]);
    expect(prompt.code).toBe(0);
    expect(prompt.stdout).toContain("limits extended by orch resume");
    expect(prompt.stdout).toMatch(/task \S+ reopened \(running\): it had ended with "reached the limit of 2 attempts/);
    const status = await box.status(runId);
    expect(status).toMatchObject({ status: "succeeded", attempts: 3, maxAttempts: 4 });
  });

  it("refuses a limit not above the attempts used, a succeeded run and an unknown run: exit 2, nothing written", async () => {
    const box = sandboxes.orchRepo(FILES);
    const runId = await failedRun(box);
    const before = written(box, runId);

    const lower = await box.orch(["resume", runId, "--max-attempts", "2"]);
    expect(lower.code).toBe(2);
    expect(lower.stderr).toContain("--max-attempts 2 is not above the 2 attempts task");
    const bad = await box.orch(["resume", runId, "--max-attempts", "many"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--max-attempts must be a whole number above 0, not "many"');
    const unknown = await box.orch(["resume", "999999-0000-zzzz", "--max-attempts", "5"]);
    expect(unknown.code).toBe(2);
    const plain = await box.orch(["resume", runId]);
    expect(plain.code).toBe(2);
    expect(plain.stderr).toContain(`orch resume ${runId} --max-attempts N`);
    expect(written(box, runId)).toEqual(before);

    const done = await box.orch(["resume", runId, "--max-attempts", "3", "--json"]);
    expect(done.code, done.stderr).toBe(0);
    const after = written(box, runId);
    const again = await box.orch(["resume", runId, "--max-attempts", "9"]);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain(`run ${runId} succeeded; there is nothing to continue`);
    expect(written(box, runId)).toEqual(after);
  });

  it("orch diff shows a task's work so far, uncommitted too, and the run's branch against its base", async () => {
    const box = sandboxes.orchRepo(FILES);
    const runId = await failedRun(box);
    const taskId = readJournal(box.repo, runId).tasks[0]?.id ?? "";

    // Failed: nothing committed, the worktree holds what the attempts wrote (a new file).
    const work = await box.orch(["diff", `${runId}/${taskId}`]);
    expect(work.code, work.stderr).toBe(0);
    expect(work.stdout).toContain("diff --git a/notes.txt b/notes.txt");
    expect(work.stdout).toContain("+tried 1\n+tried 2");
    expect(work.stdout).not.toContain("\u001b[");
    const empty = await box.orch(["diff", runId]);
    expect([empty.code, empty.stdout]).toEqual([0, ""]);

    const resumed = await box.orch(["resume", runId, "--max-attempts", "3", "--json"]);
    expect(resumed.code, resumed.stderr).toBe(0);
    const run = await box.orch(["diff", runId, "--stat"]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/done\.txt +\| 1 \+\n notes\.txt \| 3 \+\+\+\n 2 files changed, 4 insertions\(\+\)/);
    const task = await box.orch(["diff", `${runId}/${taskId}`]);
    expect(task.stdout).toContain("+++ b/done.txt");

    const unknownTask = await box.orch(["diff", `${runId}/nope`]);
    expect([unknownTask.code, unknownTask.stderr]).toEqual([2, expect.stringContaining(`run ${runId} has no task "nope"`)]);
    const unknownRun = await box.orch(["diff", "999999-0000-zzzz"]);
    expect([unknownRun.code, unknownRun.stderr]).toEqual([2, expect.stringContaining('no run "999999-0000-zzzz"')]);
  });

  it("a failed attempt's changes reach the next prompt redacted, like everything else", async () => {
    const secret = "s3cr3t-value-that-must-not-leak-0123456789";
    const box = sandboxes.orchRepo(FILES, { SERVICE_API_KEY: secret });
    const result = await box.orch(["run", "never done", "--verify", VERIFY, "--agent-command", 'echo "token=$SERVICE_API_KEY" > config.txt', "--max-attempts", "2", "--json"]);
    expect(result.code, result.stderr).toBe(1);
    const { runId } = parseRunResult(result);
    const taskId = readJournal(box.repo, runId).tasks[0]?.id ?? "";
    const second = readFileSync(join(box.repo.dir, ".orch", "logs", runId, `${runId}.${taskId}.2.prompt.md`), "utf8");
    expect(second).toContain(" config.txt | 1 +");
    expect(second).toContain("+token=");
    expect(second).not.toContain(secret);
    expect(JSON.stringify(readJournal(box.repo, runId).events)).not.toContain(secret);
  });

  it("a planned run: the task that failed on its limit goes on, the task blocked behind it starts after it", async () => {
    const box = sandboxes.orchRepo(FILES);
    const plan = join(box.repo.dir, "..", "tasks.yaml");
    writeFileSync(plan, "tasks:\n  - id: a\n    title: write a\n    goal: write a.txt\n    verify: [\"test -f a.txt\"]\n  - id: b\n    title: write b\n    goal: write b.txt\n    dependsOn: [a]\n    verify: [\"test -f b.txt\"]\n");
    const agentCommand = 'if [ "$ORCH_TASK_ID" = a ] && [ "$ORCH_ATTEMPT" -ge 3 ]; then echo a > a.txt; fi; if [ "$ORCH_TASK_ID" = b ]; then echo b > b.txt; fi';
    const failed = await box.orch(["run", "two files", "--plan-file", plan, "--verify", "true", "--agent-command", agentCommand, "--max-attempts", "2", "--json"]);
    expect(failed.code, failed.stderr).toBe(1);
    const { runId } = parseRunResult(failed);
    expect(readJournal(box.repo, runId).tasks.map((t) => [t.id, t.status])).toEqual([["a", "failed"], ["b", "blocked"]]);

    const resumed = await box.orch(["resume", runId, "--max-attempts", "4", "--json"]);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(parseRunResult(resumed)).toMatchObject({ status: "succeeded" });
    const journal = readJournal(box.repo, runId);
    expect(journal.tasks.map((t) => [t.id, t.status])).toEqual([["a", "succeeded"], ["b", "succeeded"]]);
    expect(journal.attempts.map((a) => a.id.slice(runId.length + 1))).toEqual(expect.arrayContaining(["a.1", "a.2", "a.3", "b.1"]));
    expect(journal.attempts).toHaveLength(4);

    // Each task's diff is its own work; the run's is both.
    expect((await box.orch(["diff", `${runId}/a`, "--stat"])).stdout).toMatch(/^ a\.txt \| 1 \+\n 1 file changed/);
    expect((await box.orch(["diff", `${runId}/b`, "--stat"])).stdout).toMatch(/^ b\.txt \| 1 \+\n 1 file changed/);
    expect((await box.orch(["diff", runId, "--stat"])).stdout).toContain("2 files changed, 2 insertions(+)");
  });
});
