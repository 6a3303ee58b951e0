// Integration tests of src/git on real throw-away repositories. HOME, XDG_CONFIG_HOME and the system
// config are redirected so the developer's own git configuration plays no part unless a test sets one.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { UsageError } from "../src/core/errors.js";
import {
  assertNewBranches,
  branchExists,
  changeBetween,
  changeSince,
  changedFiles,
  commitAll,
  commitWork,
  commitsOn,
  createWorktree,
  deleteBranch,
  diffStat,
  ensureExcluded,
  inspectRepo,
  removeWorktree,
  resolveBase,
  worktreeStatus,
  inspectWorktree,
  STATUS_ARGS,
  GitError,
  isLinkedWorktreeOf,
} from "../src/git/index.js";
import type { RepoInfo } from "../src/git/index.js";
import { adoptRepoLookup, type RepoLookup } from "../src/git/locate.js";
import { startRepoLookup } from "../src/git/repo-lookup.js";

const TASK_BRANCH = "orch/261121-0638-k3f9/fix-tests";

let tmp = "";
let savedEnv: NodeJS.ProcessEnv = {};

beforeEach(() => {
  savedEnv = { ...process.env };
  tmp = realpathSync(mkdtempSync(path.join(os.tmpdir(), "orch-git-test-")));
  const home = path.join(tmp, "home");
  mkdirSync(home);
  process.env.HOME = home;
  process.env.XDG_CONFIG_HOME = path.join(home, ".config");
  process.env.GIT_CONFIG_NOSYSTEM = "1";
  // Repositories above the temp dir (if any) must not be found by discovery.
  process.env.GIT_CEILING_DIRECTORIES = tmp;
  for (const name of [
    "GIT_CONFIG_GLOBAL",
    "GIT_CONFIG_SYSTEM",
    "GIT_CONFIG_PARAMETERS",
    "GIT_CONFIG_COUNT",
    "GIT_AUTHOR_NAME",
    "GIT_AUTHOR_EMAIL",
    "GIT_COMMITTER_NAME",
    "GIT_COMMITTER_EMAIL",
    "EMAIL",
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
  ]) {
    delete process.env[name];
  }
});

afterEach(() => {
  for (const name of Object.keys(process.env)) if (!(name in savedEnv)) delete process.env[name];
  Object.assign(process.env, savedEnv);
  rmSync(tmp, { recursive: true, force: true });
});

/** git for setting up fixtures; the identity is given per command so the repositories carry none. */
function sh(cwd: string, ...args: string[]): string {
  return execFileSync("git", ["-c", "user.name=Setup", "-c", "user.email=setup@example.com", ...args], {
    cwd,
    env: process.env,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
  });
}

function write(file: string, content: string): void {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, content);
}

function makeRepo(name = "repo", options: { commit?: boolean } = {}): string {
  const dir = path.join(tmp, name);
  mkdirSync(dir);
  sh(dir, "init", "-q", "-b", "main");
  if (options.commit === false) return dir;
  write(path.join(dir, "README.md"), "# demo\n");
  write(path.join(dir, "src", "a.txt"), "one\ntwo\nthree\n");
  write(path.join(dir, "src", "old.txt"), "w\nx\ny\nz\n");
  sh(dir, "add", "-A");
  sh(dir, "commit", "-q", "-m", "initial");
  return dir;
}

/** Every file under dir with a hash of its content, to prove that nothing was written. */
function snapshot(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const full = path.join(d, entry.name);
      if (entry.isDirectory()) {
        out.push(`${path.relative(dir, full)}/`);
        walk(full);
      } else {
        const hash = createHash("sha1").update(readFileSync(full)).digest("hex");
        out.push(`${path.relative(dir, full)} ${hash} ${statSync(full).mtimeMs}`);
      }
    }
  };
  walk(dir);
  return out.sort();
}

async function rejection(promise: Promise<unknown>): Promise<UsageError> {
  const error: unknown = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(UsageError);
  if (!(error instanceof UsageError)) throw new Error("expected a UsageError");
  return error;
}

