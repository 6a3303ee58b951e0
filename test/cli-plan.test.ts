// Planned runs from a plan file: six tasks in two parallel branches and a join, run by command agents making
// real edits, two of them conflicting on one file; the merge queue integrates each task into the run branch in
// dependency order, an integrator task resolves the conflict, and the run's criteria pass on the run branch. A
// failing task blocks exactly its dependents. Bad plans end in clear errors with nothing written.
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { isRunning, parseRunResult, leftoverProcesses, waitFor } from "./support/cli.js";
import { fixtureAgent as agent, readJournal, useSandboxes, type OrchSandbox, type StatusView } from "./support/e2e.js";
import { FILES, PLAN, task } from "./support/plans.js";

const sandboxes = useSandboxes({ prefix: "orch-cli-plan-" });

/**
 * For criteria that judge the run branch differently from a task's worktree (these tests' gates look at the branch
 * name): every merge is verified, even one whose tree its task was verified on.
 */
const VERIFY_EVERY_MERGE = "integration:\n  verifyEveryMerge: true\n";

const ScheduleView = z.object({
  branch: z.string(),
  schedule: z
    .object({ concurrency: z.number(), tasks: z.record(z.string(), z.number()), parallelism: z.number(), successRate: z.number().nullable() })
    .nullable(),
  tasks: z.array(z.object({ id: z.string(), role: z.string(), integrated: z.string().nullable() })),
});

function planFile(box: OrchSandbox, plan: unknown, name = "plan.json"): string {
  const path = join(box.repo.root, name);
  writeFileSync(path, typeof plan === "string" ? plan : JSON.stringify(plan, null, 2));
  return path;
}

const firstParents = (box: OrchSandbox, branch: string) => box.repo.git(["log", "--first-parent", "--format=%s", `${box.repo.headSha}..${branch}`]).split("\n").reverse();

/** SIGKILLs a detached run's supervisor and waits until it is gone. */
async function killSupervisor(pid: number | null | undefined): Promise<void> {
  process.kill(pid ?? 0, "SIGKILL");
  await waitFor("the supervisor to be gone", () => (isRunning(pid ?? 0) ? undefined : true));
}

/** `orch resume RUN`, then the run's status once it has ended. */
async function resumeToEnd(box: OrchSandbox, runId: string, timeoutMs = 90_000): Promise<StatusView> {
  const resumed = await box.orch(["resume", runId]);
  expect(resumed.code, resumed.stderr).toBe(0);
  return waitFor("the run to end", async () => {
    const view = await box.status(runId);
    return ["succeeded", "failed"].includes(view.status) ? view : undefined;
  }, timeoutMs);
}

