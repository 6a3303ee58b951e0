// The approval gate end to end, through the built CLI: a task whose change is high risk (CI configuration, a
// Dockerfile) is held for a human instead of merged; the run waits (exit 3) only when nothing else can move;
// `orch approve` lets the commit on (a live supervisor merges it at once, a waiting run on `orch resume`);
// `orch reject` fails the task and blocks its dependents; bad decisions are refused with nothing written.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { parseRunResult, waitFor } from "./support/cli.js";
import { readJournal, useSandboxes, type OrchSandbox } from "./support/e2e.js";
import { startWebhookServer, type WebhookServer } from "./support/webhook-server.js";

const sandboxes = useSandboxes({ prefix: "orch-cli-approval-", graceMs: 3_000 });
const servers: WebhookServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});
const Notice = z.object({ kind: z.string(), resolved: z.boolean(), items: z.array(z.object({ task: z.string().optional(), status: z.string(), reason: z.string() })) });

const FILES = { "README.md": "# app\n" };
const CI = ["run", "add CI", "--verify", "test -f .github/workflows/ci.yml", "--agent-command", "mkdir -p .github/workflows && echo 'on: push' > .github/workflows/ci.yml", "--json"];

const Status = z
  .object({
    status: z.string(),
    reason: z.string().nullable(),
    decisions: z.object({ autonomous: z.number(), human: z.number(), held: z.number() }),
    tasks: z.array(z.object({ id: z.string(), status: z.string(), held: z.string().nullable() }).loose()),
  })
  .loose();
const statusOf = async (box: OrchSandbox, runId: string) => {
  const result = await box.orch(["status", runId, "--json"]);
  expect(result.code, result.stderr).toBe(0);
  return Status.parse(JSON.parse(result.stdout));
};
const eventCount = (box: OrchSandbox, runId: string) => readJournal(box.repo, runId).events.length;

/** A run of one task that adds CI configuration: high risk, so it ends waiting for a human. */
async function heldRun(box: OrchSandbox) {
  const result = await box.orch(CI);
  expect(result.code, result.stderr).toBe(3);
  const run = parseRunResult(result);
  expect(run.status).toBe("waiting");
  return run;
}

/**
 * A plan of three tasks: `docker` adds a Dockerfile (high risk, held), `slow` works `slowSeconds` beside it, `after`
 * depends on `docker`; and the command agent that does each.
 */
function dockerPlan(slowSeconds: number) {
  const agent = `sh -c 'case "$ORCH_TASK_ID" in docker) echo "FROM node:20" > Dockerfile;; slow) sleep ${slowSeconds}; echo b > slow.txt;; after) echo c > after.txt;; esac'`;
  const task = (id: string, file: string, dependsOn: string[]) => ({ id, title: id, goal: `write ${file}`, acceptance: [file], files: [file], dependsOn, verify: [`test -f ${file}`] });
  return { agent, plan: { tasks: [task("docker", "Dockerfile", []), task("slow", "slow.txt", []), task("after", "after.txt", ["docker"])] } };
}

