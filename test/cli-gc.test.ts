// `orch gc` end to end through the built CLI, on real throw-away repositories and real runs made with the
// `command` agent: finished runs lose their worktrees, never their branches; uncommitted work is kept in a
// work-in-progress commit first; unfinished runs, dry runs and bad input change nothing.
import { createHash } from "node:crypto";
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { isRunning, parseJsonOutput, parseRunResult, waitFor } from "./support/cli.js";
import { fixtureAgent as agent, readJournal, useSandboxes, type OrchSandbox } from "./support/e2e.js";

const GOAL = "make the failing test pass";
const TASK = "make-the-failing-test-pass";
const VERIFY = "node test.mjs";
const BUGGY = "export function sum(a, b) {\n  return a - b;\n}\n";
const WRONG = "export function sum(a, b) {\n  return a * b;\n}\n";
const FILES = {
  "sum.mjs": BUGGY,
  "test.mjs": 'import { sum } from "./sum.mjs";\nconst got = sum(2, 3);\nif (got !== 5) {\n  console.log(`not ok - sum(2, 3) returned ${got}`);\n  process.exit(1);\n}\n',
  "README.md": "# sums\n",
  ".gitignore": "*.log\n",
};
/** An agent that leaves work behind without fixing anything: a changed, a new, a deleted and an ignored file. */
const MESSY_AGENT = `printf '${WRONG.replaceAll("\n", "\\n")}' > sum.mjs; echo "what I tried" > notes.txt; rm README.md; echo noise > debug.log; echo done`;
/** An agent the model API refuses (HTTP 401): the run waits for a human. */
const REFUSED_AGENT = "echo 'API Error: 401 Unauthorized' >&2; exit 1";

const sandboxes = useSandboxes({ prefix: "orch-cli-gc-", graceMs: 3_000 });
const sandbox = (agentEnv: Record<string, string> = {}): OrchSandbox => sandboxes.orchRepo(FILES, agentEnv);

const Worktree = z.object({
  taskId: z.string(),
  path: z.string(),
  branch: z.string(),
  action: z.enum(["removed", "would-remove", "kept", "failed"]),
  reason: z.string().nullable(),
  uncommitted: z.array(z.string()),
  wipCommit: z.string().nullable(),
  bytes: z.number().int().nonnegative(),
});
const GcJson = z.object({
  dryRun: z.boolean(),
  runs: z.array(
    z.object({
      runId: z.string(),
      status: z.string(),
      skipped: z.string().nullable(),
      worktrees: z.array(Worktree),
      worktreesRemoved: z.number().int(),
      wipCommits: z.number().int(),
      bytesFreed: z.number().int(),
    }),
  ),
  skipped: z.array(z.object({ runId: z.string(), status: z.string(), reason: z.string() })),
  worktreesRemoved: z.number().int(),
  wipCommits: z.number().int(),
  bytesFreed: z.number().int(),
});
const CollectedData = z.object({
  worktrees: z.array(z.object({ taskId: z.string(), path: z.string(), branch: z.string(), removed: z.boolean(), wipCommit: z.string().optional(), bytes: z.number() })),
  bytesFreed: z.number(),
  by: z.string(),
});

/** `orch run GOAL --verify VERIFY ...args --json` to its end, with the exit code checked. */
async function orchRun(box: OrchSandbox, args: readonly string[], expectedCode: number) {
  const result = await box.orch(["run", GOAL, "--verify", VERIFY, ...args, "--json"]);
  expect(result.code, `exit code; stderr:\n${result.stderr}`).toBe(expectedCode);
  const json = parseRunResult(result);
  // The task's own branch and worktree (the run branch integrates the task's verified work).
  return { ...json, runBranch: json.branch, branch: `orch/${json.runId}/${TASK}`, worktree: join(box.repo.runWorktrees, json.runId, TASK) };
}

const succeededRun = (box: OrchSandbox) => orchRun(box, ["--agent-command", agent("fix-on-attempt.sh")], 0);
const messyRun = (box: OrchSandbox) => orchRun(box, ["--agent-command", MESSY_AGENT, "--max-attempts", "1"], 1);
/** A failed run whose agent changed nothing: its worktree is left clean. */
const cleanFailedRun = (box: OrchSandbox) => orchRun(box, ["--agent-command", "echo nothing to do", "--max-attempts", "1"], 1);