describe("inspectRepo", () => {
  it("finds the top level, common dir, branch and head from a subdirectory", async () => {
    const dir = makeRepo();
    const before = snapshot(dir);
    const info = await inspectRepo(path.join(dir, "src"));
    expect(snapshot(dir)).toEqual(before);
    expect(info).toEqual({
      root: dir,
      commonDir: path.join(dir, ".git"),
      currentBranch: "main",
      headSha: sh(dir, "rev-parse", "HEAD").trim(),
    });
  });

  it("reports a detached HEAD as no current branch", async () => {
    const dir = makeRepo();
    sh(dir, "checkout", "-q", "--detach");
    const info = await inspectRepo(dir);
    expect(info.currentBranch).toBeUndefined();
    expect(await resolveBase(info)).toEqual({ branch: "HEAD", sha: info.headSha });
  });

  it("in a linked worktree, gives the worktree as root and the main repository's common dir", async () => {
    const dir = makeRepo();
    const repo = await inspectRepo(dir);
    const wt = await createWorktree({
      repo,
      path: ".orch/worktrees/r1/t1",
      branch: "orch/r1-t1",
      baseSha: repo.headSha,
    });
    const inner = await inspectRepo(wt.path);
    expect(inner.root).toBe(wt.path);
    expect(inner.commonDir).toBe(repo.commonDir);
    expect(inner.currentBranch).toBe("orch/r1-t1");
  });

  it("says a plain directory is not a git repository and writes nothing", async () => {
    const dir = path.join(tmp, "plain");
    mkdirSync(dir);
    write(path.join(dir, "notes.txt"), "hello\n");
    const before = snapshot(dir);
    const error = await rejection(inspectRepo(dir));
    expect(error.message).toBe(`${dir} is not a git repository`);
    expect(error.hint).toMatch(/git init/);
    expect(snapshot(dir)).toEqual(before);
    expect(existsSync(path.join(dir, ".orch"))).toBe(false);
  });

  it("says a repository without a commit needs a first commit and writes nothing", async () => {
    const dir = makeRepo("empty", { commit: false });
    write(path.join(dir, "file.txt"), "x\n");
    const before = snapshot(dir);
    const error = await rejection(inspectRepo(dir));
    expect(error.message).toMatch(/has no commit yet/);
    expect(error.hint).toMatch(/first commit/);
    expect(snapshot(dir)).toEqual(before);
  });

  it("says git is not installed when it is not on PATH", async () => {
    const dir = makeRepo();
    const emptyBin = path.join(tmp, "bin");
    mkdirSync(emptyBin);
    process.env.PATH = emptyBin;
    const error = await rejection(inspectRepo(dir));
    expect(error.message).toMatch(/git is not installed/);
    expect(error.hint).toMatch(/install git/);
  });

  it("says a missing directory does not exist", async () => {
    const error = await rejection(inspectRepo(path.join(tmp, "nowhere")));
    expect(error.message).toMatch(/does not exist/);
  });

  it("refuses the inside of a .git directory", async () => {
    const dir = makeRepo();
    const error = await rejection(inspectRepo(path.join(dir, ".git")));
    expect(error.message).toMatch(/not a working tree/);
  });
});

describe("the entry's early repository lookup", () => {
  it("asks git what inspectRepo asks, and inspectRepo gives the same answer from it", async () => {
    const dir = makeRepo();
    const asked = await inspectRepo(path.join(dir, "src"));
    const lookup = startRepoLookup(path.join(dir, "src"));
    expect(lookup.cwd).toBe(path.join(dir, "src"));
    expect((await lookup.result)?.exitCode).toBe(0);
    adoptRepoLookup(lookup);
    expect(await inspectRepo(path.join(dir, "src"))).toEqual(asked);
  });

  it("answers the process's first inspectRepo only, and only for the folder it ran in", async () => {
    const dir = makeRepo();
    const other = makeRepo("other");
    // The answer git gave in `other`, handed over as if it had been asked in `dir`: whoever takes it says `other`.
    const otherAnswer = await startRepoLookup(other).result;
    const planted = (cwd: string): RepoLookup => ({ cwd, result: Promise.resolve(otherAnswer) });

    adoptRepoLookup(planted(dir));
    expect((await inspectRepo(dir)).root).toBe(other);
    expect((await inspectRepo(dir)).root).toBe(dir); // taken once: the next call asks git itself

    adoptRepoLookup(planted(path.join(dir, "src")));
    expect((await inspectRepo(dir)).root).toBe(dir); // asked about another folder: not used
    expect((await inspectRepo(path.join(dir, "src"))).root).toBe(dir); // and dropped by that first call
  });

  it("falls back to asking git when the early git could not run, and reports a missing git as before", async () => {
    const dir = makeRepo();
    adoptRepoLookup({ cwd: dir, result: Promise.resolve(undefined) });
    expect((await inspectRepo(dir)).root).toBe(dir);

    const emptyBin = path.join(tmp, "bin");
    mkdirSync(emptyBin);
    process.env.PATH = emptyBin;
    const lookup = startRepoLookup(dir);
    expect(await lookup.result).toBeUndefined();
    adoptRepoLookup(lookup);
    const error = await rejection(inspectRepo(dir));
    expect(error.message).toMatch(/git is not installed/);
  });

  it("carries a plain folder's refusal through, with the same words", async () => {
    const dir = path.join(tmp, "plain");
    mkdirSync(dir);
    const lookup = startRepoLookup(dir);
    expect((await lookup.result)?.exitCode).toBe(128);
    adoptRepoLookup(lookup);
    const error = await rejection(inspectRepo(dir));
    expect(error.message).toBe(`${dir} is not a git repository`);
  });
});

