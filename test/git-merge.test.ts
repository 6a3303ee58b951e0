// The merge-queue primitives of src/git on real throw-away repositories: a run branch with its own worktree,
// task branches started from it, merges checked with merge-tree, merged, conflicted, resolved and reverted.
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { UsageError } from "../src/core/errors.js";
import {
  abortMerge,
  checkMerge,
  commitAll,
  createWorktree,
  createWorktreeFrom,
  discardChanges,
  ensureBranch,
  finishMerge,
  MergeConflictError,
  mergeInto,
  revertMerge,
  startConflictedMerge,
  UnresolvedConflictError,
} from "../src/git/index.js";
import { commitCleanMerge, mergeLeftAt } from "../src/git/clean-merge.js";
import { makeTempRepo, type TempRepo } from "./support/repo.js";

const RUN = "orch/r1/_run";
let repo: TempRepo;
let savedEnv: NodeJS.ProcessEnv = {};
/** The run branch's worktree, where merges happen. */
let runWt = "";

beforeEach(async () => {
  savedEnv = { ...process.env };
  repo = makeTempRepo({
    files: { "README.md": "# demo\n", "src/a.txt": "one\ntwo\nthree\n", "src/keep.txt": "k1\nk2\n" },
  });
  // src/git runs git with process.env: give it the sandbox's (its HOME, no system config, no GIT_* variables).
  for (const name of Object.keys(process.env)) if (!(name in repo.gitEnv)) delete process.env[name];
  Object.assign(process.env, repo.gitEnv);
  runWt = (await createWorktree({ repo: { root: repo.dir }, path: path.join(repo.root, "run"), branch: RUN, baseSha: repo.headSha })).path;
});

afterEach(() => {
  for (const name of Object.keys(process.env)) if (!(name in savedEnv)) delete process.env[name];
  Object.assign(process.env, savedEnv);
  repo.remove();
});

function write(file: string, content: string): void {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, content);
}

/** A task branch started from the run branch as it stands, with `edits` committed on it. */
async function task(name: string, edits: Record<string, string | null>): Promise<string> {
  const branch = `orch/r1/${name}`;
  const wt = await createWorktreeFrom({ repo: { root: repo.dir }, path: path.join(repo.root, "tasks", name), branch, from: RUN });
  for (const [file, content] of Object.entries(edits)) {
    if (content === null) rmSync(path.join(wt.path, file));
    else write(path.join(wt.path, file), content);
  }
  await commitAll({ worktree: wt.path, message: `task ${name}` });
  return branch;
}

const parents = (sha: string): string[] => repo.git(["rev-list", "--parents", "-n", "1", sha]).split(" ").slice(1);
const tree = (rev: string): string => repo.git(["rev-parse", `${rev}^{tree}`]);
const statusOf = (wt: string): string => repo.git(["status", "--porcelain", "--untracked-files=all"], wt);
const mergeHead = (wt: string): boolean => existsSync(repo.git(["rev-parse", "--path-format=absolute", "--git-path", "MERGE_HEAD"], wt));

async function rejection<E extends Error>(promise: Promise<unknown>, type: new (...args: never[]) => E): Promise<E> {
  const error: unknown = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(type);
  if (!(error instanceof type)) throw new Error(`expected a ${type.name}`);
  return error;
}