async function gc(box: OrchSandbox, args: readonly string[] = []) {
  const result = await box.orch(["gc", ...args, "--json"]);
  expect(result.code, `orch gc ${args.join(" ")}; stderr:\n${result.stderr}`).toBe(0);
  return parseJsonOutput(GcJson, result.stdout);
}

/** Every file of the repository (git's own included) and of its runs' worktrees by path and content; the journal and the logs aside. */
function repoState(box: OrchSandbox): string {
  const hash = createHash("sha256");
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const full = join(dir, name);
      const rel = relative(box.repo.root, full);
      // The journal and orch's own logs are written by whatever runs; what gc wrote is read from the journal.
      if (rel.startsWith(join("repo", ".orch", "orch.db")) || rel === join("repo", ".orch", "logs")) continue;
      const info = lstatSync(full);
      hash.update(`${rel}\0${info.mode}\0`);
      if (info.isSymbolicLink()) hash.update(readlinkSync(full));
      else if (info.isDirectory()) walk(full);
      else hash.update(readFileSync(full));
    }
  };
  walk(box.repo.dir);
  if (existsSync(box.repo.worktrees)) walk(box.repo.worktrees);
  return hash.digest("hex");
}

const events = (box: OrchSandbox, runId: string) => readJournal(box.repo, runId).events;
const collected = (box: OrchSandbox, runId: string) =>
  events(box, runId)
    .filter((e) => e.type === "run.collected")
    .map((e) => CollectedData.parse(e.data));
const sha = (box: OrchSandbox, ref: string) => box.repo.git(["rev-parse", ref]);
const worktreeList = (box: OrchSandbox) =>
  box.repo
    .git(["worktree", "list", "--porcelain"])
    .split("\n")
    .filter((line) => line.startsWith("worktree "))
    .map((line) => line.slice("worktree ".length));