describe("resolveBase", () => {
  it("defaults to the current branch and resolves other local and remote-tracking branches", async () => {
    const dir = makeRepo();
    const main = sh(dir, "rev-parse", "HEAD").trim();
    sh(dir, "checkout", "-q", "-b", "dev");
    write(path.join(dir, "dev.txt"), "dev\n");
    sh(dir, "add", "-A");
    sh(dir, "commit", "-q", "-m", "dev work");
    const dev = sh(dir, "rev-parse", "HEAD").trim();
    sh(dir, "update-ref", "refs/remotes/origin/main", main);
    const repo = await inspectRepo(dir);
    expect(await resolveBase(repo)).toEqual({ branch: "dev", sha: dev });
    // Without a base, the answer is what inspecting read: no second look that a moving branch could contradict.
    expect(await resolveBase({ ...repo, headSha: main })).toEqual({ branch: "dev", sha: main });
    expect(await resolveBase({ ...repo, currentBranch: undefined })).toEqual({ branch: "HEAD", sha: dev });
    expect(await resolveBase(repo, "main")).toEqual({ branch: "main", sha: main });
    expect(await resolveBase(repo, "origin/main")).toEqual({ branch: "origin/main", sha: main });
  });

  it("names an unknown base branch, lists existing ones and creates none", async () => {
    const dir = makeRepo();
    sh(dir, "branch", "feature/login");
    const repo = await inspectRepo(dir);
    const branchesBefore = sh(dir, "branch", "--list");
    const error = await rejection(resolveBase(repo, "mian"));
    expect(error.message).toMatch(/base branch "mian" does not exist/);
    expect(error.hint).toMatch(/existing branches: .*main/);
    expect(error.hint).toMatch(/feature\/login/);
    expect(sh(dir, "branch", "--list")).toBe(branchesBefore);
  });
});

describe("ensureExcluded", () => {
  it("adds the entry once, keeps existing lines, and hides .orch/ from git status", async () => {
    const dir = makeRepo();
    const repo = await inspectRepo(dir);
    const exclude = path.join(repo.commonDir, "info", "exclude");
    writeFileSync(exclude, "# mine\n*.log"); // no final newline
    expect(await ensureExcluded(repo)).toBe(true);
    expect(readFileSync(exclude, "utf8")).toBe("# mine\n*.log\n.orch/\n");
    expect(await ensureExcluded(repo)).toBe(false);
    expect(await ensureExcluded(repo, ".orch/")).toBe(false);
    expect(readFileSync(exclude, "utf8")).toBe("# mine\n*.log\n.orch/\n");

    write(path.join(dir, ".orch", "orch.db"), "x");
    expect(sh(dir, "status", "--porcelain")).toBe("");
  });

  it("creates info/ when the repository has none", async () => {
    const dir = makeRepo();
    const repo = await inspectRepo(dir);
    rmSync(path.join(repo.commonDir, "info"), { recursive: true, force: true });
    expect(await ensureExcluded(repo)).toBe(true);
    expect(readFileSync(path.join(repo.commonDir, "info", "exclude"), "utf8")).toBe(".orch/\n");
  });
});

