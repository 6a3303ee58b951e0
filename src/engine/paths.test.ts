import { existsSync, mkdirSync, mkdtempSync, realpathSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { UsageError } from "../core/errors.js";
import { checkWorktreesDir, ensureWorktreesDir, legacyWorktreesDir, orchPaths, repoKey, runPaths, worktreePath, worktreesRoot } from "./paths.js";

const made: string[] = [];
afterEach(() => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
});
const scratch = (): string => {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), "orch-paths-")));
  made.push(dir);
  return dir;
};

describe("worktreesRoot", () => {
  const repo = "/home/ada/src/my-app";
  const key = repoKey(repo);

  it("is the user's cache folder by default, keyed by repository: outside the working tree", () => {
    expect(worktreesRoot(repo, { HOME: "/home/ada", XDG_CACHE_HOME: "/var/cache/ada" })).toEqual({ dir: `/var/cache/ada/orch/worktrees/${key}`, source: "cache" });
    expect(worktreesRoot(repo, { HOME: "/home/ada" })).toEqual({ dir: `/home/ada/.cache/orch/worktrees/${key}`, source: "cache" });
    // The XDG spec: a relative XDG_CACHE_HOME is invalid and ignored.
    expect(worktreesRoot(repo, { HOME: "/home/ada", XDG_CACHE_HOME: "cache" }).dir).toBe(`/home/ada/.cache/orch/worktrees/${key}`);
    expect(key).toMatch(/^my-app-[0-9a-f]{12}$/);
  });

  it("takes worktrees.dir of the config as given, relative to the repository", () => {
    expect(worktreesRoot(repo, { HOME: "/home/ada" }, "../my-app-worktrees")).toEqual({ dir: "/home/ada/src/my-app-worktrees", source: "config" });
    expect(worktreesRoot(repo, { HOME: "/home/ada" }, "/big/wt")).toEqual({ dir: "/big/wt", source: "config" });
  });

  it("lets ORCH_WORKTREES_DIR override both, keyed by repository; empty is unset; relative is a usage error", () => {
    expect(worktreesRoot(repo, { HOME: "/home/ada", ORCH_WORKTREES_DIR: "/big/orch" }, "../x")).toEqual({ dir: `/big/orch/${key}`, source: "env" });
    expect(worktreesRoot(repo, { HOME: "/home/ada", ORCH_WORKTREES_DIR: "" }, "../x").source).toBe("config");
    expect(() => worktreesRoot(repo, { HOME: "/home/ada", ORCH_WORKTREES_DIR: "wt" })).toThrow(UsageError);
    expect(() => worktreesRoot(repo, { HOME: "/home/ada", ORCH_WORKTREES_DIR: "wt" })).toThrow(/ORCH_WORKTREES_DIR must be an absolute path, not "wt"/);
  });
});

describe("repoKey", () => {
  it("tells apart two checkouts of one name and names a repository the same through a symbolic link", () => {
    const root = scratch();
    for (const d of ["a/app", "b/app"]) mkdirSync(join(root, d), { recursive: true });
    symlinkSync(join(root, "a/app"), join(root, "link"));
    expect(repoKey(join(root, "a/app"))).not.toBe(repoKey(join(root, "b/app")));
    expect(repoKey(join(root, "link"))).toBe(repoKey(join(root, "a/app")));
    expect(repoKey(join(root, "a/app"))).toMatch(/^app-/);
  });
});

describe("a run's paths", () => {
  it("use the folder the run recorded, and .orch/worktrees for a run made before runs recorded one", () => {
    const recorded = runPaths({ repoRoot: "/r", settings: { worktrees: "/cache/orch/worktrees/r-1" } });
    expect(worktreePath(recorded, "run", "task")).toBe("/cache/orch/worktrees/r-1/run/task");
    expect(recorded.db).toBe("/r/.orch/orch.db");
    const old = runPaths({ repoRoot: "/r", settings: {} });
    expect(worktreePath(old, "run", "task")).toBe("/r/.orch/worktrees/run/task");
    expect(orchPaths("/r").worktrees).toBe(legacyWorktreesDir("/r"));
  });

  it("make the folder readable by its owner alone and record its real path; a file in its place is a usage error", () => {
    const root = scratch();
    symlinkSync(root, join(root, "link"));
    const dir = ensureWorktreesDir(join(root, "link", "cache", "wt"));
    expect(dir).toBe(join(root, "cache", "wt"));
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    writeFileSync(join(root, "file"), "");
    expect(() => ensureWorktreesDir(join(root, "file"))).toThrow(/is not a folder/);
  });

  it("are checked without writing anything: a file on the way, a folder not writable, a relative path", () => {
    const root = scratch();
    writeFileSync(join(root, "file"), "");
    mkdirSync(join(root, "locked"), { mode: 0o500 });
    expect(() => checkWorktreesDir(join(root, "new", "deep"))).not.toThrow();
    expect(() => checkWorktreesDir(join(root, "file", "wt"))).toThrow(`the worktree folder ${join(root, "file", "wt")} cannot be made: ${join(root, "file")} is not a folder`);
    expect(() => checkWorktreesDir("wt")).toThrow(/must be an absolute path/);
    // root can write anywhere: the lock only binds everyone else.
    if (process.getuid?.() !== 0) expect(() => checkWorktreesDir(join(root, "locked", "wt"))).toThrow(/is not writable by you/);
    expect(existsSync(join(root, "new"))).toBe(false);
  });
});
