// End to end: the reviewer role. A `command` agent implements; the real Claude Code CLI, scripted through the model
// server, reviews each verified commit before it is merged. An approval lets the commit onto the run branch; changes
// requested go back to the implementer with the findings, and the next round judges the new commit; a reviewer that
// gives no verdict never approves anything. Bad reviewer choices are refused before anything is written.
import { existsSync, mkdirSync, readFileSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseRunResult, runOrch } from "./support/cli.js";
import { BIN, fixtureAgent as agent, PATH_WITH_BIN, readJournal, useSandboxes, withClaude, type Sandboxes } from "./support/e2e.js";
import { anthropicLastUserText, claudeBash, claudeEnv } from "./support/model-server/anthropic.js";
import { codexEnv, openaiResponsesProtocol, responsesLastUserText, writeCodexHome } from "./support/model-server/openai-responses.js";
import type { Script } from "./support/model-server/server.js";

const sandboxes = useSandboxes({ prefix: "orch-e2e-review-", graceMs: 3_000 });

const FILES = { "sum.mjs": "export function sum(a, b) {\n  return a - b;\n}\n" };
const VERIFY = `node -e "import('./sum.mjs').then((m) => process.exit(m.sum(2, 3) === 5 ? 0 : 1))"`;

const verdict = (value: "approve" | "request_changes", findings: object[] = [], summary = "checked the change") =>
  `I read the diff.\n\n\`\`\`json\n${JSON.stringify({ verdict: value, summary, findings })}\n\`\`\``;
const finding = { file: "sum.mjs", startLine: 1, endLine: 3, severity: "P1", confidence: 0.9, what: "sum has no test", why: "a regression would go unseen" };

async function reviewedRun(boxes: Sandboxes, script: Script, extra: string[] = []) {
  const { repo, server, out, env } = await withClaude(boxes, FILES, script, { FIX_ON_ATTEMPT: "1" });
  const args = ["run", "make sum add", "--verify", VERIFY, "--agent-command", agent("fix-on-attempt.sh"), ...(extra.includes("--default") ? [] : ["--reviewer", "claude-code"]), "--json", ...extra.filter((a) => a !== "--default")];
  const result = await runOrch(args, { cwd: repo.dir, env, timeoutMs: 120_000 });
  return { repo, server, result, out, env, run: parseRunResult(result) };
}