describe("createWorktree", () => {
  it("many at once all succeed, on their own branches (git can trip over another add's half-written metadata)", async () => {
    const dir = makeRepo();
    const repo = await inspectRepo(dir);
    const base = await resolveBase(repo);
    const made = await Promise.all(
      Array.from({ length: 16 }, (_, i) => createWorktree({ repo, path: `.orch/worktrees/r/t${i}`, branch: `orch/r/t${i}`, baseSha: base.sha, branchChecked: true })),
    );
    expect(made.map((w) => w.branch)).toEqual(Array.from({ length: 16 }, (_, i) => `orch/r/t${i}`));
    for (const w of made) expect(sh(w.path, "rev-parse", "--abbrev-ref", "HEAD").trim()).toBe(w.branch);
  });

  it("creates a worktree on a slashed branch without touching the user's tree, index or HEAD", async () => {
    const dir = makeRepo();
    // The user's work in progress: an unstaged edit, a staged edit, a staged new file, an untracked file.
    write(path.join(dir, "README.md"), "# demo\nunstaged edit\n");
    write(path.join(dir, "src", "a.txt"), "one\nTWO staged\nthree\n");
    sh(dir, "add", "src/a.txt");
    write(path.join(dir, "staged-new.txt"), "new\n");
    sh(dir, "add", "staged-new.txt");
    write(path.join(dir, "scratch.txt"), "untracked\n");
    const status = sh(dir, "status", "--porcelain");
    const cached = sh(dir, "diff", "--cached");
    const unstaged = sh(dir, "diff");
    const head = sh(dir, "symbolic-ref", "HEAD");
    const headSha = sh(dir, "rev-parse", "HEAD");
    const files = snapshot(dir).filter((f) => !f.startsWith(".git"));

    const repo = await inspectRepo(dir);
    await ensureExcluded(repo);
    const base = await resolveBase(repo);
    const wt = await createWorktree({
      repo,
      path: ".orch/worktrees/261121-0638-k3f9/fix-tests",
      branch: TASK_BRANCH,
      baseSha: base.sha,
    });

    expect(wt).toEqual({
      path: path.join(dir, ".orch/worktrees/261121-0638-k3f9/fix-tests"),
      branch: TASK_BRANCH,
      baseSha: base.sha,
    });
    expect(await branchExists(repo, TASK_BRANCH)).toBe(true);
    // The worktree holds the committed base, not the user's uncommitted edits.
    expect(readFileSync(path.join(wt.path, "src", "a.txt"), "utf8")).toBe("one\ntwo\nthree\n");
    expect(existsSync(path.join(wt.path, "scratch.txt"))).toBe(false);
    expect(existsSync(path.join(wt.path, "staged-new.txt"))).toBe(false);
    expect(sh(wt.path, "symbolic-ref", "HEAD").trim()).toBe(`refs/heads/${TASK_BRANCH}`);

    // An agent's work committed in the worktree changes nothing in the user's tree either.
    write(path.join(wt.path, "src", "a.txt"), "agent\n");
    expect(await commitAll({ worktree: wt.path, message: "agent work" })).toMatch(/^[0-9a-f]{40}$/);

    expect(sh(dir, "status", "--porcelain")).toBe(status);
    expect(sh(dir, "diff", "--cached")).toBe(cached);
    expect(sh(dir, "diff")).toBe(unstaged);
    expect(sh(dir, "symbolic-ref", "HEAD")).toBe(head);
    expect(sh(dir, "rev-parse", "HEAD")).toBe(headSha);
    expect(snapshot(dir).filter((f) => !f.startsWith(".git") && !f.startsWith(".orch"))).toEqual(files);
  });

  it("refuses a branch that already exists and writes nothing", async () => {
    const dir = makeRepo();
    sh(dir, "branch", TASK_BRANCH);
    const repo = await inspectRepo(dir);
    const worktrees = sh(dir, "worktree", "list", "--porcelain");
    const target = path.join(dir, ".orch", "worktrees", "x");
    const error = await rejection(createWorktree({ repo, path: target, branch: TASK_BRANCH, baseSha: repo.headSha }));
    expect(error.message).toBe(`branch "${TASK_BRANCH}" already exists`);
    expect(existsSync(path.join(dir, ".orch"))).toBe(false);
    expect(sh(dir, "worktree", "list", "--porcelain")).toBe(worktrees);
  });

  it("refuses a branch that clashes with an existing one as a folder", async () => {
    const dir = makeRepo();
    sh(dir, "branch", "orch/261121-0638-k3f9");
    const repo = await inspectRepo(dir);
    const error = await rejection(
      createWorktree({ repo, path: path.join(tmp, "wt"), branch: TASK_BRANCH, baseSha: repo.headSha }),
    );
    expect(error.message).toMatch(/existing branch "orch\/261121-0638-k3f9"/);
    expect(await branchExists(repo, TASK_BRANCH)).toBe(false);
    expect(existsSync(path.join(tmp, "wt"))).toBe(false);

    sh(dir, "branch", "orch/other/task");
    const below = await rejection(
      createWorktree({ repo, path: path.join(tmp, "wt2"), branch: "orch/other", baseSha: repo.headSha }),
    );
    expect(below.message).toMatch(/existing branch "orch\/other\/task"/);
  });

  it("refuses an invalid branch name and a non-empty target path", async () => {
    const dir = makeRepo();
    const repo = await inspectRepo(dir);
    const invalid = await rejection(
      createWorktree({ repo, path: path.join(tmp, "wt"), branch: "bad..name", baseSha: repo.headSha }),
    );
    expect(invalid.message).toMatch(/not a valid branch name/);
    write(path.join(tmp, "busy", "file"), "x");
    const busy = await rejection(
      createWorktree({ repo, path: path.join(tmp, "busy"), branch: "orch/ok", baseSha: repo.headSha }),
    );
    expect(busy.message).toMatch(/already exists and is not empty/);
    expect(await branchExists(repo, "orch/ok")).toBe(false);
  });
});