describe("checkMerge and mergeInto", () => {
  it("merges two tasks touching different files: clean check, then a two-parent commit with the message", async () => {
    const left = await task("left", { "src/left.txt": "left\n" });
    const right = await task("right", { "src/right.txt": "right\n" });
    expect(await mergeInto({ worktree: runWt, from: left, message: "orch: integrate left" })).toMatch(/^[0-9a-f]{40}$/);

    const check = await checkMerge({ repo: { root: repo.dir }, into: RUN, from: right });
    expect(check).toMatchObject({ clean: true, relation: "diverged" });
    const before = repo.git(["rev-parse", RUN]);
    const merge = await mergeInto({ worktree: runWt, from: right, message: "orch: integrate right\n\nRun r1, task right.\n" });
    expect(merge).toBe(repo.git(["rev-parse", RUN]));
    expect(parents(merge ?? "")).toEqual([before, repo.git(["rev-parse", right])]);
    expect(repo.git(["log", "-1", "--format=%B", RUN])).toBe("orch: integrate right\n\nRun r1, task right.\n");
    if (check.clean) expect(tree(RUN)).toBe(check.tree);
    expect(readFileSync(path.join(runWt, "src/left.txt"), "utf8")).toBe("left\n");
    expect(readFileSync(path.join(runWt, "src/right.txt"), "utf8")).toBe("right\n");
    expect(statusOf(runWt)).toBe("");
  });

  it("finds a content conflict without touching any worktree, index or ref", async () => {
    const left = await task("left", { "src/a.txt": "one\nLEFT\nthree\n" });
    const right = await task("right", { "src/a.txt": "one\nRIGHT\nthree\n", "src/other.txt": "x\n" });
    await mergeInto({ worktree: runWt, from: left, message: "integrate left" });
    const indexFile = (wt: string): Buffer =>
      readFileSync(repo.git(["rev-parse", "--path-format=absolute", "--git-path", "index"], wt));
    const state = (): unknown => [
      [repo.dir, runWt].map((wt) => [statusOf(wt), repo.git(["ls-files", "--stage"], wt), indexFile(wt), mergeHead(wt)]),
      repo.git(["for-each-ref", "--format=%(refname) %(objectname)"]),
      readFileSync(path.join(runWt, "src/a.txt"), "utf8"),
    ];
    const before = state();

    const check = await checkMerge({ repo: { root: repo.dir }, into: RUN, from: right });
    expect(state()).toEqual(before);
    expect(check.clean).toBe(false);
    if (check.clean) return;
    expect(check.conflicts).toEqual([{ path: "src/a.txt", kind: "content" }]);
    expect(check.messages).toContainEqual({
      paths: ["src/a.txt"],
      type: "CONFLICT (contents)",
      text: "CONFLICT (content): Merge conflict in src/a.txt",
    });
    // The tree holds what a merge would leave: the markers, named after the two sides.
    const merged = repo.git(["cat-file", "-p", `${check.tree}:src/a.txt`]);
    expect(merged).toMatch(/^<<<<<<< .*\nLEFT\n=======\nRIGHT\n>>>>>>> .*$/m);
  });

  it("tells add/add, modify/delete, rename/delete and binary conflicts apart", async () => {
    const left = await task("left", {
      "src/new.txt": "left's new file\n",
      "src/keep.txt": "k1\nk2 changed\n",
      "logo.bin": "bin\0left",
      "docs/naïve file.md": "left\n",
    });
    const right = await task("right", {
      "src/new.txt": "right's new file\n",
      "src/keep.txt": null,
      "logo.bin": "bin\0right",
      "docs/naïve file.md": "right\n",
    });
    await mergeInto({ worktree: runWt, from: left, message: "integrate left" });
    const check = await checkMerge({ repo: { root: repo.dir }, into: RUN, from: right });
    expect(check.clean).toBe(false);
    if (check.clean) return;
    expect(check.conflicts).toEqual([
      { path: "docs/naïve file.md", kind: "add/add" },
      { path: "logo.bin", kind: "binary" },
      { path: "src/keep.txt", kind: "modify/delete" },
      { path: "src/new.txt", kind: "add/add" },
    ]);

    // A rename on one side and a deletion on the other.
    const renamed = await task("renamer", { "src/moved.txt": "one\ntwo\nthree\n", "src/a.txt": null });
    const deleter = await task("deleter", { "src/a.txt": null });
    await mergeInto({ worktree: runWt, from: renamed, message: "integrate renamer" });
    const rename = await checkMerge({ repo: { root: repo.dir }, into: RUN, from: deleter });
    expect(rename).toMatchObject({ clean: false, conflicts: [{ path: "src/moved.txt", kind: "rename/delete" }] });
  });

  it("leaves the worktree clean when a merge conflicts, unless asked to keep it in progress", async () => {
    const left = await task("left", { "src/a.txt": "one\nLEFT\nthree\n" });
    const right = await task("right", { "src/a.txt": "one\nRIGHT\nthree\n", "src/other.txt": "x\n" });
    await mergeInto({ worktree: runWt, from: left, message: "integrate left" });
    const head = repo.git(["rev-parse", RUN]);

    const error = await rejection(mergeInto({ worktree: runWt, from: right, message: "integrate right" }), MergeConflictError);
    expect(error).toMatchObject({ operation: "merge", from: right, paths: ["src/a.txt"], leftInProgress: false });
    expect(error.message).toMatch(/conflicts in src\/a\.txt/);
    expect(statusOf(runWt)).toBe("");
    expect(mergeHead(runWt)).toBe(false);
    expect(repo.git(["rev-parse", RUN])).toBe(head);
    expect(readFileSync(path.join(runWt, "src/a.txt"), "utf8")).toBe("one\nLEFT\nthree\n");

    const kept = await rejection(mergeInto({ worktree: runWt, from: right, message: "m", leaveConflict: true }), MergeConflictError);
    expect(kept.leftInProgress).toBe(true);
    expect(mergeHead(runWt)).toBe(true);
    expect(await abortMerge({ worktree: runWt })).toBe(true);
    expect(await abortMerge({ worktree: runWt })).toBe(false);
    expect(statusOf(runWt)).toBe("");
  });

  it("says a branch that is already merged needs nothing, and still makes a merge commit for a fast-forward", async () => {
    const left = await task("left", { "src/left.txt": "left\n" });
    const check = await checkMerge({ repo: { root: repo.dir }, into: RUN, from: left });
    expect(check).toMatchObject({ clean: true, relation: "fast-forward", tree: tree(left) });
    const merge = await mergeInto({ worktree: runWt, from: left, message: "integrate left" });
    expect(parents(merge ?? "")).toHaveLength(2);

    expect(await checkMerge({ repo: { root: repo.dir }, into: RUN, from: left })).toEqual({
      clean: true,
      relation: "up-to-date",
      tree: tree(RUN),
      messages: [],
    });
    expect(await mergeInto({ worktree: runWt, from: left, message: "again" })).toBeUndefined();
    expect(repo.git(["rev-parse", RUN])).toBe(merge);
    const error = await rejection(startConflictedMerge({ worktree: runWt, from: left }), UsageError);
    expect(error.message).toMatch(/already merged/);
  });

  it("refuses in plain words: a missing branch, a dirty worktree, a detached HEAD, unrelated history", async () => {
    const missing = await rejection(checkMerge({ repo: { root: repo.dir }, into: RUN, from: "orch/r1/nope" }), UsageError);
    expect(missing.message).toMatch(/"orch\/r1\/nope" names no branch or commit/);
    await rejection(mergeInto({ worktree: runWt, from: "orch/r1/nope", message: "m" }), UsageError);

    const left = await task("left", { "src/left.txt": "left\n" });
    write(path.join(runWt, "src/a.txt"), "edited by hand\n");
    const dirty = await rejection(mergeInto({ worktree: runWt, from: left, message: "m" }), UsageError);
    expect(dirty.message).toMatch(/has uncommitted changes \(src\/a\.txt\)/);
    expect(readFileSync(path.join(runWt, "src/a.txt"), "utf8")).toBe("edited by hand\n");
    repo.git(["checkout", "--", "src/a.txt"], runWt);

    // An untracked file is no obstacle, unless the merge would overwrite it.
    write(path.join(runWt, "coverage.out"), "left by a verify command\n");
    write(path.join(runWt, "src/left.txt"), "mine\n");
    const overwrite = await rejection(mergeInto({ worktree: runWt, from: left, message: "m" }), UsageError);
    expect(overwrite.message).toMatch(/untracked files in .* would be overwritten: src\/left\.txt$/);
    expect(readFileSync(path.join(runWt, "src/left.txt"), "utf8")).toBe("mine\n");
    expect(mergeHead(runWt)).toBe(false);
    rmSync(path.join(runWt, "src/left.txt"));
    const head = repo.git(["rev-parse", RUN]);
    expect(parents((await mergeInto({ worktree: runWt, from: left, message: "m" })) ?? "")).toEqual([head, repo.git(["rev-parse", left])]);
    expect(existsSync(path.join(runWt, "coverage.out"))).toBe(true);
    repo.git(["reset", "--quiet", "--hard", head], runWt);

    repo.git(["checkout", "--quiet", "--detach"], runWt);
    expect((await rejection(mergeInto({ worktree: runWt, from: left, message: "m" }), UsageError)).message).toMatch(/detached/);
    repo.git(["checkout", "--quiet", RUN], runWt);

    repo.git(["checkout", "--quiet", "--orphan", "stray"]);
    repo.git(["commit", "--quiet", "--no-verify", "-m", "unrelated"]);
    const unrelated = await rejection(checkMerge({ repo: { root: repo.dir }, into: RUN, from: "stray" }), UsageError);
    expect(unrelated.message).toMatch(/share no history/);
  });
});

