// Which task spoke: a planned run's tasks work side by side, so its live output (off a terminal), `orch logs RUN`
// and the report's attempts table name each line's and row's task; `orch logs RUN/TASK` shows one task alone. A
// run of one task keeps its short lines (`#1`) and, off a terminal, shows the agent's own lines too.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseRunResult } from "./support/cli.js";
import { fixtureAgent as agent, useSandboxes, type OrchSandbox } from "./support/e2e.js";
import { FILES, task } from "./support/plans.js";

const sandboxes = useSandboxes({ prefix: "orch-cli-tasks-" });

const TWO = { tasks: [task("alpha", []), task("beta", [])] };

/** A two-task planned run, both tasks at once, driven in the foreground with stdout and stderr piped. */
async function twoTaskRun(box: OrchSandbox) {
  const plan = join(box.repo.root, "plan.json");
  writeFileSync(plan, JSON.stringify(TWO));
  const result = await box.orch(
    ["run", "make two files", "--verify", "node check.mjs", "--plan-file", plan, "--concurrency", "2", "--agent-command", agent("plan-task.sh"), "--json"],
    { timeoutMs: 60_000 },
  );
  expect(result.code, result.stderr).toBe(0);
  return { ...parseRunResult(result), stderr: result.stderr };
}

async function logs(box: OrchSandbox, ref: string): Promise<string[]> {
  const result = await box.orch(["logs", ref]);
  expect(result.code, result.stderr).toBe(0);
  return result.stdout.split("\n").filter((l) => l !== "");
}

describe("a planned run says which task spoke", () => {
  it("names the task on every live line, in `orch logs` and in the report; `orch logs RUN/TASK` follows one", { timeout: 90_000 }, async () => {
    const box = sandboxes.orchRepo(FILES, { CHANGELOG_TASKS: "none" });
    const run = await twoTaskRun(box);

    // Live output off a terminal: each milestone names its task, and the agents' own lines are there, labelled.
    for (const id of ["alpha", "beta"]) {
      expect(run.stderr).toContain(`orch: ${id}: attempt 1/10 started`);
      expect(run.stderr).toContain(`orch: ${id}#1 » ${id}: wrote out/${id}.txt`);
      expect(run.stderr).toContain(`orch: ${id}: attempt 1: criteria 2/2 passed · progress 100%`);
    }
    expect(run.stderr).not.toMatch(/^orch: attempt 1\/10 started$/m);

    // `orch logs RUN`: every line of an attempt names its task and attempt; the two starts are told apart.
    const all = await logs(box, run.runId);
    const started = all.filter((l) => l.includes("── attempt 1 started"));
    expect(started.map((l) => l.slice("2026-12-07 12:00:04Z ".length, l.indexOf(" ──")))).toEqual(expect.arrayContaining(["alpha#1", "beta#1"]));
    expect(started).toHaveLength(2);
    const ofAttempts = all.filter((l) => /── (attempt|agent exited)|[»✔✖] /.test(l) && !l.includes("── task "));
    expect(ofAttempts.length).toBeGreaterThanOrEqual(10);
    for (const line of ofAttempts) expect(line, line).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ (alpha|beta)#1 /);
    expect(all.some((l) => /^\S+ \S+Z #1 /.test(l))).toBe(false);

    // `orch logs RUN/TASK`: that task's lines only.
    const beta = await logs(box, `${run.runId}/beta`);
    expect(beta.some((l) => l.includes("beta#1 ── attempt 1 started"))).toBe(true);
    expect(beta.some((l) => l.includes("beta: wrote out/beta.txt"))).toBe(true);
    expect(beta.filter((l) => l.includes("alpha"))).toEqual([]);

    // The report's attempts table: a task column, and no two rows alike.
    const report = readFileSync(run.report ?? "", "utf8");
    const table = report.slice(report.indexOf("## Attempts"));
    expect(table).toContain("| task | # | agent |");
    const rows = table.split("\n").filter((l) => /^\| `(alpha|beta)` \| 1 \|/.test(l));
    expect(rows).toHaveLength(2);
    expect(new Set(rows).size).toBe(2);
    // A planned run's progress is its tasks' mean, and both the report and `orch status` say so.
    expect(report).toContain("| Progress | 100% (the mean of its tasks'; each the share of the criteria passing; a failing test run counts its passing tests) |");
    const status = await box.orch(["status", run.runId]);
    expect(status.stdout).toMatch(/^ {2}progress {2}100% \(the mean of its tasks'; each the share of the criteria passing/m);
  });

  it("refuses a task or a run that does not exist, in plain words (exit 2)", { timeout: 90_000 }, async () => {
    const box = sandboxes.orchRepo(FILES, { CHANGELOG_TASKS: "none" });
    const run = await twoTaskRun(box);
    const noTask = await box.orch(["logs", `${run.runId}/gamma`]);
    expect(noTask.code).toBe(2);
    expect(noTask.stderr).toContain(`run ${run.runId} has no task "gamma"`);
    const noRun = await box.orch(["logs", "991231-2359-zzzz/alpha"]);
    expect(noRun.code).toBe(2);
    expect(noRun.stderr).toMatch(/orch: .*991231-2359-zzzz/);
  });
});

describe("a run of one task in the foreground, off a terminal", () => {
  it("shows the agent's own lines, not only its milestones, without a task label", { timeout: 60_000 }, async () => {
    const box = sandboxes.orchRepo(FILES, { CHANGELOG_TASKS: "none" });
    const result = await box.orch(["run", "make alpha", "--verify", "test -f out/make-alpha.txt", "--agent-command", agent("plan-task.sh")]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain("orch: attempt 1/10 started");
    expect(result.stderr).toContain("orch: #1 » make-alpha: wrote out/make-alpha.txt");
    const lines = await logs(box, "latest");
    expect(lines.some((l) => /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ #1 ── attempt 1 started/.test(l))).toBe(true);
  });
});