describe("assertNewBranches", () => {
  it("agrees with git check-ref-format on every name, plain or not", async () => {
    const dir = makeRepo();
    const repo = await inspectRepo(dir);
    const names = ["orch/r1/t-01", "a.b/c_d", "x/.hidden", "y.lock", "z/w.lock/v", "end.", "a//b", "a..b", "-x", "HEAD", "sp ace", "at@{1}", "ok/a.b.c", "trail/", "ü/ß"];
    const verdicts = await Promise.all(
      names.map(async (name) => {
        let valid = true;
        try {
          execFileSync("git", ["check-ref-format", "--branch", name], { cwd: dir, stdio: "ignore" });
        } catch {
          valid = false;
        }
        const error = await assertNewBranches(repo, [name]).then(() => undefined, (e: unknown) => e);
        return { name, valid, refused: error instanceof UsageError };
      }),
    );
    for (const v of verdicts) expect({ name: v.name, refused: v.refused }).toEqual({ name: v.name, refused: !v.valid || v.name.startsWith("-") });
  });

  it("checks many names in one listing: taken, clashing with a branch or with each other", async () => {
    const dir = makeRepo();
    sh(dir, "branch", "orch/run/taken");
    sh(dir, "branch", "orch/folder");
    const repo = await inspectRepo(dir);
    await expect(assertNewBranches(repo, ["orch/run/a", "orch/run/b", "orch/run2/a"])).resolves.toBeUndefined();
    await expect(assertNewBranches(repo, ["orch/run/a", "orch/run/taken"])).rejects.toThrow('branch "orch/run/taken" already exists');
    await expect(assertNewBranches(repo, ["orch/folder/x"])).rejects.toThrow('existing branch "orch/folder"');
    await expect(assertNewBranches(repo, ["orch"])).rejects.toThrow(/existing branch "orch\/(run\/taken|folder)"/);
    await expect(assertNewBranches(repo, ["orch/new/a", "orch/new/a"])).rejects.toThrow('branch "orch/new/a" already exists');
    await expect(assertNewBranches(repo, ["orch/new", "orch/new/a"])).rejects.toThrow('"orch/new/a" cannot be created next to the existing branch "orch/new"');
    expect(sh(dir, "branch", "--list", "orch/new*")).toBe("");
  });
});

describe("commitAll", () => {
  async function taskWorktree(): Promise<{ repo: RepoInfo; wt: string }> {
    const dir = makeRepo();
    const repo = await inspectRepo(dir);
    const wt = await createWorktree({ repo, path: path.join(tmp, "wt"), branch: TASK_BRANCH, baseSha: repo.headSha });
    return { repo, wt: wt.path };
  }

  function agentEdits(wt: string): void {
    write(path.join(wt, "src", "a.txt"), "one\n2\nthree\n");
    rmSync(path.join(wt, "src", "old.txt"));
    write(path.join(wt, "src", "deep", "new.txt"), "fresh\nlines\n");
  }

  it("commits new, changed and deleted files as orch when the user has no identity", async () => {
    const { wt } = await taskWorktree();
    agentEdits(wt);
    const sha = await commitAll({ worktree: wt, message: "fix: the tests" });
    expect(sha).toBe(sh(wt, "rev-parse", "HEAD").trim());
    expect(sh(wt, "log", "-1", "--format=%an <%ae>|%cn <%ce>|%s")).toBe(
      "orch <orch@localhost>|orch <orch@localhost>|fix: the tests\n",
    );
    expect(sh(wt, "show", "--name-status", "--format=", "HEAD").trim().split("\n").sort()).toEqual([
      "A\tsrc/deep/new.txt",
      "D\tsrc/old.txt",
      "M\tsrc/a.txt",
    ]);
    expect((await worktreeStatus(wt)).dirty).toBe(false);
    // The fallback identity was for that commit only.
    expect(existsSync(path.join(tmp, "home", ".gitconfig"))).toBe(false);
    expect(sh(wt, "config", "--list", "--local")).not.toMatch(/user\./);
  });

  it("uses the user's own identity when they have one", async () => {
    const { wt } = await taskWorktree();
    sh(tmp, "config", "--global", "user.name", "Ada Lovelace");
    sh(tmp, "config", "--global", "user.email", "ada@example.com");
    agentEdits(wt);
    await commitAll({ worktree: wt, message: "work" });
    expect(sh(wt, "log", "-1", "--format=%an <%ae>|%cn <%ce>")).toBe(
      "Ada Lovelace <ada@example.com>|Ada Lovelace <ada@example.com>\n",
    );
  });

  it("lets an identity from the environment win", async () => {
    const { wt } = await taskWorktree();
    process.env.GIT_AUTHOR_NAME = "Env Author";
    process.env.GIT_AUTHOR_EMAIL = "author@example.com";
    agentEdits(wt);
    await commitAll({ worktree: wt, message: "work" });
    expect(sh(wt, "log", "-1", "--format=%an <%ae>|%cn <%ce>")).toBe(
      "Env Author <author@example.com>|orch <orch@localhost>\n",
    );
  });

  it("returns undefined when there is nothing to commit", async () => {
    const { wt } = await taskWorktree();
    const head = sh(wt, "rev-parse", "HEAD");
    expect(await commitAll({ worktree: wt, message: "nothing" })).toBeUndefined();
    expect(sh(wt, "rev-parse", "HEAD")).toBe(head);
  });

  it("tells, as commitWork, the commit the worktree is at whether or not it made one", async () => {
    const { wt } = await taskWorktree();
    const head = sh(wt, "rev-parse", "HEAD").trim();
    expect(await commitWork({ worktree: wt, message: "nothing" })).toEqual({ commit: head, made: false });
    expect(sh(wt, "rev-parse", "HEAD").trim()).toBe(head);
    agentEdits(wt);
    const done = await commitWork({ worktree: wt, message: "work" });
    expect(done.made).toBe(true);
    expect(done.commit).toBe(sh(wt, "rev-parse", "HEAD").trim());
    expect(sh(wt, "rev-parse", "HEAD~1").trim()).toBe(head);
  });

  it("fails as commitWork when git cannot commit, rather than telling HEAD", async () => {
    const { wt } = await taskWorktree();
    agentEdits(wt);
    // A lock git cannot take: nothing can be staged or committed.
    write(path.join(path.resolve(wt, sh(wt, "rev-parse", "--git-dir").trim()), "index.lock"), "");
    await expect(commitWork({ worktree: wt, message: "work" })).rejects.toThrow(/index\.lock/);
  });

  it("is not blocked by the user's commit hooks", async () => {
    const { repo, wt } = await taskWorktree();
    const hooks = path.join(repo.commonDir, "hooks");
    mkdirSync(hooks, { recursive: true });
    for (const hook of ["pre-commit", "commit-msg", "prepare-commit-msg"]) {
      write(path.join(hooks, hook), "#!/bin/sh\necho blocked >&2\nexit 1\n");
      chmodSync(path.join(hooks, hook), 0o755);
    }
    agentEdits(wt);
    expect(await commitAll({ worktree: wt, message: "work" })).toMatch(/^[0-9a-f]{40}$/);
  });
});