describe("a conflicted merge left for an integrator", () => {
  async function conflicted(): Promise<{ right: string; head: string }> {
    const left = await task("left", { "src/a.txt": "one\nLEFT\nthree\n" });
    const right = await task("right", { "src/a.txt": "one\nRIGHT\nthree\n", "src/other.txt": "x\n" });
    await mergeInto({ worktree: runWt, from: left, message: "integrate left" });
    return { right, head: repo.git(["rev-parse", RUN]) };
  }

  it("keeps the markers in the files, refuses to finish while any remains, and commits the resolution", async () => {
    const { right, head } = await conflicted();
    expect(await startConflictedMerge({ worktree: runWt, from: right })).toEqual(["src/a.txt"]);
    const file = path.join(runWt, "src/a.txt");
    expect(readFileSync(file, "utf8")).toMatch(/^<<<<<<< HEAD\nLEFT\n=======\nRIGHT\n>>>>>>> orch\/r1\/right$/m);
    expect(readFileSync(path.join(runWt, "src/other.txt"), "utf8")).toBe("x\n");

    const refused = await rejection(finishMerge({ worktree: runWt, message: "integrate right" }), UnresolvedConflictError);
    expect(refused.markers).toEqual([{ path: "src/a.txt", line: 2 }]);
    expect(refused.message).toMatch(/conflict markers remain in src\/a\.txt \(line 2\)/);

    // Half a resolution, staged: the separator left behind is still a marker.
    write(file, "one\nLEFT\n=======\nRIGHT\nthree\n");
    repo.git(["add", "src/a.txt"], runWt);
    expect((await rejection(finishMerge({ worktree: runWt, message: "m" }), UnresolvedConflictError)).markers).toEqual([
      { path: "src/a.txt", line: 3 },
    ]);
    expect(mergeHead(runWt)).toBe(true);
    expect(repo.git(["rev-parse", RUN])).toBe(head);

    // Resolved (a longer run of '=' is no marker), not staged: finishMerge stages it.
    write(file, "one\nLEFT and RIGHT\n========\nthree\n");
    const merge = await finishMerge({ worktree: runWt, message: "orch: integrate right (resolved)" });
    expect(parents(merge)).toEqual([head, repo.git(["rev-parse", right])]);
    expect(repo.git(["show", `${merge}:src/a.txt`])).toBe("one\nLEFT and RIGHT\n========\nthree");
    expect(repo.git(["show", `${merge}:src/other.txt`])).toBe("x");
    expect(repo.git(["log", "-1", "--format=%s", merge])).toBe("orch: integrate right (resolved)");
    expect(statusOf(runWt)).toBe("");
    expect(mergeHead(runWt)).toBe(false);
  });

  it("refuses to finish when no merge is in progress, and to start one over another", async () => {
    const { right } = await conflicted();
    expect((await rejection(finishMerge({ worktree: runWt, message: "m" }), UsageError)).message).toMatch(/no merge is in progress/);
    await startConflictedMerge({ worktree: runWt, from: right });
    const twice = await rejection(startConflictedMerge({ worktree: runWt, from: right }), UsageError);
    expect(twice.message).toMatch(/already in progress/);
    expect(await abortMerge({ worktree: runWt })).toBe(true);
    expect(statusOf(runWt)).toBe("");
  });
});