describe("orch run --plan-file", () => {
  it("runs a 6-task graph two at a time; the queue integrates in dependency order, an integrator resolves the conflict", { timeout: 120_000 }, async () => {
    const box = sandboxes.orchRepo(FILES);
    const result = await box.orch(
      ["run", "build the feature", "--verify", "node check.mjs", "--plan-file", planFile(box, PLAN), "--concurrency", "2", "--agent-command", agent("plan-task.sh"), "--json"],
      { timeoutMs: 110_000 },
    );
    expect(result.code, result.stderr).toBe(0);
    const out = parseRunResult(result);
    expect(out.status).toBe("succeeded");
    expect(out.branch).toBe(`orch/${out.runId}/_run`);

    const journal = readJournal(box.repo, out.runId);
    const byId = new Map(journal.tasks.map((t) => [t.id, t]));
    for (const id of ["setup", "api", "ui", "api-tests", "ui-tests", "docs"]) expect(byId.get(id)?.status, id).toBe("succeeded");
    // api and ui ran side by side and both added to CHANGELOG.md: the second one to reach the queue conflicted.
    const integrators = journal.tasks.filter((t) => t.id.endsWith("--merge"));
    expect(integrators).toHaveLength(1);
    expect(integrators[0]?.status).toBe("succeeded");
    const conflicted = integrators[0]?.id.replace("--merge", "") ?? "";
    expect(["api", "ui"]).toContain(conflicted);

    // The run branch: one merge per task, in an order the graph allows, the conflicted one merged by its integrator.
    const history = firstParents(box, out.branch);
    const integratedAt = (id: string) => history.indexOf(`orch: integrate task ${id} into the run`);
    for (const id of ["setup", "api", "ui", "api-tests", "ui-tests", "docs"]) expect(integratedAt(id), `${id} in ${history.join(" | ")}`).toBeGreaterThanOrEqual(0);
    expect(integratedAt("setup")).toBeLessThan(integratedAt("api"));
    expect(integratedAt("setup")).toBeLessThan(integratedAt("ui"));
    expect(integratedAt("api")).toBeLessThan(integratedAt("api-tests"));
    expect(integratedAt("ui")).toBeLessThan(integratedAt("ui-tests"));
    expect(integratedAt("api-tests")).toBeLessThan(integratedAt("docs"));
    expect(integratedAt("ui-tests")).toBeLessThan(integratedAt("docs"));
    expect(history).toHaveLength(6);
    const resolved = box.repo.git(["log", "-1", "--format=%B", `${out.branch}~${history.length - 1 - integratedAt(conflicted)}`]);
    expect(resolved).toContain(`Conflicts in CHANGELOG.md resolved by task ${conflicted}--merge.`);

    // What the run branch holds: every task's file, both changelog lines, no marker; the criteria pass there.
    const show = (path: string) => box.repo.git(["show", `${out.branch}:${path}`]);
    expect(show("out/index.txt").split("\n")).toEqual(["api-tests.txt", "api.txt", "docs.txt", "index.txt", "setup.txt", "ui-tests.txt", "ui.txt"]);
    expect(show("CHANGELOG.md").split("\n").filter((l) => l.startsWith("- ")).sort()).toEqual(["- api", "- ui"]);
    expect(journal.events.filter((e) => e.type === "task.integrated")).toHaveLength(6);

    // Status and the report tell the graph: every task, its merge, the scheduling figures.
    const status = await box.orch(["status", out.runId, "--json"]);
    const view = ScheduleView.parse(JSON.parse(status.stdout));
    expect(view.branch).toBe(out.branch);
    expect(view.schedule).toMatchObject({ concurrency: 2, tasks: { total: 6, succeeded: 6, failed: 0, blocked: 0 }, successRate: 1 });
    expect(view.schedule?.parallelism).toBeGreaterThan(0);
    expect(view.tasks.filter((t) => t.role === "implementer").every((t) => t.integrated !== null)).toBe(true);
    const text = await box.orch(["status", out.runId]);
    expect(text.stdout).toMatch(/schedule {2}6\/6 tasks done · parallelism \d\.\d of 2 · /);
    expect(text.stdout).toMatch(/\n {4}succeeded setup · 1 attempt\(s\) · merged [0-9a-f]{12}\n {4}succeeded api · 1 attempt\(s\) after setup · /);
    expect(text.stdout).toMatch(/succeeded docs · 1 attempt\(s\) after api-tests, ui-tests · merged [0-9a-f]{12}/);
    expect(text.stdout).toContain("  attempts  7 in all, at most 10 a task");
    const report = readFileSync(out.report ?? "", "utf8");
    expect(report).toContain(`| Branch to merge | \`${out.branch}\``);
    expect(report).toContain("## Tasks");
    expect(report).toContain("| `docs` | implementer | make docs | `api-tests`, `ui-tests` | succeeded | 1 |");
    expect(report).toContain(`Merge the verified work: \`git merge ${out.branch}\``);

    // Each task is also a readable file, numbered in dependency order.
    const taskFiles = readdirSync(join(box.repo.dir, ".orch", "runs", out.runId, "tasks"));
    expect(taskFiles).toEqual(["01-make-setup.md", "02-make-api.md", "03-make-ui.md", "04-make-api-tests.md", "05-make-ui-tests.md", "06-make-docs.md"]);
    expect(readFileSync(join(box.repo.dir, ".orch", "runs", out.runId, "tasks", "06-make-docs.md"), "utf8")).toContain("api-tests");
    // The user's checkout is as it was.
    expect(existsSync(join(box.repo.dir, "out"))).toBe(false);
  });

  it("a task that fails blocks exactly its dependents; the rest of the graph goes on", { timeout: 120_000 }, async () => {
    const box = sandboxes.orchRepo(FILES, { FAIL_TASK: "ui" });
    const result = await box.orch(
      ["run", "build the feature", "--verify", "node check.mjs", "--plan-file", planFile(box, PLAN), "--concurrency", "2", "--max-attempts", "2", "--agent-command", agent("plan-task.sh"), "--json"],
      { timeoutMs: 110_000 },
    );
    expect(result.code, result.stderr).toBe(1);
    const out = parseRunResult(result);
    expect(out.status).toBe("failed");
    const journal = readJournal(box.repo, out.runId);
    const status = Object.fromEntries(journal.tasks.map((t) => [t.id, t.status]));
    expect(status).toEqual({ setup: "succeeded", api: "succeeded", "api-tests": "succeeded", ui: "failed", "ui-tests": "blocked", docs: "blocked" });
    expect(out.reason).toMatch(/^3 of 6 tasks integrated into orch\/\S+\/_run; not done: /);
    // Blocked tasks never ran.
    const log = readFileSync(join(box.out, "log"), "utf8");
    expect(log).not.toContain("ui-tests");
    expect(log).not.toContain("docs");
  });

  it("runs a plan a person writes by hand: ids, titles, goals and dependencies only", { timeout: 60_000 }, async () => {
    const box = sandboxes.orchRepo({ "out/.keep": "" });
    const plan = ["tasks:", "  - id: api", "    title: The API", "    goal: write the API", "  - id: ui", "    title: The UI", "    goal: write the UI", "    dependsOn: [api]", ""].join("\n");
    const agentCommand = 'echo done > "out/$ORCH_TASK_ID.txt"';
    const result = await box.orch(["run", "two tasks", "--verify", "test -f out/api.txt", "--plan-file", planFile(box, plan, "plan.yaml"), "--agent-command", agentCommand, "--json"], { timeoutMs: 50_000 });
    expect(result.code, result.stderr).toBe(0);
    const out = parseRunResult(result);
    expect(out.status).toBe("succeeded");
    expect(box.repo.git(["show", `${out.branch}:out/ui.txt`])).toBe("done");
  });
  it("bad plans end in clear errors (exit 2) and nothing is written", async () => {
    const box = sandboxes.orchRepo(FILES);
    const run = (plan: unknown, name?: string) =>
      box.orch(["run", "build the feature", "--verify", "node check.mjs", "--plan-file", planFile(box, plan, name), "--agent-command", agent("plan-task.sh")]);
    const cycle = await run({ tasks: [task("a", ["c"]), task("b", ["a"]), task("c", ["b"])] });
    expect(cycle.code).toBe(2);
    expect(cycle.stderr).toMatch(/cycle/);
    expect(cycle.stderr).toMatch(/dependency cycle: ([abc]) → [abc] → [abc] → \1 /);
    const unknown = await run({ tasks: [task("a", ["nope"])] });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("nope");
    // A wrong field and an unknown dependency are told in one round.
    const both = await run({ tasks: [{ ...task("a", []), risk: "urgent" }, task("b", ["nope"])] });
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/risk/);
    expect(both.stderr).toMatch(/unknown task id "nope"/);
    const duplicate = await run({ tasks: [task("a", []), task("a", [])] });
    expect(duplicate.code).toBe(2);
    expect(duplicate.stderr).toMatch(/duplicate|twice|more than once/i);
    const broken = await run("tasks: [ {", "plan.yaml");
    expect(broken.code).toBe(2);
    const missing = await box.orch(["run", "x", "--verify", "true", "--plan-file", "no-such-plan.yaml", "--agent-command", "true"]);
    expect(missing.code).toBe(2);
    expect(existsSync(join(box.repo.dir, ".orch", "orch.db"))).toBe(false);
    expect(box.repo.git(["branch", "--list", "orch/*"])).toBe("");
  });
});

