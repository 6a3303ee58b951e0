// End to end: the whole-run review before delivery. A planned run of two tasks, a `command` agent implementing, the
// real Claude Code CLI (scripted through the model server) reviewing each task's commit and then the run branch's
// whole diff against its base. Blocking findings come back as a task of fixes, which the scheduler drives and the
// task's reviewer judges like any other; the new tip is reviewed again. Findings that still block after the bound
// hold the delivery, and `orch deliver` delivers the run as it stands when a human says so.
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseRunResult, runOrch } from "./support/cli.js";
import { readJournal, useSandboxes, withClaude } from "./support/e2e.js";
import { anthropicLastUserText } from "./support/model-server/anthropic.js";
import type { Script } from "./support/model-server/server.js";

const sandboxes = useSandboxes({ prefix: "orch-e2e-run-review-", graceMs: 3_000 });

/** Writes a file named after its task: a.txt, b.txt, and fix.txt for a task of fixes. */
const AGENT = `sh -c 'case "$ORCH_TASK_ID" in a) echo a > a.txt;; b) echo b > b.txt;; _fix-*) echo fixed > fix.txt;; esac'`;
const task = (id: string) => ({ id, title: `write ${id}.txt`, goal: `write ${id}.txt`, acceptance: [`${id}.txt exists`], files: [`${id}.txt`], dependsOn: [], verify: [`test -f ${id}.txt`] });
const PLAN = { tasks: [task("a"), task("b")] };

const verdict = (value: "approve" | "request_changes", findings: object[] = [], summary = "checked the change") =>
  `I read the diff.\n\n\`\`\`json\n${JSON.stringify({ verdict: value, summary, findings })}\n\`\`\``;
const missing = { file: "fix.txt", severity: "P1", confidence: 0.9, what: "the run never writes fix.txt", why: "the goal asks for it" };
const TASK_REVIEW = "You are the reviewer of a change";
const RUN_REVIEW = "You are the reviewer of a whole run";

async function reviewedPlan(script: Script, agent = AGENT) {
  const { repo, server, env } = await withClaude(sandboxes, { "plan.json": JSON.stringify(PLAN) }, script);
  const bare = join(repo.root, "origin.git");
  repo.git(["init", "--quiet", "--bare", bare], repo.root);
  repo.git(["remote", "add", "origin", bare]);
  repo.git(["push", "--quiet", "--set-upstream", "origin", repo.branch]);
  const args = ["run", "write a.txt, b.txt and fix.txt", "--verify", "true", "--plan-file", "plan.json", "--agent-command", agent, "--reviewer", "claude-code", "--concurrency", "1", "--json"];
  const result = await runOrch(args, { cwd: repo.dir, env, timeoutMs: 150_000 });
  return { repo, server, env, bare, result, run: parseRunResult(result) };
}

const Delivered = (events: { type: string; data: unknown }[]) => events.filter((e) => e.type === "run.delivered").map((e) => e.data as { outcome: string; reason?: string });