describe("orch run --reviewer × the real Claude Code CLI as the reviewer", () => {
  it("approves the verified commit: the reviewer saw the task, the criteria and that commit's diff, and the work is merged", { timeout: 150_000 }, async () => {
    const { repo, server, result, run, env } = await reviewedRun(sandboxes, [{ match: "You are the reviewer", text: verdict("approve") }]);
    expect(result.code, result.stderr).toBe(0);
    expect(server.problems()).toEqual([]);
    expect(server.remaining()).toEqual([]);
    expect(run.status).toBe("succeeded");

    const journal = readJournal(repo, run.runId);
    const implementer = journal.attempts.filter((a) => a.agent === "command");
    const reviewer = journal.attempts.filter((a) => a.agent === "claude-code");
    expect(implementer.map((a) => a.status)).toEqual(["succeeded"]);
    expect(reviewer.map((a) => [a.id.split(".").at(-1), a.status])).toEqual([["r1", "succeeded"]]);
    const commit = implementer[0]?.commit_sha ?? "";
    expect(commit).toMatch(/^[0-9a-f]{40}$/);

    // The reviewer was told the task, the criteria with their result, and the diff of exactly that commit.
    const prompt = anthropicLastUserText(server.modelRequests()[0]?.body);
    expect(prompt).toContain("make sum add");
    expect(prompt).toContain(`commit ${commit}`);
    expect(prompt).toContain("-  return a - b;");
    expect(prompt).toContain("+  return a + b;");
    expect(prompt).toContain("passed");

    // The approval names the commit it judged; that commit is what reached the run branch.
    const finished = journal.events.filter((e) => e.type === "attempt.finished").map((e) => e.data as { review?: { commit: string; approved: boolean }; awaitsReview?: boolean });
    expect(finished).toMatchObject([{ awaitsReview: true }, { review: { commit, approved: true } }]);
    expect(repo.git(["merge-base", "--is-ancestor", commit, run.branch])).toBe("");

    const status = JSON.parse((await runOrch(["status", run.runId, "--json"], { cwd: repo.dir, env, timeoutMs: 30_000 })).stdout) as { reviewer: string; tasks: { review: string | null }[]; attempts: number };
    expect(status.reviewer).toMatch(/^by claude-code/);
    expect(status.tasks[0]?.review).toMatch(new RegExp(`^approved by claude-code.*commit ${commit.slice(0, 12)}, round 1`));
    // A review is not one of the task's attempts.
    expect(status.attempts).toBe(1);
    const report = (await runOrch(["report", run.runId], { cwd: repo.dir, env, timeoutMs: 30_000 })).stdout;
    expect(report).toContain(`Reviewed commit \`${commit.slice(0, 12)}\` (attempt 1, round 1): **approved**`);
    // What each role spent: the command agent reports nothing; the reviewer's CLI reports its tokens.
    expect(report).toMatch(/\| By role \| implementer: 1 attempt\(s\), 0 in \/ 0 out, no cost reported; reviewer: 1 attempt\(s\), [1-9]\d* in \/ [1-9]\d* out, /);
  });

  it("changes requested go back to the implementer with the findings; the next round judges attempt 2's commit and approves it", { timeout: 150_000 }, async () => {
    const { repo, server, result, run, out, env } = await reviewedRun(sandboxes, [
      { match: "You are the reviewer", text: verdict("request_changes", [finding], "needs a test") },
      { match: "## Round 2", text: verdict("approve", [{ ...finding, severity: "P3", what: "naming" }]) },
    ]);
    expect(result.code, result.stderr).toBe(0);
    expect(server.problems()).toEqual([]);
    expect(server.remaining()).toEqual([]);
    expect(run.status).toBe("succeeded");
    // Attempt 2 was told what the reviewer found.
    const second = readFileSync(join(out, "stdin.2"), "utf8");
    expect(second).toContain("asked for changes");
    expect(second).toContain("P1 sum.mjs:1-3 (confidence 0.9): sum has no test — a regression would go unseen");
    // Round 2 was told what blocked round 1, and only P0–P1 may block now.
    const round2 = anthropicLastUserText(server.modelRequests()[1]?.body);
    expect(round2).toContain("sum has no test");
    expect(round2).toContain("Report only what blocks a merge now (P0–P1)");

    const journal = readJournal(repo, run.runId);
    const reviews = journal.events
      .filter((e) => e.type === "attempt.finished")
      .flatMap((e) => {
        const { review } = e.data as { review?: { round: number; attempt: number; approved: boolean } };
        return review !== undefined ? [review] : [];
      });
    expect(reviews.map((r) => [r.round, r.attempt, r.approved])).toEqual([
      [1, 1, false],
      [2, 2, true],
    ]);
    expect(journal.attempts.filter((a) => a.agent === "command").map((a) => a.status)).toEqual(["succeeded", "succeeded"]);
    const logs = (await runOrch(["logs", run.runId], { cwd: repo.dir, env, timeoutMs: 30_000 })).stdout;
    expect(logs).toMatch(/── review 1 of [0-9a-f]{12} started \(claude-code/);
    expect(logs).toMatch(/── review of [0-9a-f]{12} \(round 1\): changes requested — needs a test/);
    expect(logs).toContain("P1 sum.mjs:1-3 (confidence 0.9): sum has no test — a regression would go unseen");
    expect(logs).toMatch(/── review of [0-9a-f]{12} \(round 2\): approved/);
  });

  it("a reviewer that gives no verdict never approves: three failed reviews block the task and nothing is merged", { timeout: 150_000 }, async () => {
    const { repo, server, result, run } = await reviewedRun(sandboxes, [
      { match: "You are the reviewer", text: "Looks good to me!" },
      { match: "You are the reviewer", text: "LGTM, ship it" },
      { match: "You are the reviewer", text: '{"verdict": "maybe"}' },
    ]);
    expect(result.code, result.stderr).toBe(1);
    expect(server.problems()).toEqual([]);
    expect(server.remaining()).toEqual([]);
    expect(run.status).toBe("failed");
    const journal = readJournal(repo, run.runId);
    expect(journal.tasks[0]?.status).toBe("blocked");
    expect(journal.tasks[0]?.reason).toMatch(/^the review of [0-9a-f]{12} failed 3 times; last: bad_output: the reviewer's verdict is not valid: verdict/);
    expect(journal.attempts.filter((a) => a.agent === "claude-code").map((a) => a.failure?.kind)).toEqual(["bad_output", "bad_output", "bad_output"]);
    // The run branch holds nothing: an unreviewed commit is never merged.
    expect(repo.git(["rev-parse", run.branch])).toBe(repo.headSha);
  });
});

describe("a reviewer that fails in other ways", () => {
  it("one that hangs, one that exits early on an API error, one whose stream breaks: three failed reviews, never an approval", { timeout: 150_000 }, async () => {
    const { repo, server, result, run } = await reviewedRun(
      sandboxes,
      [
        { match: "You are the reviewer", fault: "hang" },
        { match: "You are the reviewer", fault: "server_error", status: 500 },
        { match: "You are the reviewer", fault: "malformed" },
      ],
      // Long enough for the CLI to start on a busy machine; the hang is the only silence that long.
      ["--stall-timeout", "10s"],
    );
    expect(result.code, result.stderr).toBe(1);
    // How many requests each failure costs is the CLI's own (it may retry a 500 or a broken stream once); whatever
    // it asks beyond the script is answered with an error too. None of it may approve.
    expect(server.problems().filter((p) => !p.includes("script exhausted"))).toEqual([]);
    expect(run.status).toBe("failed");
    const journal = readJournal(repo, run.runId);
    expect(journal.tasks[0]?.status).toBe("blocked");
    expect(journal.tasks[0]?.reason).toMatch(/^the review of [0-9a-f]{12} failed 3 times/);
    const kinds = journal.attempts.filter((a) => a.agent === "claude-code").map((a) => a.failure?.kind);
    expect(kinds).toHaveLength(3);
    expect(kinds[0]).toBe("hung");
    expect(kinds.every((k) => k !== undefined)).toBe(true);
    // Nothing reached the run branch.
    expect(repo.git(["rev-parse", run.branch])).toBe(repo.headSha);
  });
});

describe("orch run --reviewer codex × the real Codex CLI as the reviewer", () => {
  it("asks for changes, the findings reach the implementer's next attempt, and the next round approves its commit", { timeout: 150_000 }, async () => {
    const repo = sandboxes.repo(FILES);
    const server = await sandboxes.server(
      [
        { match: "You are the reviewer", text: verdict("request_changes", [finding], "needs a test") },
        { match: "## Round 2", text: verdict("approve") },
      ],
      [openaiResponsesProtocol],
    );
    const codexHome = join(repo.root, "codex-home");
    writeCodexHome(codexHome, { url: server.url });
    const out = join(repo.root, "agent-out");
    mkdirSync(out);
    const env = { ...codexEnv({ home: repo.home, codexHome, tmp: repo.tmp, path: PATH_WITH_BIN }), AGENT_OUT: out, FIX_ON_ATTEMPT: "1", GIT_CONFIG_NOSYSTEM: "1", GIT_CEILING_DIRECTORIES: repo.root, ORCH_WORKTREES_DIR: repo.worktrees };
    const args = ["run", "make sum add", "--verify", VERIFY, "--agent-command", agent("fix-on-attempt.sh"), "--reviewer", "codex", "--json"];
    const result = await runOrch(args, { cwd: repo.dir, env, timeoutMs: 120_000 });
    expect(result.code, result.stderr).toBe(0);
    expect(server.problems()).toEqual([]);
    expect(server.remaining()).toEqual([]);
    const run = parseRunResult(result);
    expect(run.status).toBe("succeeded");
    // Codex was told the commit's diff; its findings reached the implementer's second attempt.
    expect(responsesLastUserText(server.modelRequests()[0]?.body)).toContain("+  return a + b;");
    expect(readFileSync(join(out, "stdin.2"), "utf8")).toContain("P1 sum.mjs:1-3 (confidence 0.9): sum has no test — a regression would go unseen");
    const journal = readJournal(repo, run.runId);
    const reviewers = journal.attempts.filter((a) => a.agent === "codex");
    expect(reviewers.map((a) => [a.id.split(".").at(-1), a.status])).toEqual([
      ["r1", "succeeded"],
      ["r2", "succeeded"],
    ]);
    const implementer = journal.attempts.filter((a) => a.agent === "command");
    expect(repo.git(["merge-base", "--is-ancestor", implementer[1]?.commit_sha ?? "", run.branch])).toBe("");
  });
});

describe("a run that names no reviewer", () => {
  it("gets another agent CLI that is ready here: Claude Code reviews the command agent's work", { timeout: 150_000 }, async () => {
    const { repo, server, result, run, env } = await reviewedRun(sandboxes, [{ match: "You are the reviewer", text: verdict("approve") }], ["--default"]);
    expect(result.code, result.stderr).toBe(0);
    expect(server.remaining()).toEqual([]);
    const status = JSON.parse((await runOrch(["status", run.runId, "--json"], { cwd: repo.dir, env, timeoutMs: 30_000 })).stdout) as { reviewer: string; tasks: { review: string | null }[] };
    expect(status.reviewer).toBe("by claude-code, at most 3 round(s) a task");
    expect(status.tasks[0]?.review).toMatch(/^approved by claude-code/);
  });

  it("gets another model of the implementer's own CLI when no other is ready: Claude Code on opus is reviewed on sonnet", { timeout: 150_000 }, async () => {
    const repo = sandboxes.repo(FILES);
    // Only Claude Code is installed here: a folder on PATH with it alone, and none of node_modules/.bin.
    const onlyClaude = join(repo.root, "only-claude");
    mkdirSync(onlyClaude);
    symlinkSync(join(BIN, "claude"), join(onlyClaude, "claude"));
    const path = [onlyClaude, ...(process.env["PATH"] ?? "").split(":").filter((dir) => !dir.endsWith("node_modules/.bin"))].join(":");
    const server = await sandboxes.server([
      claudeBash("sed -i 's/a - b/a + b/' sum.mjs", "make sum add"),
      { text: "sum now adds." },
      { match: "You are the reviewer", text: verdict("approve") },
    ]);
    const env = { ...claudeEnv({ url: server.url, home: repo.home, tmp: repo.tmp, path, maxRetries: 0, timeoutMs: 600_000 }), GIT_CONFIG_NOSYSTEM: "1", ORCH_WORKTREES_DIR: repo.worktrees };
    const result = await runOrch(["run", "make sum add", "--verify", VERIFY, "--agent", "claude-code", "--model", "opus", "--json"], { cwd: repo.dir, env, timeoutMs: 120_000 });
    expect(result.code, result.stderr).toBe(0);
    expect(server.problems()).toEqual([]);
    expect(server.remaining()).toEqual([]);
    const run = parseRunResult(result);
    const status = JSON.parse((await runOrch(["status", run.runId, "--json"], { cwd: repo.dir, env, timeoutMs: 30_000 })).stdout) as { reviewer: string };
    expect(status.reviewer).toMatch(/^by claude-code:sonnet/);
    // The implementer asked for opus, the reviewer for sonnet: never the same model.
    const models = server.modelRequests().map((r) => r.model ?? "");
    expect(models[0]).toMatch(/opus/);
    expect(models[2]).toMatch(/sonnet/);
  });

  it("is not reviewed when no other agent CLI is ready, and says why", async () => {
    const repo = sandboxes.repo(FILES);
    // The CLIs are on PATH, but none has credentials in this environment.
    const env = { PATH: PATH_WITH_BIN, HOME: repo.home, GIT_CONFIG_NOSYSTEM: "1", ORCH_WORKTREES_DIR: repo.worktrees };
    const result = await runOrch(["run", "make sum add", "--verify", VERIFY, "--agent-command", agent("fix-on-attempt.sh"), "--json"], {
      cwd: repo.dir,
      env: { ...env, AGENT_OUT: repo.tmp, FIX_ON_ATTEMPT: "1" },
      timeoutMs: 60_000,
    });
    expect(result.code, result.stderr).toBe(0);
    const run = parseRunResult(result);
    const status = JSON.parse((await runOrch(["status", run.runId, "--json"], { cwd: repo.dir, env, timeoutMs: 30_000 })).stdout) as { reviewer: string };
    expect(status.reviewer).toBe(
      "not reviewed: no reviewer was named and no other agent CLI (claude-code, codex, gemini, opencode) is ready here; name one with --reviewer AGENT[:MODEL] (a MODEL alone is another model of the run's agent)",
    );
  });
});

describe("orch run --reviewer: choices that cannot work are refused before anything is written", () => {
  const refused = async (args: string[], message: RegExp) => {
    const repo = sandboxes.repo(FILES);
    const result = await runOrch(["run", "make sum add", "--verify", VERIFY, ...args], { cwd: repo.dir, env: { PATH: PATH_WITH_BIN, HOME: repo.home }, timeoutMs: 30_000 });
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(existsSync(join(repo.dir, ".orch", "orch.db"))).toBe(false);
  };
  it("the implementer's own agent and model", async () => {
    await refused(["--agent", "claude-code", "--reviewer", "claude-code"], /--reviewer names the implementer itself \(claude-code, its default model\)/);
    await refused(["--agent", "claude-code", "--model", "opus", "--reviewer", "opus"], /--reviewer names the implementer itself \(claude-code:opus\)/);
  });
  it("a model of an agent that cannot review, and --reviewer with --no-review", async () => {
    await refused(["--agent-command", "true", "--reviewer", "gpt-5"], /--reviewer must name an agent CLI/);
    await refused(["--agent-command", "true", "--reviewer", "codex", "--no-review"], /--reviewer and --no-review contradict each other/);
  });
});
