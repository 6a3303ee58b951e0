// Where runs keep their worktrees, through the built CLI on real repositories (issue 14.2): outside the working
// tree, so that the user's own `node --test` in the checkout never runs a run's copy of the tests; moved by
// ORCH_WORKTREES_DIR or `worktrees.dir`; collected by `orch gc` where they are; and a run made before (its
// worktrees in `.orch/worktrees/`) resumes and is collected at its old place, with nothing moved.
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { repoKey } from "../src/engine/paths.js";
import { parseJsonOutput, parseRunResult, type CliResult } from "./support/cli.js";
import { FAILING_REPO, SUM, useSandboxes, type OrchSandbox } from "./support/e2e.js";

const sandboxes = useSandboxes({ prefix: "orch-cli-worktrees-", graceMs: 3_000 });

/** A repository whose own node:test suite passes. */
const PASSING_REPO = { ...FAILING_REPO, "src/sum.js": SUM.fixed };
const VERIFY = "node --test";
/** An agent that leaves a failing test of its own in the task's worktree: the run fails and keeps the worktree. */
const WIP_TEST = `require("node:test")("work in progress", () => { throw new Error("not done yet"); });`;
const WIP_AGENT = `mkdir -p test && printf '%s\\n' '${WIP_TEST}' > test/wip.test.js`;
const FIX_AGENT = `printf '${SUM.fixed.replaceAll("\n", "\\n")}' > src/sum.js`;

const TaskWorktrees = z.object({ tasks: z.array(z.object({ id: z.string(), worktree: z.string() })) });
const GcJson = z.object({
  worktreesRemoved: z.number().int(),
  runs: z.array(z.object({ runId: z.string(), worktrees: z.array(z.object({ taskId: z.string(), path: z.string(), action: z.string() })) })),
});

async function run(box: OrchSandbox, agent: string, expectedCode: number, env: Record<string, string> = box.env, maxAttempts = 1) {
  const result = await box.orch(["run", "add a test", "--verify", VERIFY, "--agent-command", agent, "--max-attempts", String(maxAttempts), "--json"], { env });
  expect(result.code, result.stderr).toBe(expectedCode);
  const json = parseRunResult(result);
  const status = await box.orch(["status", json.runId, "--json"]);
  const [task, ...others] = parseJsonOutput(TaskWorktrees, status.stdout).tasks;
  if (task === undefined || others.length > 0) throw new Error(`expected one task: ${status.stdout}`);
  return { runId: json.runId, task: task.id, worktree: task.worktree };
}

/** The user's own `node --test` in their checkout. */
function userTests(box: OrchSandbox): Promise<CliResult> {
  return sandboxes.run(process.execPath, ["--test"], { cwd: box.repo.dir, env: box.repo.gitEnv, timeoutMs: 60_000 });
}

/** The settings the journal recorded for a run (`runs.config`). */
function recordedConfig(box: OrchSandbox, runId: string): Record<string, unknown> {
  const db = new Database(join(box.repo.dir, ".orch", "orch.db"), { readonly: true, fileMustExist: true });
  try {
    const row = z.object({ config: z.string() }).parse(db.prepare("SELECT config FROM runs WHERE id = ?").get(runId));
    return z.record(z.string(), z.unknown()).parse(JSON.parse(row.config));
  } finally {
    db.close();
  }
}

async function gc(box: OrchSandbox, env: Record<string, string> = box.env) {
  const result = await box.orch(["gc", "--json"], { env });
  expect(result.code, result.stderr).toBe(0);
  return parseJsonOutput(GcJson, result.stdout);
}