describe("revertMerge", () => {
  it("restores the tree of the merge's first parent, with the message given", async () => {
    const left = await task("left", { "src/a.txt": "one\nLEFT\nthree\n", "src/left.txt": "left\n" });
    const before = repo.git(["rev-parse", RUN]);
    const merge = (await mergeInto({ worktree: runWt, from: left, message: "integrate left" })) ?? "";
    const revert = await revertMerge({ worktree: runWt, commit: merge, message: "orch: revert left\n\nCriteria failed.\n" });
    expect(parents(revert)).toEqual([merge]);
    expect(tree(revert)).toBe(tree(before));
    expect(repo.git(["log", "-1", "--format=%B", revert])).toBe("orch: revert left\n\nCriteria failed.\n");
    expect(statusOf(runWt)).toBe("");
    expect(existsSync(repo.git(["rev-parse", "--path-format=absolute", "--git-path", "REVERT_HEAD"], runWt))).toBe(false);

    const notMerge = await rejection(revertMerge({ worktree: runWt, commit: revert, message: "m" }), UsageError);
    expect(notMerge.message).toMatch(/is not a merge commit/);
  });

  it("aborts a revert that conflicts with later work on the branch and says where", async () => {
    const left = await task("left", { "src/a.txt": "one\nLEFT\nthree\n" });
    const merge = (await mergeInto({ worktree: runWt, from: left, message: "integrate left" })) ?? "";
    write(path.join(runWt, "src/a.txt"), "one\nLEFT, then more\nthree\n");
    const later = await commitAll({ worktree: runWt, message: "later work" });
    const error = await rejection(revertMerge({ worktree: runWt, commit: merge, message: "revert left" }), MergeConflictError);
    expect(error).toMatchObject({ operation: "revert", from: merge, paths: ["src/a.txt"], leftInProgress: false });
    expect(repo.git(["rev-parse", RUN])).toBe(later);
    expect(statusOf(runWt)).toBe("");
    expect(existsSync(repo.git(["rev-parse", "--path-format=absolute", "--git-path", "REVERT_HEAD"], runWt))).toBe(false);
  });
});