describe("orch gc", () => {
  it("has nothing to collect after a succeeded run: its task's worktree went as its work was integrated; the branch stays", async () => {
    const box = sandbox({ FIX_ON_ATTEMPT: "1" });
    const run = await succeededRun(box);
    const user = { head: sha(box, "HEAD"), status: box.repo.git(["status", "--porcelain", "--untracked-files=all"]) };

    // The worktree is gone (its run's folder holds nothing), git no longer lists it, the branch holds the work.
    expect(existsSync(run.worktree)).toBe(false);
    const folder = join(box.repo.runWorktrees, run.runId);
    expect(existsSync(folder) ? readdirSync(folder) : []).toEqual([]);
    expect(worktreeList(box)).toEqual([box.repo.dir]);
    expect(box.repo.git(["show", `${run.branch}:sum.mjs`])).toContain("return a + b;");
    // Journaled as gc journals its own, by the run itself.
    const [only, ...more] = collected(box, run.runId);
    expect(more).toEqual([]);
    expect(only).toEqual({
      worktrees: [{ taskId: TASK, path: run.worktree, branch: run.branch, removed: true, bytes: expect.any(Number) }],
      bytesFreed: only?.worktrees[0]?.bytes,
      by: expect.stringMatching(/^the run itself \(pid \d+\)$/),
    });
    expect(only?.bytesFreed).toBeGreaterThan(0);
    // What reads the run still works without its worktree…
    expect((await box.status(run.runId)).status).toBe("succeeded");
    const report = await box.orch(["report", run.runId]);
    expect(report.code, report.stderr).toBe(0);
    // …and does not send the user to the folder that is gone.
    expect(report.stdout).toContain(`Look first: \`git diff main...${run.runBranch}\`. The task's worktree was removed once its work was integrated; the branch holds the work.`);
    expect(report.stdout).not.toContain("git worktree remove");

    // gc: nothing left to do, nothing written.
    const before = { state: repoState(box), events: events(box, run.runId).length };
    const again = await box.orch(["gc"]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout.trim()).toBe("Nothing to collect: no finished run has a worktree left.");
    expect(await gc(box)).toEqual({ dryRun: false, runs: [], skipped: [], worktreesRemoved: 0, wipCommits: 0, bytesFreed: 0 });
    const named = await gc(box, [run.runId]);
    expect(named.runs).toEqual([{ runId: run.runId, status: "succeeded", skipped: null, worktrees: [], worktreesRemoved: 0, wipCommits: 0, bytesFreed: 0 }]);
    expect({ state: repoState(box), events: events(box, run.runId).length }).toEqual(before);
    expect({ head: sha(box, "HEAD"), status: box.repo.git(["status", "--porcelain", "--untracked-files=all"]) }).toEqual(user);
  });

  it("removes a failed run's clean worktree and keeps its branch", async () => {
    const box = sandbox();
    const run = await cleanFailedRun(box);
    const tip = sha(box, run.branch);
    expect(existsSync(run.worktree)).toBe(true);
    const result = await gc(box);
    expect(result).toMatchObject({ dryRun: false, worktreesRemoved: 1, wipCommits: 0, skipped: [] });
    expect(result.runs[0]?.worktrees).toEqual([
      { taskId: TASK, path: run.worktree, branch: run.branch, action: "removed", reason: null, uncommitted: [], wipCommit: null, bytes: expect.any(Number) },
    ]);
    expect(result.bytesFreed).toBeGreaterThan(0);
    expect(existsSync(run.worktree)).toBe(false);
    expect(existsSync(join(box.repo.dir, ".orch", "worktrees", run.runId))).toBe(false);
    expect(worktreeList(box)).toEqual([box.repo.dir]);
    expect(sha(box, run.branch)).toBe(tip);
    expect(collected(box, run.runId)).toEqual([
      { worktrees: [{ taskId: TASK, path: run.worktree, branch: run.branch, removed: true, bytes: result.bytesFreed }], bytesFreed: result.bytesFreed, by: expect.stringMatching(/^orch gc \(pid \d+\)$/) },
    ]);
  });

  it("commits a failed run's uncommitted work on its branch, exactly that work, then removes the worktree", async () => {
    const box = sandbox();
    const run = await messyRun(box);
    expect(run.status).toBe("failed");
    const base = box.repo.headSha;
    expect(sha(box, run.branch)).toBe(base);

    const result = await box.orch(["gc"]);
    expect(result.code, result.stderr).toBe(0);
    const wip = sha(box, run.branch);
    expect(result.stdout).toContain(`Run ${run.runId} (failed):`);
    expect(result.stdout).toContain(`committed 3 uncommitted files (README.md, notes.txt, sum.mjs) as work in progress ${wip.slice(0, 12)} on ${run.branch}, then removed ${run.worktree}`);
    expect(result.stdout).toMatch(/Removed 1 worktree, freed \d+ B, made 1 work-in-progress commit\. Every branch stays\.\n$/);

    // One commit on top of the base, named for what it is, holding the changed, new and deleted files and
    // nothing else (the ignored debug.log stays out).
    expect(box.repo.git(["rev-list", `${base}..${run.branch}`])).toBe(wip);
    expect(box.repo.git(["log", "-1", "--format=%s", wip])).toBe(`orch gc: work in progress of run ${run.runId}, task ${TASK} (not verified)`);
    expect(box.repo.git(["diff", "--name-status", base, wip])).toBe("D\tREADME.md\nA\tnotes.txt\nM\tsum.mjs");
    expect(box.repo.git(["show", `${wip}:sum.mjs`])).toBe(WRONG.trimEnd());
    expect(box.repo.git(["show", `${wip}:notes.txt`])).toBe("what I tried");

    expect(existsSync(run.worktree)).toBe(false);
    expect(worktreeList(box)).toEqual([box.repo.dir]);
    // The user's checkout never saw any of it.
    expect(box.repo.git(["status", "--porcelain", "--untracked-files=all"])).toBe("");
    expect(readFileSync(join(box.repo.dir, "sum.mjs"), "utf8")).toBe(BUGGY);
    expect(collected(box, run.runId)).toEqual([
      { worktrees: [{ taskId: TASK, path: run.worktree, branch: run.branch, removed: true, wipCommit: wip, bytes: expect.any(Number) }], bytesFreed: expect.any(Number), by: expect.any(String) },
    ]);
    const report = await box.orch(["report", run.runId]);
    expect(report.code, report.stderr).toBe(0);
    expect(report.stdout).toContain(`the work in progress is on branch \`${run.branch}\``);
    expect(report.stdout).not.toContain(`in \`${run.worktree}\``);
  });

  it("leaves running and waiting runs alone, and refuses to be pointed at them without changing anything", async () => {
    const box = sandbox();
    const done = await cleanFailedRun(box);
    const waiting = await orchRun(box, ["--agent-command", REFUSED_AGENT], 3);
    expect(waiting.status).toBe("waiting");
    const detached = await box.orch(["run", GOAL, "--verify", VERIFY, "--agent-command", agent("hang.sh"), "--detach"]);
    expect(detached.code, detached.stderr).toBe(0);
    const running = /^Run (\S+) is running/m.exec(detached.stdout)?.[1] ?? "";
    await waitFor("the hanging agent to start", () => (existsSync(join(box.out, "pid.1")) ? true : undefined));
    expect((await box.status(running)).status).toBe("running");
    const runningTree = join(box.repo.runWorktrees, running, TASK);

    // Pointed at an unfinished run: exit 2, plain words, and not even the finished run is touched.
    const state = repoState(box);
    for (const args of [[running], [waiting.runId], [done.runId, waiting.runId]]) {
      const refused = await box.orch(["gc", ...args]);
      expect(refused.code).toBe(2);
      expect(refused.stdout).toBe("");
      expect(refused.stderr).toMatch(/^orch: run \S+ has not finished \(it is (running|waiting)\); orch gc only collects runs that have ended/);
    }
    expect(repoState(box)).toBe(state);
    expect(existsSync(done.worktree)).toBe(true);

    // Without names: the finished run is collected, the other two are left as they are, and said so.
    const text = await box.orch(["gc", "--dry-run"]);
    expect(text.stdout).toContain(`Left alone: run ${waiting.runId} (waiting): it has not finished.`);
    expect(text.stdout).toContain(`Left alone: run ${running} (running): it has not finished.`);
    const result = await gc(box);
    expect(result.runs.map((r) => r.runId)).toEqual([done.runId]);
    expect(result.skipped).toEqual([
      { runId: waiting.runId, status: "waiting", reason: "it has not finished" },
      { runId: running, status: "running", reason: "it has not finished" },
    ]);
    expect(existsSync(done.worktree)).toBe(false);
    expect(existsSync(waiting.worktree)).toBe(true);
    expect(existsSync(runningTree)).toBe(true);
    // Each unfinished run keeps its run branch's worktree too; the finished run's went as it ended.
    const runBranchTree = (runId: string) => join(box.repo.runWorktrees, runId, "_run");
    expect(worktreeList(box).sort()).toEqual([box.repo.dir, runningTree, waiting.worktree, runBranchTree(running), runBranchTree(waiting.runId)].sort());
    expect(collected(box, waiting.runId)).toEqual([]);
    expect(collected(box, running)).toEqual([]);

    // Once it has ended (and its process is gone), the aborted run is collected like any other.
    const driver = (await box.status(running)).pid;
    const aborted = await box.orch(["abort", running]);
    expect(aborted.code, aborted.stderr).toBe(0);
    if (typeof driver === "number") await waitFor("the run's process to exit", () => (isRunning(driver) ? undefined : true), 10_000);
    const after = await gc(box, [running]);
    expect(after.runs[0]).toMatchObject({ runId: running, status: "aborted", skipped: null, worktreesRemoved: 1 });
    expect(existsSync(runningTree)).toBe(false);
  });

  it("keeps what orch did not make: a worktree switched to another branch, a plain folder in a worktree's place", async () => {
    const box = sandbox();
    const switched = await cleanFailedRun(box);
    const replaced = await cleanFailedRun(box);
    const tips = { switched: sha(box, switched.branch), replaced: sha(box, replaced.branch) };
    // Someone took the first worktree over for their own branch and work…
    box.repo.git(["checkout", "-q", "-b", "mine"], switched.worktree);
    writeFileSync(join(switched.worktree, "mine.txt"), "my own work\n");
    // …and put a plain folder where the second one was (outside the checkout: no repository above it at all).
    box.repo.git(["worktree", "remove", "--force", replaced.worktree]);
    mkdirSync(replaced.worktree, { recursive: true });
    writeFileSync(join(replaced.worktree, "stray.txt"), "not a worktree\n");
    const user = { head: sha(box, "HEAD"), branches: box.repo.git(["for-each-ref", "--format=%(refname) %(objectname)"]) };

    const result = await gc(box);
    expect(result).toMatchObject({ worktreesRemoved: 0, wipCommits: 0 });
    expect(result.runs.flatMap((r) => r.worktrees.map((w) => [w.action, w.reason, w.wipCommit]))).toEqual([
      ["kept", `it has branch mine checked out, not orch's ${switched.branch}`, null],
      ["kept", "it is not a git worktree of this repository", null],
    ]);
    const text = await box.orch(["gc"]);
    expect(text.stdout).toContain(`kept ${switched.worktree}: it has branch mine checked out, not orch's ${switched.branch}`);
    expect(text.stdout.trimEnd().split("\n").at(-1)).toBe("Nothing was removed.");

    expect(readFileSync(join(switched.worktree, "mine.txt"), "utf8")).toBe("my own work\n");
    expect(box.repo.git(["status", "--porcelain"], switched.worktree)).toBe("?? mine.txt");
    expect(readFileSync(join(replaced.worktree, "stray.txt"), "utf8")).toBe("not a worktree\n");
    expect({ head: sha(box, "HEAD"), branches: box.repo.git(["for-each-ref", "--format=%(refname) %(objectname)"]) }).toEqual(user);
    expect({ switched: sha(box, switched.branch), replaced: sha(box, replaced.branch) }).toEqual(tips);
    expect(box.repo.git(["status", "--porcelain", "--untracked-files=all"])).toBe("");
    expect([...collected(box, switched.runId), ...collected(box, replaced.runId)]).toEqual([]);
  });

  it("gc.afterRun in orch.config.yaml: a run collects its own worktree as it ends, keeping unverified work in a commit", async () => {
    const box = sandbox();
    writeFileSync(join(box.repo.dir, "orch.config.yaml"), "gc:\n  afterRun: true\n");
    const run = await messyRun(box);
    expect(existsSync(run.worktree)).toBe(false);
    const [only, ...more] = collected(box, run.runId);
    expect(more).toEqual([]);
    expect(only).toMatchObject({ by: "the run itself", worktrees: [{ taskId: TASK, removed: true, wipCommit: expect.any(String) }] });
    expect(box.repo.git(["log", "-1", "--format=%s", run.branch])).toBe(`orch gc: work in progress of run ${run.runId}, task ${TASK} (not verified)`);
    // Without it (the default) the worktree stays for the user to look at.
    const kept = await messyRun(sandbox());
    expect(existsSync(kept.worktree)).toBe(true);
  });

  it("--dry-run says what would happen and changes nothing", async () => {
    const box = sandbox();
    const good = await cleanFailedRun(box);
    const messy = await messyRun(box);
    const before = { state: repoState(box), good: events(box, good.runId).length, messy: events(box, messy.runId).length };

    const text = await box.orch(["gc", "--dry-run"]);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain("Dry run: nothing is changed.");
    expect(text.stdout).toContain(`would remove ${good.worktree}`);
    expect(text.stdout).toContain(`would commit 3 uncommitted files (README.md, notes.txt, sum.mjs) as work in progress on ${messy.branch}, then remove ${messy.worktree}`);
    expect(text.stdout).toMatch(/Would remove 2 worktrees \(\d+ B\), would make 1 work-in-progress commit\. Every branch stays\.\n$/);
    const json = await gc(box, ["--dry-run"]);
    expect(json).toMatchObject({ dryRun: true, worktreesRemoved: 2, wipCommits: 1 });
    expect(json.runs.flatMap((r) => r.worktrees.map((w) => [w.action, w.wipCommit]))).toEqual([
      ["would-remove", null],
      ["would-remove", null],
    ]);

    expect({ state: repoState(box), good: events(box, good.runId).length, messy: events(box, messy.runId).length }).toEqual(before);
    expect(existsSync(good.worktree) && existsSync(messy.worktree)).toBe(true);
    expect(sha(box, messy.branch)).toBe(box.repo.headSha);
  });

  it("--older-than collects only runs that ended at least that long ago", async () => {
    const box = sandbox();
    const old = await cleanFailedRun(box);
    await sleep(5_000);
    const recent = await cleanFailedRun(box);

    const result = await gc(box, ["--older-than", "3s"]);
    expect(result.runs.map((r) => r.runId)).toEqual([old.runId]);
    expect(result.skipped.map((s) => [s.runId, s.reason.replace(/\d+(ms|s) ago/, "N ago")])).toEqual([[recent.runId, "it ended N ago, less than 3s"]]);
    expect(existsSync(old.worktree)).toBe(false);
    expect(existsSync(recent.worktree)).toBe(true);

    const week = await box.orch(["gc", "--older-than", "7d"]);
    expect(week.code, week.stderr).toBe(0);
    expect(week.stdout).toMatch(new RegExp(`^Left alone: run ${recent.runId} \\(failed\\): it ended \\d+(ms|s) ago, less than 7d 00h\\.\nNothing was removed\\.\n$`));
    expect(existsSync(recent.worktree)).toBe(true);

    expect((await gc(box)).runs.map((r) => r.runId)).toEqual([recent.runId]);
    expect(existsSync(recent.worktree)).toBe(false);
  });

  it("bad input: exit 2 in plain words, nothing written", async () => {
    const box = sandbox();
    const run = await cleanFailedRun(box);
    const before = { state: repoState(box), events: events(box, run.runId).length };
    const cases: [string[], RegExp][] = [
      [["nope"], /^orch: no run "nope"\n {2}`orch list` shows the runs of this repository\n$/],
      [["--older-than", "soon"], /^orch: --older-than must be a duration such as 30m, 12h or 7d, not "soon"\n$/],
      [["--older-than", "5 days"], /--older-than must be a duration/],
      [[run.runId, "nope"], /^orch: no run "nope"/],
      [["--frobnicate"], /unknown option '--frobnicate'/],
    ];
    for (const [args, stderr] of cases) {
      const result = await box.orch(["gc", ...args]);
      expect(result.code, `orch gc ${args.join(" ")}`).toBe(2);
      expect(result.stdout).toBe("");
      expect(result.stderr).toMatch(stderr);
    }
    expect({ state: repoState(box), events: events(box, run.runId).length }).toEqual(before);
    expect(existsSync(run.worktree)).toBe(true);

    // A repository orch never ran in has nothing to collect; naming a run there is still an error.
    const fresh = sandboxes.repo(FILES);
    const nothing = await box.orch(["gc"], { cwd: fresh.dir, env: fresh.gitEnv });
    expect(nothing.code, nothing.stderr).toBe(0);
    expect(nothing.stdout.trim()).toBe("Nothing to collect: no finished run has a worktree left.");
    expect(existsSync(join(fresh.dir, ".orch"))).toBe(false);
    const unknown = await box.orch(["gc", "some-run"], { cwd: fresh.dir, env: fresh.gitEnv });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/^orch: no orch runs in /);
  });
});