describe("comparing a task branch with its base", () => {
  it("counts files, insertions and deletions, lists changed files and commits newest first", async () => {
    const dir = makeRepo();
    const repo = await inspectRepo(dir);
    const base = await resolveBase(repo);
    const wt = await createWorktree({ repo, path: path.join(tmp, "wt"), branch: TASK_BRANCH, baseSha: base.sha });

    expect(await diffStat({ repo, from: base.branch, to: TASK_BRANCH })).toEqual({
      files: 0,
      insertions: 0,
      deletions: 0,
      text: "",
    });
    expect(await commitsOn({ repo, base: base.branch, branch: TASK_BRANCH })).toEqual([]);

    write(path.join(wt.path, "src", "a.txt"), "one\n2\nthree\n"); // +1 -1
    const first = await commitAll({ worktree: wt.path, message: "first change" });
    rmSync(path.join(wt.path, "src", "old.txt")); // -4
    write(path.join(wt.path, "docs", "new file.md"), "fresh\nlines\n"); // +2
    const second = await commitAll({ worktree: wt.path, message: "second change" });
    // A commit on the base after the branch left it is not part of the branch's diff.
    write(path.join(dir, "later.txt"), "base moved on\n");
    sh(dir, "add", "later.txt");
    sh(dir, "commit", "-q", "-m", "base moves");

    const stat = await diffStat({ repo, from: "main", to: TASK_BRANCH });
    expect({ files: stat.files, insertions: stat.insertions, deletions: stat.deletions }).toEqual({
      files: 3,
      insertions: 3,
      deletions: 5,
    });
    expect(stat.text).toMatch(/src\/a\.txt/);
    expect(stat.text).toMatch(/3 files changed, 3 insertions\(\+\), 5 deletions\(-\)/);
    expect(await changedFiles({ repo, from: "main", to: TASK_BRANCH })).toEqual([
      "docs/new file.md",
      "src/a.txt",
      "src/old.txt",
    ]);
    expect(await commitsOn({ repo, base: "main", branch: TASK_BRANCH })).toEqual([
      { sha: second, subject: "second change" },
      { sha: first, subject: "first change" },
    ]);
  });
});