describe("commitCleanMerge (the merge queue's merge, one launch)", () => {
  const head = (wt: string) => repo.git(["rev-parse", "HEAD"], wt);
  const clean = async (from: string, message = "integrate") =>
    commitCleanMerge({ worktree: runWt, tip: head(runWt), commit: repo.git(["rev-parse", from]), message, identity: [] });

  it("commits merge-tree's tree with the run tip and the task as parents, and checks it out", async () => {
    const left = await task("left", { "src/left.txt": "left\n" });
    const right = await task("right", { "src/a.txt": "one\nTWO\nthree\n", "src/keep.txt": null });
    const tip = head(runWt);
    const first = await clean(left, "integrate left\n\nwith a body");
    if (!first.clean) throw new Error("expected a clean merge");
    expect(parents(first.merge)).toEqual([tip, repo.git(["rev-parse", left])]);
    expect(repo.git(["log", "-1", "--format=%B", first.merge]).trim()).toBe("integrate left\n\nwith a body");
    const second = await clean(right);
    if (!second.clean) throw new Error("expected a clean merge");
    expect(head(runWt)).toBe(second.merge);
    expect(repo.git(["symbolic-ref", "HEAD"], runWt)).toBe(`refs/heads/${RUN}`);
    expect(statusOf(runWt)).toBe("");
    expect(readFileSync(path.join(runWt, "src/left.txt"), "utf8")).toBe("left\n");
    expect(readFileSync(path.join(runWt, "src/a.txt"), "utf8")).toBe("one\nTWO\nthree\n");
    expect(existsSync(path.join(runWt, "src/keep.txt"))).toBe(false);
    expect(tree(second.merge)).toBe(repo.git(["merge-tree", "--write-tree", first.merge, right]));
  });

  it("touches nothing when the task conflicts with the run branch", async () => {
    const left = await task("left", { "src/a.txt": "one\nLEFT\nthree\n" });
    const right = await task("right", { "src/a.txt": "one\nRIGHT\nthree\n" });
    expect((await clean(left)).clean).toBe(true);
    const tip = head(runWt);
    const refs = repo.git(["for-each-ref"]);
    expect(await clean(right)).toEqual({ clean: false });
    expect(head(runWt)).toBe(tip);
    expect(repo.git(["for-each-ref"])).toBe(refs);
    expect(statusOf(runWt)).toBe("");
    expect(mergeHead(runWt)).toBe(false);
  });

  it("refuses to move a branch that is no longer at the tip it was given, and to clobber uncommitted edits", async () => {
    const left = await task("left", { "src/left.txt": "left\n" });
    const stale = head(runWt);
    write(path.join(runWt, "src/extra.txt"), "moved on\n");
    repo.git(["add", "src/extra.txt"], runWt);
    repo.git(["commit", "--quiet", "-m", "someone else"], runWt);
    const moved = head(runWt);
    const error = await commitCleanMerge({ worktree: runWt, tip: stale, commit: repo.git(["rev-parse", left]), message: "m", identity: [] }).then(() => undefined, (e: unknown) => e);
    expect(String(error)).toMatch(/no longer at/);
    expect(head(runWt)).toBe(moved);

    const right = await task("right", { "src/a.txt": "one\nTWO\nthree\n" });
    write(path.join(runWt, "src/a.txt"), "uncommitted\n");
    await expect(clean(right)).rejects.toThrow(/exited with code/);
    expect(head(runWt)).toBe(moved);
    expect(readFileSync(path.join(runWt, "src/a.txt"), "utf8")).toBe("uncommitted\n");
  });
});