describe("the approval gate", () => {
  it("holds a high-risk commit for a human: the run waits, nothing is merged; approved, `orch resume` merges it", async () => {
    const box = sandboxes.orchRepo(FILES);
    const run = await heldRun(box);
    expect(run.reason).toMatch(/waiting for a human to approve or reject (\S+) \(high risk: a human must approve \(not reviewed\)\)/);
    expect(box.repo.git(["rev-parse", run.branch])).toBe(box.repo.headSha);

    const [task] = (await statusOf(box, run.runId)).tasks;
    const status = await statusOf(box, run.runId);
    expect(status.decisions).toEqual({ autonomous: 0, human: 0, held: 1 });
    expect(task?.held).toMatch(/^waits for a human to approve [0-9a-f]{12}: high risk/);
    const text = (await box.orch(["status", run.runId])).stdout;
    expect(text).toContain(`orch approve ${run.runId}/${task?.id ?? ""}`);

    const approved = await box.orch(["approve", `${run.runId}/${task?.id ?? ""}`, "--reason", "CI is fine"]);
    expect(approved.code, approved.stderr).toBe(0);
    // What was decided on is shown first: the diff stat, the rule that fired, the review.
    expect(approved.stdout).toContain(".github/workflows/ci.yml");
    expect(approved.stdout).toMatch(/rule {4}high ci: CI configuration \(\.github\/workflows\/ci\.yml/);
    expect(approved.stdout).toContain("review  none");
    expect(approved.stdout).toMatch(/approved by .+ \(orch approve\): CI is fine; `orch resume \S+` merges it and goes on/);
    // Approved twice: it is held no more, and nothing is written.
    const before = eventCount(box, run.runId);
    const again = await box.orch(["approve", `${run.runId}/${task?.id ?? ""}`]);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain("is not waiting for a human's approval: it is running");
    expect(eventCount(box, run.runId)).toBe(before);

    const resumed = await box.orch(["resume", run.runId, "--json"]);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(parseRunResult(resumed).status).toBe("succeeded");
    expect(box.repo.git(["show", `${run.branch}:.github/workflows/ci.yml`])).toBe("on: push");
    expect((await statusOf(box, run.runId)).decisions).toEqual({ autonomous: 0, human: 1, held: 0 });
    const report = (await box.orch(["report", run.runId])).stdout;
    expect(report).toContain("## Approval");
    expect(report).toContain("0 decision(s) made by orch on its own, 1 by a human (0% autonomous).");
    expect(report).toMatch(/approved by .+: CI is fine/);
  });

  it("rejected, the task fails with the reason and nothing reaches the run branch; a rejection needs a reason", async () => {
    const box = sandboxes.orchRepo(FILES);
    const run = await heldRun(box);
    const [task] = (await statusOf(box, run.runId)).tasks;
    const ref = `${run.runId}/${task?.id ?? ""}`;
    const before = eventCount(box, run.runId);
    const bare = await box.orch(["reject", ref]);
    expect(bare.code).toBe(2);
    expect(bare.stderr).toContain("a rejection needs a reason");
    expect(eventCount(box, run.runId)).toBe(before);

    const rejected = await box.orch(["reject", ref, "--reason", "no CI changes this week"]);
    expect(rejected.code, rejected.stderr).toBe(0);
    const resumed = await box.orch(["resume", run.runId, "--json"]);
    expect(resumed.code, resumed.stderr).toBe(1);
    expect(parseRunResult(resumed).reason).toMatch(/rejected by .+ \(orch reject\): no CI changes this week/);
    expect(box.repo.git(["rev-parse", run.branch])).toBe(box.repo.headSha);
    const journal = readJournal(box.repo, run.runId);
    expect(journal.tasks[0]?.status).toBe("failed");
  });

  it("blocks only its dependents: the rest of the plan goes on, and a live supervisor merges the commit once approved", async () => {
    const { agent, plan } = dockerPlan(8);
    const box = sandboxes.orchRepo({ ...FILES, "plan.json": JSON.stringify(plan) });
    // A webhook told of waits: the held commit is announced, and its approval resolves the wait while the run goes on.
    const hook = await startWebhookServer();
    servers.push(hook);
    writeFileSync(join(box.repo.dir, "orch.config.yaml"), `notify:\n  webhooks:\n    - url: ${hook.url("/h")}\n      events: [task.waiting]\n`);
    const started = await box.orch(["run", "build it", "--verify", "true", "--plan-file", "plan.json", "--agent-command", agent, "--concurrency", "2", "--detach"]);
    expect(started.code, started.stderr).toBe(0);
    const runId = /^Run (\S+) is running in the background/m.exec(started.stdout)?.[1] ?? "";
    // The Dockerfile is held while the slow task still runs; its dependent has not started.
    const held = await waitFor("the Dockerfile to be held", async () => {
      const view = await statusOf(box, runId);
      return view.tasks.find((t) => t.id === "docker")?.held != null ? view : undefined;
    });
    expect(held.tasks.find((t) => t.id === "slow")?.status).toBe("running");
    expect(held.tasks.find((t) => t.id === "after")?.status).toBe("pending");
    const approved = await box.orch(["approve", `${runId}/docker`]);
    expect(approved.code, approved.stderr).toBe(0);
    expect(approved.stdout).toMatch(/its supervisor \(pid \d+\) merges it now/);
    const ended = await waitFor(
      "the run to end",
      async () => {
        const view = await statusOf(box, runId);
        return ["succeeded", "failed", "waiting", "stopped"].includes(view.status) ? view : undefined;
      },
      60_000,
    );
    // No resume was needed: the supervisor that held it merged it, then ran its dependent.
    expect(ended.status).toBe("succeeded");
    expect(ended.decisions).toEqual({ autonomous: 2, human: 1, held: 0 });
    const journal = readJournal(box.repo, runId);
    expect(journal.events.filter((e) => e.type === "run.resumed")).toEqual([]);
    expect(box.repo.git(["show", `orch/${runId}/_run:Dockerfile`])).toBe("FROM node:20");
    const notices = hook.requests.map((r) => Notice.parse(JSON.parse(r.body)));
    expect(notices.map((n) => [n.kind, n.resolved, n.items.map((i) => [i.task, i.status])])).toEqual([
      ["task.waiting", false, [["docker", "held for a human (high risk)"]]],
      ["task.waiting", true, [["docker", "resolved"]]],
    ]);
    expect(notices[1]?.items[0]?.reason).toMatch(/^approved by /);
  });

  it("approval.rejectAfter: a held commit no human decided on in time is rejected by orch when the run goes on", async () => {
    const box = sandboxes.orchRepo(FILES);
    writeFileSync(join(box.repo.dir, "orch.config.yaml"), "approval:\n  rejectAfter:\n    high: 1s\n");
    box.repo.git(["add", "orch.config.yaml"]);
    box.repo.git(["commit", "-q", "-m", "config"]);
    const base = box.repo.git(["rev-parse", "HEAD"]);
    const run = await heldRun(box);
    await new Promise((resolve) => setTimeout(resolve, 1_200));
    const resumed = await box.orch(["resume", run.runId, "--json"]);
    expect(resumed.code, resumed.stderr).toBe(1);
    expect(parseRunResult(resumed).reason).toBe("rejected by orch: no human approved it within 1s (high risk; approval.rejectAfter)");
    expect(box.repo.git(["rev-parse", run.branch])).toBe(base);
    // Orch's rejection is an autonomous decision.
    expect((await statusOf(box, run.runId)).decisions).toEqual({ autonomous: 1, human: 0, held: 0 });
  });

  it("approval.rejectAfter while other work runs: the supervisor itself rejects the held commit on time", async () => {
    const { agent, plan } = dockerPlan(5);
    const box = sandboxes.orchRepo({ ...FILES, "plan.json": JSON.stringify(plan), "orch.config.yaml": "approval:\n  rejectAfter:\n    high: 1s\n" });
    const result = await box.orch(["run", "build it", "--verify", "true", "--plan-file", "plan.json", "--agent-command", agent, "--concurrency", "2", "--json"]);
    // Not waiting: nothing was left for a human once orch rejected the Dockerfile while the slow task still ran.
    expect(result.code, result.stderr).toBe(1);
    const run = parseRunResult(result);
    const journal = readJournal(box.repo, run.runId);
    const types = journal.events.map((e) => e.type);
    expect(types).not.toContain("run.waiting");
    const rejected = journal.events.find((e) => e.type === "task.rejected");
    expect(rejected?.data).toMatchObject({ by: "orch", reason: "no human approved it within 1s (high risk; approval.rejectAfter)" });
    // It was rejected while the slow task's agent still worked: the supervisor woke for it, no job ending woke it.
    const slowDone = journal.events.findIndex((e) => e.type === "attempt.finished" && (e.attempt_id ?? "").endsWith(".slow.1"));
    expect(slowDone).toBeGreaterThan(0);
    expect(journal.events.findIndex((e) => e.type === "task.rejected")).toBeLessThan(slowDone);
    expect(Object.fromEntries(journal.tasks.map((t) => [t.id, t.status]))).toEqual({ docker: "failed", slow: "succeeded", after: "blocked" });
  });

  it("refuses a decision on what is not held, with nothing written", async () => {
    const box = sandboxes.orchRepo(FILES);
    const done = await box.orch(["run", "write done.txt", "--verify", "test -f done.txt", "--agent-command", "echo ok > done.txt", "--json"]);
    expect(done.code, done.stderr).toBe(0);
    const run = parseRunResult(done);
    const [task] = (await statusOf(box, run.runId)).tasks;
    // A low-risk change went on by itself.
    expect((await statusOf(box, run.runId)).decisions).toEqual({ autonomous: 1, human: 0, held: 0 });
    const before = eventCount(box, run.runId);
    const notHeld = await box.orch(["approve", `${run.runId}/${task?.id ?? ""}`]);
    expect(notHeld.code).toBe(2);
    expect(notHeld.stderr).toContain("is not waiting for a human's approval: it is succeeded");
    const noTask = await box.orch(["approve", run.runId]);
    expect(noTask.code).toBe(2);
    expect(noTask.stderr).toContain("names no task");
    const unknown = await box.orch(["reject", `${run.runId}/nope`, "--reason", "x"]);
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toContain('has no task "nope"');
    expect(eventCount(box, run.runId)).toBe(before);
  });
});