describe("changeBetween", () => {
  it("lists each file with its status and line counts: added, modified, deleted, renamed, binary, odd names", async () => {
    const dir = makeRepo();
    write(path.join(dir, "src", "old.txt"), "w\nx\ny\nz\nv\n");
    sh(dir, "mv", "src/old.txt", "src/moved.txt");
    write(path.join(dir, "src", "a.txt"), "one\n");
    write(path.join(dir, "tab\tand\nnewline.md"), "x\n");
    writeFileSync(path.join(dir, "logo.bin"), Buffer.from([0, 1, 2, 0, 255]));
    sh(dir, "rm", "-q", "README.md");
    sh(dir, "add", "-A");
    sh(dir, "commit", "-q", "-m", "change");
    const files = await changeBetween(dir, "HEAD~1", "HEAD");
    expect(files).toEqual([
      { path: "README.md", status: "deleted", added: 0, removed: 1 },
      { path: "logo.bin", status: "added", added: undefined, removed: undefined },
      { path: "src/a.txt", status: "modified", added: 0, removed: 2 },
      { path: "src/moved.txt", from: "src/old.txt", status: "renamed", added: 1, removed: 0 },
      { path: "tab\tand\nnewline.md", status: "added", added: 1, removed: 0 },
    ]);
  });
});

describe("changeSince", () => {
  it("lists only what a branch changed since it left another, however far that one moved on", async () => {
    const dir = makeRepo();
    sh(dir, "checkout", "-q", "-b", "task");
    write(path.join(dir, "task.txt"), "mine\n");
    sh(dir, "add", "-A");
    sh(dir, "commit", "-q", "-m", "task");
    const commit = sh(dir, "rev-parse", "HEAD").trim();
    sh(dir, "checkout", "-q", "-");
    write(path.join(dir, "other.txt"), "theirs\n");
    sh(dir, "rm", "-q", "README.md");
    sh(dir, "add", "-A");
    sh(dir, "commit", "-q", "-m", "moved on");
    expect(await changeSince(dir, "HEAD", commit)).toEqual([{ path: "task.txt", status: "added", added: 1, removed: 0 }]);
    // From where they stand, the two differ in more: the merge base is what makes it the task's change.
    expect((await changeBetween(dir, "HEAD", commit)).map((f) => f.path)).toEqual(["README.md", "other.txt", "task.txt"]);
  });
});

describe("inspectWorktree", () => {
  it("tells in one launch where a worktree belongs, its branch and its changes, without a lock in the repository", async () => {
    const dir = makeRepo();
    const repo = await inspectRepo(dir);
    const { path: wt } = await createWorktree({ repo, path: path.join(tmp, "wt"), branch: "orch/s", baseSha: repo.headSha });
    expect(await inspectWorktree(wt)).toEqual({ root: realpathSync(wt), commonDir: repo.commonDir, currentBranch: "orch/s", status: { dirty: false, paths: [], entries: [] } });
    write(path.join(wt, "README.md"), "changed\n");
    write(path.join(wt, "new dir", "naïve file.txt"), "x\n");
    const inside = await inspectWorktree(wt);
    expect(inside.status.dirty).toBe(true);
    expect([...inside.status.paths].sort()).toEqual(["README.md", "new dir/naïve file.txt"]);
    expect(inside.status).toEqual(await worktreeStatus(wt));
    sh(wt, "checkout", "-q", "--detach");
    expect((await inspectWorktree(wt)).currentBranch).toBeUndefined();
  });

  it("fails as a status failure when git reads the folder but not its changes", async () => {
    const dir = makeRepo();
    const repo = await inspectRepo(dir);
    const { path: wt } = await createWorktree({ repo, path: path.join(tmp, "wt"), branch: "orch/s", baseSha: repo.headSha });
    writeFileSync(path.join(path.resolve(wt, sh(wt, "rev-parse", "--git-dir").trim()), "index"), "not an index");
    const error: unknown = await inspectWorktree(wt).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(GitError);
    expect((error as GitError).args).toBe(STATUS_ARGS);
  });

  it("answers for a folder inside the user's checkout with the checkout's top, and fails outside any repository", async () => {
    const dir = makeRepo();
    const inner = path.join(dir, "src");
    expect((await inspectWorktree(inner)).root).toBe(realpathSync(dir));
    const plain = mkdtempSync(path.join(tmp, "plain-"));
    await expect(inspectWorktree(plain)).rejects.toThrow(/not a git repository/);
  });
});