describe("mergeLeftAt (what a merge queue cut short left at the run tip)", () => {
  const head = (wt: string) => repo.git(["rev-parse", "HEAD"], wt);
  const sha = (rev: string) => repo.git(["rev-parse", rev]);

  it("tells a task not merged, merged at the tip, merged and reverted at once (with the revert's message), and merged further down", async () => {
    const left = sha(await task("left", { "src/left.txt": "left\n" }));
    expect(await mergeLeftAt(runWt, head(runWt), left)).toEqual({ kind: "absent" });

    const before = head(runWt);
    const made = await commitCleanMerge({ worktree: runWt, tip: before, commit: left, message: "integrate left", identity: [] });
    if (!made.clean) throw new Error("expected a clean merge");
    expect(await mergeLeftAt(runWt, made.merge, left)).toEqual({ kind: "merged", merge: made.merge, onto: before });

    const revert = await revertMerge({ worktree: runWt, commit: made.merge, message: "revert left\n\nbecause: it broke `test`\n" });
    const reverted = await mergeLeftAt(runWt, revert, left);
    expect(reverted).toMatchObject({ kind: "reverted", merge: made.merge, revert });
    expect(reverted.kind === "reverted" ? reverted.message.trim() : "").toBe("revert left\n\nbecause: it broke `test`");

    // Merged, then something else on top: neither the tip's merge nor its revert.
    const right = sha(await task("right", { "src/right.txt": "right\n" }));
    const other = await commitCleanMerge({ worktree: runWt, tip: head(runWt), commit: right, message: "integrate right", identity: [] });
    if (!other.clean) throw new Error("expected a clean merge");
    expect(await mergeLeftAt(runWt, other.merge, left)).toEqual({ kind: "reachable" });
    // A task that changed nothing: its commit is the base it started from.
    expect(await mergeLeftAt(runWt, other.merge, repo.headSha)).toEqual({ kind: "reachable" });
  });

  it("does not take a one-parent commit over a merge for its revert unless it puts the tree back", async () => {
    const left = sha(await task("left", { "src/left.txt": "left\n" }));
    const made = await commitCleanMerge({ worktree: runWt, tip: head(runWt), commit: left, message: "integrate left", identity: [] });
    if (!made.clean) throw new Error("expected a clean merge");
    write(path.join(runWt, "src/later.txt"), "later\n");
    await commitAll({ worktree: runWt, message: "a later change" });
    expect(await mergeLeftAt(runWt, head(runWt), left)).toEqual({ kind: "reachable" });
  });
});