describe("the scheduler", () => {
  it("a task whose merge is all a more urgent task waits for keeps its slot through the merge", { timeout: 60_000 }, async () => {
    // Two slots. a heads the longest chain (a → c → d); b1 and b2 are long and alone. When a leaves its slot for
    // the merge queue, b2 is ready and c is not (a is not merged yet): given away, the slot would go to b2 and c
    // would wait for b1 or b2 to end. Kept, c starts on a's merge, before b2.
    const box = sandboxes.orchRepo({ "out/.keep": "" });
    const plan = { tasks: [task("a", []), task("b1", []), task("b2", []), task("c", ["a"]), task("d", ["c"])] };
    const agent = `echo "$ORCH_TASK_ID" >> ${JSON.stringify(join(box.out, "order"))}; case "$ORCH_TASK_ID" in b*) sleep 3;; *) sleep 0.3;; esac; echo done > "out/$ORCH_TASK_ID.txt"`;
    const result = await box.orch(["run", "five tasks", "--verify", "true", "--plan-file", planFile(box, plan), "--concurrency", "2", "--agent-command", agent, "--json"], { timeoutMs: 50_000 });
    expect(result.code, result.stderr).toBe(0);
    const order = readFileSync(join(box.out, "order"), "utf8").trim().split("\n");
    expect(order.slice(0, 2).sort()).toEqual(["a", "b1"]);
    expect(order.indexOf("c")).toBeLessThan(order.indexOf("b2"));
  });
});