describe("worktrees outside the working tree", () => {
  it("a failed run leaves the user's `node --test` in the checkout as it was; gc removes the worktree where it is", async () => {
    const box = sandboxes.orchRepo(PASSING_REPO);
    expect((await userTests(box)).stdout).toMatch(/^# tests 1$/m);

    const failed = await run(box, WIP_AGENT, 1);
    // The run's copy, with its failing test, is beside the repository, not in it.
    expect(failed.worktree).toBe(join(box.repo.worktrees, repoKey(box.repo.dir), failed.runId, failed.task));
    expect(existsSync(join(failed.worktree, "test", "wip.test.js"))).toBe(true);
    expect(existsSync(join(box.repo.dir, ".orch", "worktrees"))).toBe(false);

    const mine = await userTests(box);
    expect(mine.code, mine.stdout).toBe(0);
    expect(mine.stdout).toMatch(/^# tests 1$/m);
    expect(mine.stdout).toMatch(/^# fail 0$/m);
    expect(box.repo.git(["status", "--porcelain"])).toBe("");

    const collected = await gc(box);
    expect(collected.worktreesRemoved).toBe(1);
    expect(collected.runs[0]?.worktrees).toEqual([{ taskId: failed.task, path: failed.worktree, action: "removed" }]);
    expect(existsSync(join(box.repo.runWorktrees, failed.runId))).toBe(false);
    expect(box.repo.git(["worktree", "list", "--porcelain"]).match(/^worktree /gm)).toHaveLength(1);
  });

  it("inside the checkout (worktrees.dir: .orch/worktrees, the old place) the user's `node --test` runs the run's copy, and doctor says so", async () => {
    const box = sandboxes.orchRepo({ ...PASSING_REPO, "orch.config.yaml": "worktrees:\n  dir: .orch/worktrees\n" });
    const env = { ...box.env, ORCH_WORKTREES_DIR: "" };
    const failed = await run(box, WIP_AGENT, 1, env);
    expect(failed.worktree).toBe(join(box.repo.dir, ".orch", "worktrees", failed.runId, failed.task));

    // What issue 14 saw: the checkout's test runner walked into the run's worktree and ran its tests too.
    const mine = await userTests(box);
    expect(mine.code).not.toBe(0);
    expect(mine.stdout).toMatch(/^# fail 1$/m);

    const doctor = await box.orch(["doctor", "--json"], { env });
    const check = parseJsonOutput(z.object({ checks: z.array(z.object({ name: z.string(), ok: z.boolean(), detail: z.string() })) }), doctor.stdout).checks.find((c) => c.name === "worktrees");
    expect(check?.detail).toBe(`new runs: ${join(box.repo.dir, ".orch", "worktrees")} (worktrees.dir of orch.config.yaml); inside the checkout: tools that walk it (node --test, pytest, linters) will find the runs' copies of your files`);
  });

  it("by default they go to the user's cache folder, keyed by repository, readable by the user alone", async () => {
    const box = sandboxes.orchRepo(FAILING_REPO);
    const env = { ...box.env, ORCH_WORKTREES_DIR: "" };
    const done = await run(box, FIX_AGENT, 0, env);
    const root = join(box.repo.home, ".cache", "orch", "worktrees", repoKey(box.repo.dir));
    expect(done.worktree).toBe(join(root, done.runId, done.task));
    // It went there, and went away again once its work was integrated: the folder is all that is left.
    expect(existsSync(done.worktree)).toBe(false);
    expect(statSync(root).mode & 0o777).toBe(0o700);
    // The run records the folder: a later ORCH_WORKTREES_DIR moves the next runs, not this one.
    expect(recordedConfig(box, done.runId)).toMatchObject({ worktrees: root });
    expect(await gc(box)).toMatchObject({ worktreesRemoved: 0 });

    const doctor = await box.orch(["doctor"], { env });
    expect(doctor.stdout).toContain(`✔ worktrees    new runs: ${root} (the default)`);
  });

  it("a relative ORCH_WORKTREES_DIR, or a file where the folder must go, is refused before anything is written", async () => {
    const box = sandboxes.orchRepo(FAILING_REPO);
    const attempt = (env: Record<string, string>) => box.orch(["run", "add a test", "--verify", VERIFY, "--agent-command", FIX_AGENT], { env: { ...box.env, ...env } });
    const relative = await attempt({ ORCH_WORKTREES_DIR: "wt" });
    expect(relative.code).toBe(2);
    expect(relative.stderr).toMatch(/^orch: ORCH_WORKTREES_DIR must be an absolute path, not "wt"/);
    const file = join(box.repo.root, "a-file");
    writeFileSync(file, "");
    const blocked = await attempt({ ORCH_WORKTREES_DIR: file });
    expect(blocked.code).toBe(2);
    expect(blocked.stderr).toContain(`orch: the worktree folder ${join(file, repoKey(box.repo.dir))} cannot be made: ${file} is not a folder`);
    expect(existsSync(join(box.repo.dir, ".orch"))).toBe(false);
    expect(existsSync(join(box.repo.dir, "wt"))).toBe(false);
    expect(box.repo.git(["branch", "--list", "orch/*"])).toBe("");
  });
});

describe("the checkout's installed dependencies, seen from a worktree outside it", () => {
  it("a verify command that needs the checkout's node_modules passes in the task's worktree and on the run branch; the link is never committed and gc leaves the checkout's folder alone", async () => {
    // `node_modules/` ignores a folder, not a link to one: orch must make git ignore the link too.
    const box = sandboxes.orchRepo({ ".gitignore": "node_modules/\n", "check.js": `require("fake-tool").check();\n` });
    mkdirSync(join(box.repo.dir, "node_modules", "fake-tool"), { recursive: true });
    writeFileSync(join(box.repo.dir, "node_modules", "fake-tool", "index.js"), `exports.check = () => { if (!require("fs").existsSync("done.txt")) process.exit(1); };\n`);
    const result = await box.orch(["run", "make the check pass", "--verify", "node check.js", "--agent-command", "echo done > done.txt", "--max-attempts", "1", "--json"]);
    expect(result.code, result.stderr).toBe(0);
    const { runId } = parseRunResult(result);
    const branch = `orch/${runId}/_run`;
    expect(box.repo.git(["ls-tree", "-r", "--name-only", branch]).split("\n").sort()).toEqual([".gitignore", "check.js", "done.txt"]);
    await gc(box);
    expect(readFileSync(join(box.repo.dir, "node_modules", "fake-tool", "index.js"), "utf8")).toContain("exports.check");
  });
});

describe("a run made before worktrees moved out", () => {
  it("resumes in .orch/worktrees and ends there: its worktrees go from there as it integrates and ends; nothing is moved", async () => {
    // A run that waits for a human (the model API refused its key) until `go` exists, then fixes the bug.
    const box = sandboxes.orchRepo({ ...FAILING_REPO, "orch.config.yaml": "worktrees:\n  dir: .orch/worktrees\n" });
    const go = join(box.out, "go");
    const agent = `if [ -f '${go}' ]; then pwd > '${join(box.out, "cwd")}'; ${FIX_AGENT}; else echo 'API Error: 401 Unauthorized' >&2; exit 1; fi`;
    const waiting = await run(box, agent, 3, { ...box.env, ORCH_WORKTREES_DIR: "" }, 3);
    const legacy = join(box.repo.dir, ".orch", "worktrees", waiting.runId);
    expect(waiting.worktree).toBe(join(legacy, waiting.task));
    // The journal as orch wrote it before runs recorded their worktree folder: nothing says where they are.
    const db = new Database(join(box.repo.dir, ".orch", "orch.db"));
    try {
      db.prepare("UPDATE runs SET config = json_remove(config, '$.worktrees') WHERE id = ?").run(waiting.runId);
      db.prepare("UPDATE events SET data = json_remove(data, '$.config.worktrees') WHERE run_id = ? AND type = 'run.created'").run(waiting.runId);
    } finally {
      db.close();
    }
    writeFileSync(join(box.repo.dir, "orch.config.yaml"), "");
    expect(recordedConfig(box, waiting.runId)).not.toHaveProperty("worktrees");

    // Resumed where new runs would go elsewhere (ORCH_WORKTREES_DIR): the old run works where its worktrees are.
    writeFileSync(go, "");
    const resumed = await box.orch(["resume", waiting.runId, "--json"]);
    expect(resumed.code, resumed.stdout + resumed.stderr).toBe(0);
    expect(parseRunResult(resumed).status).toBe("succeeded");
    expect(readFileSync(join(box.out, "cwd"), "utf8").trim()).toBe(waiting.worktree);
    // The task's worktree went as its work was integrated, the run branch's at the run's end, and the run's folder
    // with them: all at the old place, nothing made at the new one.
    expect(existsSync(waiting.worktree)).toBe(false);
    expect(existsSync(join(legacy, "_run"))).toBe(false);
    expect(existsSync(legacy)).toBe(false);
    const doctor = await box.orch(["doctor"]);
    expect(doctor.stdout).toContain(`✔ worktrees    new runs: ${box.repo.runWorktrees} (ORCH_WORKTREES_DIR)`);
    expect((await gc(box)).worktreesRemoved).toBe(0);
    expect(existsSync(box.repo.worktrees)).toBe(false);
  });
});
