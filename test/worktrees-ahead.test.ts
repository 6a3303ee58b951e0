// Worktrees made ahead of their task's start, on a real repository: made one at a time in the order asked,
// moved along with the run branch, taken with no git call when already on the base, made at once when a task
// starts before its turn came, and moved when a dead supervisor made one the journal does not know of.
import { existsSync } from "node:fs";
import * as path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { WorktreesAhead } from "../src/engine/worktrees-ahead.js";
import { createWorktree, resetWorktree } from "../src/git/index.js";
import { makeTempRepo, type TempRepo } from "./support/repo.js";

interface Task {
  id: string;
  worktree: string;
  branch: string;
}

let repo: TempRepo;
let savedEnv: NodeJS.ProcessEnv = {};
/** What the real git operations were asked to do, in the order they began and ended. */
let log: string[] = [];

beforeEach(() => {
  savedEnv = { ...process.env };
  repo = makeTempRepo({ files: { "README.md": "# demo\n" } });
  for (const name of Object.keys(process.env)) if (!(name in repo.gitEnv)) delete process.env[name];
  Object.assign(process.env, repo.gitEnv);
  log = [];
});

afterEach(() => {
  for (const name of Object.keys(process.env)) if (!(name in savedEnv)) delete process.env[name];
  Object.assign(process.env, savedEnv);
  repo.remove();
});

const task = (id: string): Task => ({ id, worktree: path.join(repo.root, "wt", id), branch: `orch/r1/${id}` });

function ahead(): WorktreesAhead<Task> {
  return new WorktreesAhead<Task>({
    make: async (t, base) => {
      log.push(`make ${t.id} begins`);
      await createWorktree({ repo: { root: repo.dir }, path: t.worktree, branch: t.branch, baseSha: base });
      log.push(`make ${t.id} ends`);
    },
    move: async (t, to) => {
      log.push(`move ${t.id}`);
      await resetWorktree(t.worktree, to);
    },
  });
}

/** A new commit on main (the run branch stands in for it): what tasks are moved to. */
function commitOnMain(name: string): string {
  repo.git(["commit", "--quiet", "--allow-empty", "-m", name]);
  return repo.git(["rev-parse", "HEAD"]);
}

const headOf = (t: Task) => repo.git(["rev-parse", "HEAD"], t.worktree);

describe("WorktreesAhead", () => {
  it("makes worktrees one at a time, in the order asked among equals, each from its base", async () => {
    const lane = ahead();
    const [a, b, c] = [task("a"), task("b"), task("c")];
    for (const t of [a, b, c]) lane.make(t, repo.headSha);
    lane.make(a, repo.headSha); // asked twice: made once
    expect(lane.size).toBe(3);
    await lane.settled();
    for (const t of [a, b, c]) await lane.take(t, repo.headSha);
    expect(log).toEqual(["make a begins", "make a ends", "make b begins", "make b ends", "make c begins", "make c ends"]);
    for (const t of [a, b, c]) expect(headOf(t)).toBe(repo.headSha);
    expect(repo.git(["symbolic-ref", "--short", "HEAD"], a.worktree)).toBe(a.branch);
    expect(lane.size).toBe(0);
  });

  it("makes the most urgent one asked for next", async () => {
    const lane = ahead();
    const [first, low, high] = [task("first"), task("low"), task("high")];
    lane.make(first, repo.headSha, 5); // begins at once: nothing else was asked for
    lane.make(low, repo.headSha, 9);
    lane.make(high, repo.headSha, 1);
    await lane.settled();
    expect(log.filter((l) => l.endsWith("begins"))).toEqual(["make first begins", "make high begins", "make low begins"]);
  });

  it("moves a made worktree along with the run branch, so taking it then costs no git call", async () => {
    const lane = ahead();
    const a = task("a");
    lane.make(a, repo.headSha);
    await lane.settled();
    const next = commitOnMain("merged a dependency");
    lane.advance(a, next);
    lane.advance(a, next); // twice: moved once
    await lane.take(a, next);
    expect(headOf(a)).toBe(next);
    expect(repo.git(["rev-parse", a.branch])).toBe(next);
    expect(log.filter((l) => l === "move a")).toHaveLength(1);
  });

  it("makes a worktree still waiting for its turn from the newest base it was given", async () => {
    const lane = ahead();
    const [a, b] = [task("a"), task("b")];
    lane.make(a, repo.headSha);
    lane.make(b, repo.headSha);
    const next = commitOnMain("moved on");
    lane.advance(b, next); // b has not begun: it will be made from `next`
    await lane.settled();
    await lane.take(b, next);
    await lane.take(a, repo.headSha);
    expect(headOf(b)).toBe(next);
    expect(log.filter((l) => l.startsWith("move"))).toEqual([]);
  });

  it("takes a task whose turn has not come by making its worktree at once, out of the lane's order", async () => {
    const lane = ahead();
    const [a, b, c] = [task("a"), task("b"), task("c")];
    for (const t of [a, b, c]) lane.make(t, repo.headSha);
    await lane.take(c, repo.headSha);
    // a began when asked (nothing else was being made); c did not wait for b's turn, nor for a to end.
    expect(log.slice(0, 2)).toEqual(["make a begins", "make c begins"]);
    expect(headOf(c)).toBe(repo.headSha);
    await lane.settled();
    await lane.take(a, repo.headSha);
    await lane.take(b, repo.headSha);
    expect(log.filter((l) => l === "make c begins")).toHaveLength(1);
    expect(log.filter((l) => l.endsWith("begins"))).toHaveLength(3);
  });

  it("moves a worktree found on disk that it was never asked for (a dead supervisor made it)", async () => {
    const a = task("a");
    await createWorktree({ repo: { root: repo.dir }, path: a.worktree, branch: a.branch, baseSha: repo.headSha });
    const next = commitOnMain("moved on");
    await ahead().take(a, next);
    expect(log).toEqual(["move a"]);
    expect(headOf(a)).toBe(next);
  });

  it("forgets a dropped task: one not begun is never made", async () => {
    const lane = ahead();
    const [a, b] = [task("a"), task("b")];
    lane.make(a, repo.headSha);
    lane.make(b, repo.headSha);
    lane.drop(b.id);
    expect(lane.has(b.id)).toBe(false);
    await lane.settled();
    await lane.take(a, repo.headSha);
    expect(existsSync(b.worktree)).toBe(false);
    expect(log.some((l) => l.startsWith("make b"))).toBe(false);
  });

  it("makes the worktree again at the start when making it ahead failed, and says why when that fails too", async () => {
    const lane = ahead();
    const a = task("a");
    repo.git(["branch", a.branch]); // taken: making it fails, ahead and at the start
    lane.make(a, repo.headSha);
    await lane.settled();
    await expect(lane.take(a, repo.headSha)).rejects.toThrow(/already exists/);
    expect(log.filter((l) => l === "make a begins")).toHaveLength(2);
  });
});