const DeletedBranches = z.object({ branches: z.array(z.object({ name: z.string(), sha: z.string(), unmerged: z.number() })).optional() });
/** The branches `orch gc --branches` journaled as deleted for a run. */
const deletedBranches = (box: OrchSandbox, runId: string) =>
  events(box, runId)
    .filter((e) => e.type === "run.collected")
    .flatMap((e) => DeletedBranches.parse(e.data).branches ?? []);
const orchBranches = (box: OrchSandbox) =>
  box.repo
    .git(["for-each-ref", "--format=%(refname:strip=2)", "refs/heads/orch/"])
    .split("\n")
    .filter((b) => b !== "");

describe("orch gc --branches", () => {
  it("deletes the branches of a merged run and of one that holds nothing; keeps unmerged work unless --force", { timeout: 60_000 }, async () => {
    const box = sandbox({ FIX_ON_ATTEMPT: "1" });
    // A: succeeded, and the user merged its run branch. B: failed, its uncommitted work kept by gc on its task branch.
    const merged = await succeededRun(box);
    box.repo.git(["merge", "--no-edit", "--no-ff", merged.runBranch]);
    const failed = await messyRun(box);
    const all = [merged.runBranch, merged.branch, failed.runBranch, failed.branch].sort();
    expect(orchBranches(box)).toEqual(all);

    // A dry run says what would go and changes nothing.
    const state = repoState(box);
    const dry = await box.orch(["gc", "--branches", "--dry-run"]);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toContain(`would delete branch ${merged.branch} (at `);
    expect(dry.stdout).toContain(`kept branch ${failed.branch}: 1 commit is on no other branch (not merged); \`orch gc ${failed.runId} --branches --force\` deletes it`);
    expect(repoState(box)).toBe(state);

    const result = await box.orch(["gc", "--branches"]);
    expect(result.code, result.stderr).toBe(0);
    const wip = sha(box, failed.branch);
    expect(result.stdout).toContain(`deleted branch ${merged.runBranch} (at `);
    expect(result.stdout).toContain(`deleted branch ${merged.branch} (at `);
    // B's run branch never moved from its base: nothing of its own to lose.
    expect(result.stdout).toContain(`deleted branch ${failed.runBranch} (at `);
    expect(result.stdout).toContain(`kept branch ${failed.branch}: 1 commit is on no other branch (not merged)`);
    expect(result.stdout).toMatch(/Deleted 3 branches\. Kept 1 branch with unmerged work \(--force deletes it\)\.\n$/);
    expect(orchBranches(box)).toEqual([failed.branch]);
    // The journal keeps where each deleted branch pointed.
    const deletedA = deletedBranches(box, merged.runId);
    expect(deletedA.map((b) => b.name).sort()).toEqual([merged.runBranch, merged.branch].sort());
    expect(deletedA.find((b) => b.name === merged.branch)?.sha).toMatch(/^[0-9a-f]{40}$/);

    // --force: the unmerged branch goes too, and how to bring it back is said.
    const forced = await box.orch(["gc", failed.runId, "--branches", "--force"]);
    expect(forced.code, forced.stderr).toBe(0);
    expect(forced.stdout).toContain(`deleted branch ${failed.branch} (at ${wip.slice(0, 12)}, 1 unmerged commit: --force); \`git branch ${failed.branch} ${wip.slice(0, 12)}\``);
    expect(orchBranches(box)).toEqual([]);
    expect(deletedBranches(box, failed.runId).find((b) => b.name === failed.branch)).toEqual({ name: failed.branch, sha: wip, unmerged: 1 });
    // The user's branch and checkout are as they were.
    expect(box.repo.git(["status", "--porcelain", "--untracked-files=all"])).toBe("");
  });

  it("never deletes a branch checked out in a worktree, even with --force", { timeout: 60_000 }, async () => {
    const box = sandbox({ FIX_ON_ATTEMPT: "1" });
    const run = await succeededRun(box);
    await gc(box);
    // The user looks at the run's work in a worktree of their own.
    const look = join(box.repo.root, "look");
    box.repo.git(["worktree", "add", look, run.runBranch]);
    const result = await box.orch(["gc", "--branches", "--force"]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(new RegExp(`kept branch ${run.runBranch}: it is checked out in .*look`));
    expect(orchBranches(box)).toEqual([run.runBranch]);
  });

  it("refuses bad input in plain words (exit 2), changing nothing", async () => {
    const box = sandbox({ FIX_ON_ATTEMPT: "1" });
    const run = await succeededRun(box);
    const state = repoState(box);
    const force = await box.orch(["gc", "--force"]);
    expect(force.code).toBe(2);
    expect(force.stderr).toContain("orch: --force only applies to branches");
    expect(force.stderr).toContain("add --branches");
    const unknown = await box.orch(["gc", "991231-2359-zzzz", "--branches"]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/^orch: .*991231-2359-zzzz/);
    expect(unknown.stdout).toBe("");
    expect(repoState(box)).toBe(state);
    expect(orchBranches(box)).toEqual([run.runBranch, run.branch].sort());
  });
});