describe("discardChanges", () => {
  it("undoes a revert cut short (staged, REVERT_HEAD) and keeps untracked files; a clean worktree is left alone", async () => {
    const left = repo.git(["rev-parse", await task("left", { "src/left.txt": "left\n" })]);
    const made = await commitCleanMerge({ worktree: runWt, tip: repo.git(["rev-parse", "HEAD"], runWt), commit: left, message: "integrate left", identity: [] });
    if (!made.clean) throw new Error("expected a clean merge");
    expect(await discardChanges(runWt)).toBe(false);
    repo.git(["revert", "--no-commit", "-m", "1", "HEAD"], runWt);
    expect(existsSync(path.resolve(runWt, repo.git(["rev-parse", "--git-path", "REVERT_HEAD"], runWt)))).toBe(true);
    write(path.join(runWt, "build.log"), "untracked\n");
    expect(existsSync(path.join(runWt, "src/left.txt"))).toBe(false);
    expect(await discardChanges(runWt)).toBe(true);
    expect(repo.git(["rev-parse", "HEAD"], runWt)).toBe(made.merge);
    expect(statusOf(runWt)).toBe("?? build.log");
    expect(readFileSync(path.join(runWt, "src/left.txt"), "utf8")).toBe("left\n");
    expect(existsSync(path.resolve(runWt, repo.git(["rev-parse", "--git-path", "REVERT_HEAD"], runWt)))).toBe(false);
  });
});