describe("the merge queue keeps the run branch verified", () => {
  it("a merge that breaks the run's criteria is reverted and the task sent back; it adapts and is merged", { timeout: 120_000 }, async () => {
    // Fails when b's work was written without a's while a's is there too.
    const together = `import { existsSync, readFileSync } from "node:fs";
if (existsSync("out/a.txt") && existsSync("out/b.txt") && readFileSync("out/b.txt", "utf8").trim() !== "with a") { console.log("b does not know a"); process.exit(1); }
console.log("ok");
`;
    const box = sandboxes.orchRepo({ "together.mjs": together });
    const plan = { tasks: [task("a", [], { priority: 2, verify: [] }), task("b", [], { verify: [] })] };
    const result = await box.orch(
      ["run", "two features", "--verify", "node together.mjs", "--plan-file", planFile(box, plan), "--concurrency", "2", "--agent-command", agent("adaptive-task.sh"), "--json"],
      { timeoutMs: 110_000 },
    );
    expect(result.code, result.stderr).toBe(0);
    const out = parseRunResult(result);
    const journal = readJournal(box.repo, out.runId);
    const reverted = journal.events.filter((e) => e.type === "task.reverted");
    expect(reverted).toHaveLength(1);
    expect(JSON.stringify(reverted[0]?.data)).toContain("b does not know a");
    // The run branch: a, b's merge, its revert, b again; what it holds passes the criterion.
    expect(firstParents(box, out.branch)).toEqual([
      "orch: integrate task a into the run",
      "orch: integrate task b into the run",
      "orch: revert the integration of task b",
      "orch: integrate task b into the run",
    ]);
    expect(box.repo.git(["show", `${out.branch}:out/b.txt`])).toBe("with a");
    // b's second attempt was told why it was sent back.
    expect(readFileSync(join(box.out, "log"), "utf8").split("\n").filter((l) => l.startsWith("b "))).toEqual(["b attempt 1", "b attempt 2"]);
    expect(readFileSync(join(box.out, "prompt.b.2"), "utf8")).toMatch(/merged into the run branch orch\/\S+\/_run, and the run's criteria failed there, so the merge was reverted: `node together.mjs` exited 1: b does not know a/);
  });
});

describe("a planned run and its supervisor's death", () => {
  it("SIGKILLed mid-graph, resumed: finished tasks are not run again, the graph converges with one merge per task", { timeout: 150_000 }, async () => {
    const box = sandboxes.orchRepo(FILES, { TASK_SLEEP: "1" });
    const started = await box.orch(["run", "build the feature", "--verify", "node check.mjs", "--plan-file", planFile(box, PLAN), "--concurrency", "2", "--agent-command", agent("plan-task.sh"), "--detach"]);
    expect(started.code, started.stderr).toBe(0);
    const runId = /^Run (\S+) is running/m.exec(started.stdout)?.[1] ?? "";
    // Kill it once setup is merged and the two branches are under way.
    const view = await waitFor("setup to be integrated and api to run", async () => {
      const v = await box.status(runId);
      return v.tasks.find((t) => t.id === "setup")?.status === "succeeded" && v.now !== null ? v : undefined;
    }, 60_000);
    expect(view.next).toMatch(/task\(s\) wait for their dependencies$/);
    await killSupervisor(view.pid);
    const ended = await resumeToEnd(box, runId, 120_000);
    const journal = readJournal(box.repo, runId);
    expect(ended.status, `${ended.reason ?? ""}\n${journal.attempts.map((a) => `${a.id}: ${a.status} ${a.exit_reason} ${JSON.stringify(a.failure)}`).join("\n")}\n${readFileSync(join(box.repo.dir, ".orch", "logs", runId, "orch.log"), "utf8").slice(-3000)}`).toBe("succeeded");
    expect(journal.events.filter((e) => e.type === "task.integrated")).toHaveLength(6);
    expect(firstParents(box, `orch/${runId}/_run`)).toHaveLength(6);
    // setup ran once: it had finished before the kill.
    const log = readFileSync(join(box.out, "log"), "utf8").split("\n").filter(Boolean);
    expect(log.filter((l) => l.startsWith("setup "))).toEqual(["setup attempt 1"]);
    expect(await leftoverProcesses(box.repo.root)).toEqual([]);
  });
});

describe("a supervisor that dies while the run branch is verified", () => {
  it("leaves a merge the next one verifies before it counts: here it breaks the run, so it is reverted and the task sent back", { timeout: 120_000 }, async () => {
    // The run's criterion, on the run branch only: the first time, it hangs (the test kills the supervisor then);
    // after that, a's first try fails it. Everywhere else it passes.
    const gate = `import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
const branch = execFileSync("git", ["rev-parse", "--abbrev-ref", "HEAD"], { encoding: "utf8" }).trim();
if (!branch.endsWith("/_run") || !existsSync("out/a.txt")) process.exit(0);
const marker = process.env.AGENT_OUT + "/verifying";
if (!existsSync(marker)) { writeFileSync(marker, String(process.pid)); setInterval(() => {}, 1000); }
else if (readFileSync("out/a.txt", "utf8").trim() === "a attempt 1") { console.log("a's first try breaks the run branch"); process.exit(1); }
`;
    const box = sandboxes.orchRepo({ "gate.mjs": gate, "orch.config.yaml": VERIFY_EVERY_MERGE });
    const plan = { tasks: [task("a", []), task("b", ["a"])] };
    const agent = `mkdir -p out; echo "$ORCH_TASK_ID attempt $ORCH_ATTEMPT" | tee -a "$AGENT_OUT/log" > "out/$ORCH_TASK_ID.txt"`;
    const started = await box.orch(["run", "two tasks", "--verify", "node gate.mjs", "--plan-file", planFile(box, plan), "--agent-command", agent, "--detach"]);
    expect(started.code, started.stderr).toBe(0);
    const runId = /^Run (\S+) is running/m.exec(started.stdout)?.[1] ?? "";
    const marker = join(box.out, "verifying");
    const gatePid = Number(await waitFor("a's merge to be verified on the run branch", () => (existsSync(marker) ? readFileSync(marker, "utf8") || undefined : undefined), 60_000));
    await killSupervisor((await box.status(runId)).pid);
    // a's merge is on the run branch, not verified.
    expect(firstParents(box, `orch/${runId}/_run`)).toEqual(["orch: integrate task a into the run"]);
    expect(isRunning(gatePid)).toBe(true);
    const firstMerge = box.repo.git(["rev-parse", `orch/${runId}/_run`]);

    const ended = await resumeToEnd(box, runId);
    expect(ended.status, ended.reason ?? "").toBe("succeeded");
    // The verify the dead supervisor left hanging was stopped; the merge was verified again, failed, was reverted.
    expect(isRunning(gatePid)).toBe(false);
    const journal = readJournal(box.repo, runId);
    const reverted = journal.events.filter((e) => e.type === "task.reverted");
    expect(reverted).toHaveLength(1);
    expect(JSON.stringify(reverted[0]?.data)).toContain("a's first try breaks the run branch");
    // The takeover found a's unverified merge at the tip and journaled it before settling it.
    const found = journal.events.filter((e) => e.type === "task.merge-found");
    expect(found.map((e) => [e.data, e.seq < (reverted[0]?.seq ?? 0)])).toEqual([[{ merge: firstMerge, reverted: false }, true]]);
    expect(firstParents(box, `orch/${runId}/_run`)).toEqual([
      "orch: integrate task a into the run",
      "orch: revert the integration of task a",
      "orch: integrate task a into the run",
      "orch: integrate task b into the run",
    ]);
    expect(box.repo.git(["log", "-1", "--format=%b", `orch/${runId}/_run~2`])).toMatch(/^The run's criteria failed on the run branch after the merge: `node gate.mjs` exited 1: a's first try breaks the run branch/);
    expect(readFileSync(join(box.out, "log"), "utf8").trim().split("\n")).toEqual(["a attempt 1", "a attempt 2", "b attempt 1"]);
    expect(box.repo.git(["show", `orch/${runId}/_run:out/a.txt`])).toBe("a attempt 2");
    expect(await leftoverProcesses(box.repo.root)).toEqual([]);
  });
});

describe("a supervisor that dies while an integrator resolves a conflict", () => {
  it("leaves a merge in progress that the next one aborts; the task is merged again and a new integrator resolves it", { timeout: 120_000 }, async () => {
    // a and b both add a line to CHANGELOG.md side by side; the first integrator hangs until the test kills the
    // supervisor, the next one keeps both lines.
    const box = sandboxes.orchRepo({ "CHANGELOG.md": "# Changelog\n" });
    const plan = { tasks: [task("a", [], { verify: [] }), task("b", [], { verify: [] })] };
    const agent = `case "$ORCH_TASK_ID" in
  *--merge*)
    if [ ! -f "$AGENT_OUT/integrating" ]; then echo $$ > "$AGENT_OUT/integrating"; sleep 60; fi
    grep -v -E '^(<<<<<<<|=======|>>>>>>>)' CHANGELOG.md > CHANGELOG.tmp && mv CHANGELOG.tmp CHANGELOG.md ;;
  *)
    echo "$ORCH_TASK_ID attempt $ORCH_ATTEMPT" >> "$AGENT_OUT/log"
    mkdir -p out && echo "$ORCH_TASK_ID done" > "out/$ORCH_TASK_ID.txt" && echo "- $ORCH_TASK_ID" >> CHANGELOG.md ;;
esac`;
    const started = await box.orch(["run", "two tasks", "--verify", "true", "--plan-file", planFile(box, plan), "--concurrency", "2", "--agent-command", agent, "--detach"]);
    expect(started.code, started.stderr).toBe(0);
    const runId = /^Run (\S+) is running/m.exec(started.stdout)?.[1] ?? "";
    const marker = join(box.out, "integrating");
    const integratorPid = Number(await waitFor("the integrator to start", () => (existsSync(marker) ? readFileSync(marker, "utf8").trim() || undefined : undefined), 60_000));
    await killSupervisor((await box.status(runId)).pid);
    // The run branch's worktree holds the merge in progress, conflict markers and all.
    const integration = join(box.repo.runWorktrees, runId, "_run");
    expect(readFileSync(join(integration, "CHANGELOG.md"), "utf8")).toContain("<<<<<<<");

    const ended = await resumeToEnd(box, runId);
    expect(ended.status, ended.reason ?? "").toBe("succeeded");
    expect(isRunning(integratorPid)).toBe(false);
    const journal = readJournal(box.repo, runId);
    const integrators = journal.tasks.filter((t) => t.id.includes("--merge")).map((t) => [t.id.replace(/^[ab]/, "X"), t.status]);
    expect(integrators).toEqual([["X--merge", "stopped"], ["X--merge-2", "succeeded"]]);
    const branch = `orch/${runId}/_run`;
    expect(firstParents(box, branch).map((subject) => subject.replace(/task [ab] /, "task X "))).toEqual(["orch: integrate task X into the run", "orch: integrate task X into the run"]);
    expect(box.repo.git(["show", `${branch}:CHANGELOG.md`]).split("\n").sort()).toEqual(["# Changelog", "- a", "- b"]);
    expect(readFileSync(join(box.out, "log"), "utf8").trim().split("\n").sort()).toEqual(["a attempt 1", "b attempt 1"]);
    expect(await leftoverProcesses(box.repo.root)).toEqual([]);
  });
});

describe("Ctrl-C while the run branch is verified", () => {
  it("is no failure: the merge is taken back unverified, nothing is reverted, and resume merges it again", { timeout: 90_000 }, async () => {
    // The run's criterion hangs on the run branch once a's work is there, until the test has pressed Ctrl-C.
    const gate = `import { execFileSync } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
const branch = execFileSync("git", ["rev-parse", "--abbrev-ref", "HEAD"], { encoding: "utf8" }).trim();
const marker = process.env.AGENT_OUT + "/verifying";
if (branch.endsWith("/_run") && existsSync("out/a.txt") && !existsSync(marker)) { writeFileSync(marker, ""); setInterval(() => {}, 1000); }
`;
    const box = sandboxes.orchRepo({ "gate.mjs": gate, "orch.config.yaml": VERIFY_EVERY_MERGE });
    const plan = { tasks: [task("a", []), task("b", ["a"])] };
    const agent = `mkdir -p out; echo "$ORCH_TASK_ID attempt $ORCH_ATTEMPT" | tee -a "$AGENT_OUT/log" > "out/$ORCH_TASK_ID.txt"`;
    const args = ["run", "two tasks", "--verify", "node gate.mjs", "--plan-file", planFile(box, plan), "--agent-command", agent, "--json"];
    const cli = box.start(args);
    await waitFor("a's merge to be verified on the run branch", () => (existsSync(join(box.out, "verifying")) ? true : undefined), 60_000);
    cli.signal("SIGINT");
    const result = await cli.done;
    expect(result.code, result.stderr).toBe(130);
    const out = parseRunResult(result);
    expect(out.status).toBe("paused");
    // Nothing reached the run branch, and nothing was held against a.
    expect(box.repo.git(["rev-list", "--count", `${box.repo.headSha}..${out.branch}`])).toBe("0");
    expect(readJournal(box.repo, out.runId).events.filter((e) => e.type === "task.reverted")).toHaveLength(0);

    const resumed = await box.orch(["resume", out.runId, "--json"]);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(parseRunResult(resumed).status).toBe("succeeded");
    expect(firstParents(box, out.branch)).toEqual(["orch: integrate task a into the run", "orch: integrate task b into the run"]);
    // a's work was done once: its success stood through the interruption.
    expect(readFileSync(join(box.out, "log"), "utf8").trim().split("\n")).toEqual(["a attempt 1", "b attempt 1"]);
  });
});

describe("when a run is planned", () => {
  it("a goal that lists several items is planned by default; --no-plan runs it as one task", { timeout: 60_000 }, async () => {
    const box = sandboxes.orchRepo(FILES);
    const goal = "Ship the release:\n- bump the version\n- write the changelog";
    const planned = await box.orch(["run", goal, "--verify", "node check.mjs", "--agent-command", agent("planner.sh"), "--json"]);
    expect(planned.code, planned.stderr).toBe(1);
    const out = parseRunResult(planned);
    expect(out.reason).toMatch(/^the planner did not answer with a valid plan in 3 tries.*\. `orch run --no-plan` runs the goal as one task, without a plan$/);
    expect(readJournal(box.repo, out.runId).tasks.map((t) => t.id)).toEqual(["plan"]);
    const single = await box.orch(["run", goal, "--verify", "true", "--agent-command", "true", "--no-plan", "--json"]);
    expect(single.code, single.stderr).toBe(0);
    const one = parseRunResult(single);
    expect(readJournal(box.repo, one.runId).tasks.map((t) => t.id)).toEqual(["ship-the-release-bump-the"]);
    // One line is one task.
    const line = await box.orch(["run", "bump the version and write the changelog", "--verify", "true", "--agent-command", "true", "--json"]);
    expect(readJournal(box.repo, parseRunResult(line).runId).tasks).toHaveLength(1);
  });
});

describe("goals as people write them", () => {
  it("a goal that starts with a dash is the goal, for run and for plan, wherever the options stand", { timeout: 60_000 }, async () => {
    const box = sandboxes.orchRepo(FILES, { PLAN_JSON: JSON.stringify(PLAN) });
    const goal = "- bump the version\n- write the changelog";
    const planned = await box.orch(["plan", goal, "--agent-command", agent("planner.sh"), "--json"]);
    expect(planned.code, planned.stderr).toBe(0);
    expect(JSON.parse(planned.stdout)).toMatchObject({ tasks: PLAN.tasks.map((t) => ({ id: t.id })) });
    const run = await box.orch(["run", "--verify", "true", goal, "--agent-command", "true", "--no-plan", "--json"]);
    expect(run.code, run.stderr).toBe(0);
    expect((await box.status(parseRunResult(run).runId)).goal).toBe(goal);
  });
});

describe("a supervisor that dies while the planner plans", () => {
  it("leaves a run the next one plans again: the hung planner is stopped, the plan is made once, every task runs once", { timeout: 90_000 }, async () => {
    const plan = { tasks: [task("a", [], { verify: [] }), task("b", ["a"], { verify: [] })] };
    const box = sandboxes.orchRepo({ "CHANGELOG.md": "# Changelog\n" }, { PLAN_JSON: JSON.stringify(plan) });
    // The planner hangs the first time, until the test has killed the supervisor; the tasks write their files.
    const agent = `if [ "$ORCH_TASK_ID" = plan ]; then
  cat > /dev/null
  [ -e "$AGENT_OUT/planning" ] || { echo $$ > "$AGENT_OUT/planning"; exec sleep 60; }
  echo "$PLAN_JSON"
else
  echo "$ORCH_TASK_ID" >> "$AGENT_OUT/log"; mkdir -p out && echo "$ORCH_TASK_ID done" > "out/$ORCH_TASK_ID.txt"
fi`;
    const started = await box.orch(["run", "two tasks", "--verify", "true", "--plan", "--agent-command", agent, "--detach"]);
    expect(started.code, started.stderr).toBe(0);
    const runId = /^Run (\S+) is running/m.exec(started.stdout)?.[1] ?? "";
    const marker = join(box.out, "planning");
    const planner = Number(await waitFor("the planner to start", () => (existsSync(marker) ? readFileSync(marker, "utf8").trim() || undefined : undefined), 30_000));
    await killSupervisor((await box.status(runId)).pid);

    const ended = await resumeToEnd(box, runId);
    expect(ended.status, ended.reason ?? "").toBe("succeeded");
    expect(isRunning(planner)).toBe(false);
    const journal = readJournal(box.repo, runId);
    expect(Object.fromEntries(journal.tasks.map((t) => [t.id, t.status]))).toEqual({ plan: "succeeded", a: "succeeded", b: "succeeded" });
    expect(journal.events.filter((e) => e.type === "task.created").length).toBe(3);
    expect(journal.attempts.filter((a) => a.id.includes(".plan.")).map((a) => a.status)).toEqual(["failed", "succeeded"]);
    expect(readFileSync(join(box.out, "log"), "utf8").trim().split("\n")).toEqual(["a", "b"]);
    expect(firstParents(box, `orch/${runId}/_run`)).toEqual(["orch: integrate task a into the run", "orch: integrate task b into the run"]);
    expect(await leftoverProcesses(box.repo.root)).toEqual([]);
  });
});

describe("orch plan", () => {
  it("shows the planner's plan in an order it can run and saves it as a plan file; nothing is journaled", { timeout: 60_000 }, async () => {
    const box = sandboxes.orchRepo(FILES, { PLAN_JSON: JSON.stringify(PLAN) });
    const shown = await box.orch(["plan", "build the feature", "--verify", "node check.mjs", "--agent-command", agent("planner.sh"), "--out", "plan.yaml"]);
    expect(shown.code, shown.stderr).toBe(0);
    const lines = shown.stdout.split("\n");
    expect(lines[0]).toBe("6 task(s), in an order they can run:");
    expect(lines.filter((l) => /^  #\d /.test(l)).map((l) => l.trim().split(":")[0])).toEqual(["#1 setup", "#2 api", "#3 ui", "#4 api-tests", "#5 ui-tests", "#6 docs"]);
    expect(shown.stdout).toContain("#6 docs: make docs (after #4 api-tests, #5 ui-tests)");
    expect(existsSync(join(box.repo.dir, ".orch", "orch.db"))).toBe(false);
    // The saved plan runs as it is.
    const run = await box.orch(["run", "build the feature", "--verify", "node check.mjs", "--plan-file", "plan.yaml", "--agent-command", agent("plan-task.sh")], { timeoutMs: 110_000 });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^✔ succeeded: all 6 tasks integrated into orch\/(\S+)\/_run; the run's criteria pass there\n {2}branch to merge: orch\/\1\/_run\n/);
    const json = await box.orch(["plan", "build the feature", "--agent-command", agent("planner.sh"), "--json"]);
    expect(JSON.parse(json.stdout)).toMatchObject({ tasks: PLAN.tasks.map((t) => ({ id: t.id, dependsOn: t.dependsOn })) });
  });

  it("a planner that never answers with a plan: exit 1, saying so after three tries", async () => {
    const box = sandboxes.orchRepo(FILES);
    const result = await box.orch(["plan", "build the feature", "--agent-command", agent("planner.sh")]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^orch: the planner did not answer with a valid plan in 3 tries; the last answer's problems: /);
    expect((await box.orch(["plan", "  ", "--agent-command", agent("planner.sh")])).code).toBe(2);
  });

  it("a planner whose binary is not there: said at once, naming the binary, no three tries", async () => {
    const box = sandboxes.orchRepo(FILES);
    // A path relative to where the agent runs is not checked ahead; the spawn fails.
    writeFileSync(join(box.repo.dir, "orch.config.yaml"), "agents:\n  claude-code:\n    bin: ./no-such-dir/claude\n");
    const result = await box.orch(["plan", "build the feature"]);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe("orch: the claude-code agent's binary `./no-such-dir/claude` was not found; install it or choose another with --planner\n");
  });
});