describe("isLinkedWorktreeOf", () => {
  it("reads git's own files: true only for a worktree of this repository, registered there, with the branch checked out", async () => {
    const dir = makeRepo();
    const repo = await inspectRepo(dir);
    const { path: wt } = await createWorktree({ repo, path: path.join(tmp, "wt"), branch: "orch/s", baseSha: repo.headSha });
    expect(await isLinkedWorktreeOf(wt, repo.commonDir, "orch/s")).toBe(true);
    expect(await isLinkedWorktreeOf(wt, repo.commonDir, "orch/other")).toBe(false);
    // The user's own checkout, a plain folder, a folder that is not there, a symbolic link to the worktree.
    expect(await isLinkedWorktreeOf(repo.root, repo.commonDir, "main")).toBe(false);
    expect(await isLinkedWorktreeOf(mkdtempSync(path.join(tmp, "plain-")), repo.commonDir, "orch/s")).toBe(false);
    expect(await isLinkedWorktreeOf(path.join(tmp, "never"), repo.commonDir, "orch/s")).toBe(false);
    symlinkSync(wt, path.join(tmp, "link"));
    expect(await isLinkedWorktreeOf(path.join(tmp, "link"), repo.commonDir, "orch/s")).toBe(false);
    // Another repository's worktree on a branch of the same name.
    const other = makeRepo("other");
    const otherRepo = await inspectRepo(other);
    const { path: theirs } = await createWorktree({ repo: otherRepo, path: path.join(tmp, "theirs"), branch: "orch/s", baseSha: otherRepo.headSha });
    expect(await isLinkedWorktreeOf(theirs, repo.commonDir, "orch/s")).toBe(false);
    // A detached HEAD, and a worktree git no longer has registered there (moved by hand).
    sh(wt, "checkout", "-q", "--detach");
    expect(await isLinkedWorktreeOf(wt, repo.commonDir, "orch/s")).toBe(false);
    sh(wt, "checkout", "-q", "orch/s");
    renameSync(wt, path.join(tmp, "moved"));
    expect(await isLinkedWorktreeOf(path.join(tmp, "moved"), repo.commonDir, "orch/s")).toBe(false);
  });
});

describe("worktreeStatus and removeWorktree", () => {
  it("lists staged, unstaged, renamed and untracked paths, including odd names", async () => {
    const dir = makeRepo();
    const repo = await inspectRepo(dir);
    const { path: wt } = await createWorktree({
      repo,
      path: path.join(tmp, "wt"),
      branch: "orch/s",
      baseSha: repo.headSha,
    });
    expect(await worktreeStatus(wt)).toEqual({ dirty: false, paths: [], entries: [] });

    write(path.join(wt, "README.md"), "changed\n");
    sh(wt, "mv", "src/old.txt", "src/renamed.txt");
    write(path.join(wt, "new dir", "naïve file.txt"), "x\n");
    write(path.join(wt, "ignored.log"), "x\n");
    write(path.join(wt, ".gitignore"), "*.log\n");
    const status = await worktreeStatus(wt);
    expect(status.dirty).toBe(true);
    expect([...status.paths].sort()).toEqual([".gitignore", "README.md", "new dir/naïve file.txt", "src/renamed.txt"]);
    expect(status.entries).toContainEqual({ code: "R ", path: "src/renamed.txt", origPath: "src/old.txt" });
    expect(status.entries).toContainEqual({ code: " M", path: "README.md" });
  });

  it("removes a clean worktree, refuses a dirty one without force, and tolerates a missing one", async () => {
    const dir = makeRepo();
    const repo = await inspectRepo(dir);
    const clean = await createWorktree({
      repo,
      path: path.join(tmp, "clean"),
      branch: "orch/clean",
      baseSha: repo.headSha,
    });
    expect(await removeWorktree({ repo, path: clean.path })).toBe(true);
    expect(existsSync(clean.path)).toBe(false);
    expect(await branchExists(repo, "orch/clean")).toBe(true);

    const dirty = await createWorktree({
      repo,
      path: path.join(tmp, "dirty"),
      branch: "orch/dirty",
      baseSha: repo.headSha,
    });
    write(path.join(dirty.path, "wip.txt"), "x\n");
    const error = await rejection(removeWorktree({ repo, path: dirty.path }));
    expect(error.message).toMatch(/has uncommitted changes/);
    expect(existsSync(path.join(dirty.path, "wip.txt"))).toBe(true);
    expect(await removeWorktree({ repo, path: dirty.path, force: true })).toBe(true);
    expect(existsSync(dirty.path)).toBe(false);
    expect(sh(dir, "worktree", "list", "--porcelain")).not.toMatch(/dirty/);

    expect(await removeWorktree({ repo, path: path.join(tmp, "never") })).toBe(false);
    await deleteBranch(repo, "orch/dirty", { force: true });
    expect(await branchExists(repo, "orch/dirty")).toBe(false);
  });
});

describe("branchExists", () => {
  it("tells existing branches from missing ones, slashes included", async () => {
    const dir = makeRepo();
    sh(dir, "branch", TASK_BRANCH);
    const repo = await inspectRepo(dir);
    expect(await branchExists(repo, "main")).toBe(true);
    expect(await branchExists(repo, TASK_BRANCH)).toBe(true);
    expect(await branchExists(repo, "orch/261121-0638-k3f9")).toBe(false);
    expect(await branchExists(repo, "nope")).toBe(false);
  });
});