describe("unattended", () => {
  it("is neither blocked by the user's hooks and merge settings nor signs, and falls back to orch's identity", async () => {
    const hooks = path.join(repo.dir, ".git", "hooks");
    mkdirSync(hooks, { recursive: true });
    for (const hook of ["pre-merge-commit", "prepare-commit-msg", "commit-msg", "pre-commit", "post-merge", "post-commit"]) {
      write(path.join(hooks, hook), `#!/bin/sh\ntouch "${path.join(repo.root, "hook-ran")}"\nexit 1\n`);
      chmodSync(path.join(hooks, hook), 0o755);
    }
    const gpg = path.join(repo.root, "gpg-fails");
    write(gpg, "#!/bin/sh\necho no key >&2\nexit 1\n");
    chmodSync(gpg, 0o755);
    for (const [key, value] of [
      ["commit.gpgSign", "true"],
      ["gpg.program", gpg],
      ["merge.ff", "only"],
      ["merge.verifySignatures", "true"],
      [`branch.${RUN}.mergeOptions`, "--squash"],
      ["rerere.enabled", "true"],
    ]) {
      repo.git(["config", key ?? "", value ?? ""]);
    }
    // No identity anywhere: the commits fall back to orch's.
    writeFileSync(path.join(repo.home, ".gitconfig"), "");

    const left = await task("left", { "src/a.txt": "one\nLEFT\nthree\n" });
    const right = await task("right", { "src/a.txt": "one\nRIGHT\nthree\n" });
    const merge = (await mergeInto({ worktree: runWt, from: left, message: "integrate left" })) ?? "";
    expect(parents(merge)).toHaveLength(2);
    expect(await startConflictedMerge({ worktree: runWt, from: right })).toEqual(["src/a.txt"]);
    write(path.join(runWt, "src/a.txt"), "one\nBOTH\nthree\n");
    const resolved = await finishMerge({ worktree: runWt, message: "integrate right" });
    const revert = await revertMerge({ worktree: runWt, commit: resolved, message: "revert right" });
    const more = await task("more", { "src/more.txt": "more\n" });
    const queued = await commitCleanMerge({ worktree: runWt, tip: repo.git(["rev-parse", "HEAD"], runWt), commit: repo.git(["rev-parse", more]), message: "integrate more", identity: ["-c", "user.name=orch", "-c", "user.email=orch@localhost"] });
    if (!queued.clean) throw new Error("expected a clean merge");

    for (const sha of [merge, resolved, revert, queued.merge]) {
      expect(repo.git(["cat-file", "commit", sha])).not.toMatch(/^gpgsig/m);
      expect(repo.git(["log", "-1", "--format=%an <%ae>|%cn <%ce>", sha])).toBe("orch <orch@localhost>|orch <orch@localhost>");
    }
    expect(parents(resolved)).toHaveLength(2);
    expect(existsSync(path.join(repo.root, "hook-ran"))).toBe(false);
    // rerere recorded nothing of the conflict (so it can replay nothing into a later one).
    const rrCache = path.join(repo.dir, ".git", "rr-cache");
    expect(existsSync(rrCache) ? readdirSync(rrCache) : []).toEqual([]);
  });
});

describe("ensureBranch and createWorktreeFrom", () => {
  it("creates the run branch at the base once, and branches a task from it as it stands", async () => {
    const root = { root: repo.dir };
    const name = "orch/r2/_run";
    expect(await ensureBranch({ repo: root, name, at: repo.headSha })).toEqual({ name, sha: repo.headSha, created: true });
    expect(await ensureBranch({ repo: root, name, at: repo.headSha })).toEqual({ name, sha: repo.headSha, created: false });

    // The run branch moves on; a task started now starts from its tip.
    const left = await task("left", { "src/left.txt": "left\n" });
    const merge = (await mergeInto({ worktree: runWt, from: left, message: "integrate left" })) ?? "";
    const wt = await createWorktreeFrom({ repo: root, path: path.join(repo.root, "tasks", "next"), branch: "orch/r1/next", from: RUN });
    expect(wt.baseSha).toBe(merge);
    expect(repo.git(["rev-parse", "HEAD"], wt.path)).toBe(merge);
    expect(readFileSync(path.join(wt.path, "src/left.txt"), "utf8")).toBe("left\n");
    // An existing run branch that moved forward is kept where it is.
    expect(await ensureBranch({ repo: root, name: RUN, at: repo.headSha })).toEqual({ name: RUN, sha: merge, created: false });

    const missing = await rejection(
      createWorktreeFrom({ repo: root, path: path.join(repo.root, "tasks", "x"), branch: "orch/r1/x", from: "orch/r9/_run" }),
      UsageError,
    );
    expect(missing.message).toMatch(/branch "orch\/r9\/_run" does not exist/);
    expect(existsSync(path.join(repo.root, "tasks", "x"))).toBe(false);

    repo.git(["checkout", "--quiet", "--orphan", "foreign"]);
    repo.git(["commit", "--quiet", "--no-verify", "-m", "someone else's"]);
    const foreign = await rejection(ensureBranch({ repo: root, name: "foreign", at: repo.headSha }), UsageError);
    expect(foreign.message).toMatch(/already exists and does not contain/);
    const clash = await rejection(ensureBranch({ repo: root, name: "orch/r1", at: repo.headSha }), UsageError);
    expect(clash.message).toMatch(/cannot be created next to the existing branch/);
  });
});