describe("the whole-run review before delivery", () => {
  it("sends blocking findings back as a task of fixes, reviews the new tip, and delivers once it approves", { timeout: 200_000 }, async () => {
    const { repo, server, env, bare, result, run } = await reviewedPlan([
      { match: TASK_REVIEW, text: verdict("approve") },
      { match: TASK_REVIEW, text: verdict("approve") },
      { match: RUN_REVIEW, text: verdict("request_changes", [missing], "fix.txt is missing") },
      { match: TASK_REVIEW, text: verdict("approve") },
      { match: "Report only what blocks delivery now", text: verdict("approve") },
    ]);
    expect(result.code, result.stderr).toBe(0);
    expect(server.problems()).toEqual([]);
    expect(server.remaining()).toEqual([]);
    expect(run.status).toBe("succeeded");

    // The first whole-run review read the whole diff against the base: both tasks' files.
    const first = anthropicLastUserText(server.modelRequests()[2]?.body);
    expect(first).toContain(`## The whole change: ${repo.headSha.slice(0, 12)}..`);
    expect(first).toContain("+++ b/a.txt");
    expect(first).toContain("+++ b/b.txt");
    // The second was told what blocked the first, and only P0–P1 may block now.
    const second = anthropicLastUserText(server.modelRequests()[4]?.body);
    expect(second).toContain("the run never writes fix.txt");
    expect(second).toContain("+++ b/fix.txt");

    const journal = readJournal(repo, run.runId);
    expect(journal.tasks.map((t) => [t.id, t.role, t.status]).sort()).toEqual([
      ["_fix-1", "implementer", "succeeded"],
      ["_review-1", "reviewer", "succeeded"],
      ["_review-2", "reviewer", "succeeded"],
      ["a", "implementer", "succeeded"],
      ["b", "implementer", "succeeded"],
    ]);
    // The task of fixes was told the findings, and its work reached the run branch.
    expect(journal.tasks.find((t) => t.id === "_fix-1")?.goal).toContain("P1 fix.txt (confidence 0.9): the run never writes fix.txt — the goal asks for it");
    expect(repo.git(["show", `${run.branch}:fix.txt`])).toBe("fixed");
    // Each whole-run verdict names the tip it judged; the approved one is the tip that was pushed.
    const tip = repo.git(["rev-parse", run.branch]);
    const verdicts = journal.events.flatMap((e) => {
      const review = e.type === "attempt.finished" && e.task_id?.startsWith("_review-") === true ? (e.data as { review?: { commit: string; approved: boolean; round: number } }).review : undefined;
      return review !== undefined ? [review] : [];
    });
    expect(verdicts.map((v) => [v.round, v.approved])).toEqual([
      [1, false],
      [2, true],
    ]);
    expect(verdicts[1]?.commit).toBe(tip);
    expect(Delivered(journal.events)).toEqual([expect.objectContaining({ outcome: "pushed" }), expect.objectContaining({ outcome: "pr-skipped" })]);
    expect(repo.git(["rev-parse", run.branch], bare)).toBe(tip);

    const report = (await runOrch(["report", run.runId], { cwd: repo.dir, env, timeoutMs: 30_000 })).stdout;
    expect(report).toContain("the run never writes fix.txt");
    expect(report).toMatch(/Reviewed commit `[0-9a-f]{12}` \(attempt 1, round 2\): \*\*approved\*\*/);
  });

  it("holds the delivery when findings still block after the fixes; `orch deliver` then delivers it as it stands", { timeout: 200_000 }, async () => {
    const { repo, server, env, bare, result, run } = await reviewedPlan([
      { match: TASK_REVIEW, text: verdict("approve") },
      { match: TASK_REVIEW, text: verdict("approve") },
      { match: RUN_REVIEW, text: verdict("request_changes", [missing], "fix.txt is missing") },
      { match: TASK_REVIEW, text: verdict("approve") },
      { match: RUN_REVIEW, text: verdict("request_changes", [{ ...missing, what: "fix.txt says nothing useful" }], "still wrong") },
    ]);
    expect(result.code, result.stderr).toBe(0);
    expect(server.problems()).toEqual([]);
    expect(server.remaining()).toEqual([]);
    // The criteria pass: the run succeeded, but nothing left the machine.
    expect(run.status).toBe("succeeded");
    const journal = readJournal(repo, run.runId);
    const [held] = Delivered(journal.events);
    expect(held?.outcome).toBe("push-skipped");
    expect(held?.reason).toMatch(/^the whole-run review \(round 2\) still asks for changes after 1 round\(s\) of fixes: P1 fix\.txt .*fix\.txt says nothing useful/);
    expect(held?.reason).toContain(`\`orch deliver ${run.runId}\` delivers it as it stands`);
    expect(journal.tasks.filter((t) => t.id.startsWith("_fix-")).map((t) => t.id)).toEqual(["_fix-1"]);
    expect(() => repo.git(["rev-parse", "--verify", "--quiet", run.branch], bare)).toThrow();

    const delivered = await runOrch(["deliver", run.runId], { cwd: repo.dir, env, timeoutMs: 60_000 });
    expect(delivered.code, delivered.stderr).toBe(0);
    expect(delivered.stdout).toContain(`pushed ${run.branch}`);
    expect(repo.git(["rev-parse", run.branch], bare)).toBe(repo.git(["rev-parse", run.branch]));
  });

  it("holds the delivery when the task of fixes fails: the run succeeded with every task's work integrated", { timeout: 200_000 }, async () => {
    // The task of fixes cannot start its agent (exit 127): it ends at once, and nothing of it reaches the run branch.
    const broken = AGENT.replace("_fix-*) echo fixed > fix.txt;;", "_fix-*) exit 127;;");
    const { repo, server, result, run } = await reviewedPlan(
      [
        { match: TASK_REVIEW, text: verdict("approve") },
        { match: TASK_REVIEW, text: verdict("approve") },
        { match: RUN_REVIEW, text: verdict("request_changes", [missing], "fix.txt is missing") },
      ],
      broken,
    );
    expect(result.code, result.stderr).toBe(0);
    expect(server.remaining()).toEqual([]);
    expect(run.status).toBe("succeeded");
    const journal = readJournal(repo, run.runId);
    const fix = journal.tasks.find((t) => t.id === "_fix-1");
    expect(fix?.status).not.toBe("succeeded");
    const [held] = Delivered(journal.events);
    expect(held?.outcome).toBe("push-skipped");
    expect(held?.reason).toMatch(new RegExp(`^the task of fixes _fix-1 that the whole-run review asked for ended ${fix?.status ?? "?"}: `));
    expect(held?.reason).toContain(`\`orch deliver ${run.runId}\` delivers it as it stands`);
    // The run branch holds both tasks' work and nothing of the fixes.
    expect(repo.git(["show", `${run.branch}:a.txt`])).toBe("a");
    expect(repo.git(["show", `${run.branch}:b.txt`])).toBe("b");
    expect(() => repo.git(["show", `${run.branch}:fix.txt`])).toThrow();
  });

  it("refuses to deliver a run that did not succeed, or that does not exist, with nothing written", { timeout: 60_000 }, async () => {
    const { repo, env } = await withClaude(sandboxes, { "README.md": "a project\n" }, []);
    const failed = await runOrch(["run", "fail", "--verify", "false", "--agent-command", "true", "--max-attempts", "1", "--no-review", "--json"], { cwd: repo.dir, env, timeoutMs: 60_000 });
    const { runId } = parseRunResult(failed);
    const before = readJournal(repo, runId).events.length;
    const refused = await runOrch(["deliver", runId], { cwd: repo.dir, env, timeoutMs: 30_000 });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(`run ${runId} ended failed; only a run that succeeded is delivered`);
    expect(readJournal(repo, runId).events.length).toBe(before);
    const missingRun = await runOrch(["deliver", "nope"], { cwd: repo.dir, env, timeoutMs: 30_000 });
    expect(missingRun.code).toBe(2);
    expect(missingRun.stderr).toMatch(/nope/);
    const noRun = await runOrch(["deliver"], { cwd: repo.dir, env, timeoutMs: 30_000 });
    expect(noRun.code).toBe(2);
    expect(noRun.stderr).toContain("missing required argument 'run'");
  });
});
