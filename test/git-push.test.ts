// The delivery push of src/git on real repositories: a bare repository as the remote, a branch pushed as a fast
// forward or a new branch, never forced over one that moved on, a push that hangs stopped at its timeout, and
// what git says back free of the credentials in a remote's URL.
import { chmodSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { pushBranch, readRemoteConfig, withoutCredentials } from "../src/git/index.js";
import { makeTempRepo, type TempRepo } from "./support/repo.js";

const BRANCH = "orch/r1/_run";
let repo: TempRepo;
let bare = "";
let savedEnv: NodeJS.ProcessEnv = {};

beforeEach(() => {
  savedEnv = { ...process.env };
  repo = makeTempRepo({ files: { "README.md": "# demo\n" } });
  // src/git runs git with process.env: give it the sandbox's (its HOME, no system config, no GIT_* variables).
  for (const name of Object.keys(process.env)) if (!(name in repo.gitEnv)) delete process.env[name];
  Object.assign(process.env, repo.gitEnv);
  bare = join(repo.root, "origin.git");
  repo.git(["init", "--quiet", "--bare", bare], repo.root);
  repo.git(["remote", "add", "origin", bare]);
  repo.git(["branch", BRANCH]);
});

afterEach(() => {
  for (const name of Object.keys(process.env)) if (!(name in savedEnv)) delete process.env[name];
  Object.assign(process.env, savedEnv);
  repo.remove();
});

const remoteRef = (ref: string): string => repo.git(["--git-dir", bare, "rev-parse", "--verify", "--quiet", ref], repo.root);

function commitOn(branch: string, file: string): string {
  repo.git(["checkout", "--quiet", branch]);
  writeFileSync(join(repo.dir, file), `${file}\n`);
  repo.git(["add", file]);
  repo.git(["commit", "--quiet", "--no-verify", "-m", `add ${file}`]);
  repo.git(["checkout", "--quiet", repo.branch]);
  return repo.git(["rev-parse", branch]);
}

describe("pushBranch", () => {
  it("pushes a new branch, then a fast-forward, to the branch of the same name only", async () => {
    expect(await pushBranch({ root: repo.dir, remote: "origin", branch: BRANCH, timeoutMs: 60_000 })).toEqual({ pushed: true });
    expect(remoteRef(`refs/heads/${BRANCH}`)).toBe(repo.headSha);
    const next = commitOn(BRANCH, "a.txt");
    expect(await pushBranch({ root: repo.dir, remote: "origin", branch: BRANCH, timeoutMs: 60_000 })).toEqual({ pushed: true });
    expect(remoteRef(`refs/heads/${BRANCH}`)).toBe(next);
    expect(repo.git(["--git-dir", bare, "for-each-ref", "--format=%(refname)"], repo.root)).toBe(`refs/heads/${BRANCH}`);
  });

  it("never forces: a remote branch that moved on elsewhere stays where it is", async () => {
    const theirs = commitOn(BRANCH, "theirs.txt");
    expect(await pushBranch({ root: repo.dir, remote: "origin", branch: BRANCH, timeoutMs: 60_000 })).toEqual({ pushed: true });
    // Our branch is rewritten to a commit that does not contain theirs: only a forced push could replace it.
    repo.git(["branch", "--force", BRANCH, repo.headSha]);
    commitOn(BRANCH, "ours.txt");
    const result = await pushBranch({ root: repo.dir, remote: "origin", branch: BRANCH, timeoutMs: 60_000 });
    expect(result.pushed).toBe(false);
    if (!result.pushed) expect(result.reason).toMatch(/rejected|non-fast-forward|fetch first/);
    expect(remoteRef(`refs/heads/${BRANCH}`)).toBe(theirs);
  });

  it("stops a push that does not finish in its time, and says so", async () => {
    const hook = join(bare, "hooks", "pre-receive");
    writeFileSync(hook, "#!/bin/sh\nsleep 60\n");
    chmodSync(hook, 0o755);
    const result = await pushBranch({ root: repo.dir, remote: "origin", branch: BRANCH, timeoutMs: 500 });
    expect(result).toEqual({ pushed: false, reason: "git push did not finish in 1s" });
  });

  it("takes the credentials of the remote's URL out of what git says", async () => {
    repo.git(["remote", "set-url", "origin", "https://someone:s3cret-token@127.0.0.1:1/acme/widget.git"]);
    const result = await pushBranch({ root: repo.dir, remote: "origin", branch: BRANCH, timeoutMs: 60_000 });
    expect(result.pushed).toBe(false);
    if (!result.pushed) {
      expect(result.reason).not.toContain("s3cret");
      expect(result.reason).not.toContain("someone");
    }
  });

  it("refuses a branch or remote name that git would read as an option", async () => {
    expect((await pushBranch({ root: repo.dir, remote: "--upload-pack=x", branch: BRANCH, timeoutMs: 60_000 })).pushed).toBe(false);
    expect((await pushBranch({ root: repo.dir, remote: "origin", branch: "+main", timeoutMs: 60_000 })).pushed).toBe(false);
  });
});

describe("the remote", () => {
  it("is the base branch's upstream remote when it has one; its URL as configured, before insteadOf", async () => {
    expect((await readRemoteConfig(repo.dir)).upstream(repo.branch)).toBeUndefined();
    repo.git(["push", "--quiet", "--set-upstream", "origin", repo.branch]);
    expect((await readRemoteConfig(repo.dir)).upstream(repo.branch)).toBe("origin");
    repo.git(["config", `url.${bare}.insteadOf`, "https://github.com/acme/widget.git"]);
    repo.git(["remote", "set-url", "origin", "https://github.com/acme/widget.git"]);
    const remotes = await readRemoteConfig(repo.dir);
    expect(remotes.url("origin")).toBe("https://github.com/acme/widget.git");
    expect(remotes.url("upstream")).toBeUndefined();
    // A push URL wins over the fetch URL; a branch that tracks a branch of this repository has no upstream remote.
    repo.git(["remote", "set-url", "--push", "origin", "ssh://git@example.test/acme/widget.git"]);
    repo.git(["config", "branch.Local-Work.remote", "."]);
    repo.git(["config", "branch.Mixed.Case.remote", "upstream"]);
    const more = await readRemoteConfig(repo.dir);
    expect(more.url("origin")).toBe("ssh://git@example.test/acme/widget.git");
    expect(more.upstream("Local-Work")).toBeUndefined();
    expect(more.upstream("Mixed.Case")).toBe("upstream");
    expect(more.upstream("mixed.case")).toBeUndefined();
  });
});

describe("withoutCredentials", () => {
  it("drops whatever stands before the host of a URL", () => {
    expect(withoutCredentials("To https://x-access-token:ghs_abc@github.com/a/b.git")).toBe("To https://github.com/a/b.git");
    expect(withoutCredentials("fatal: 'https://ghp_tok@github.com/a/b' not found")).toBe("fatal: 'https://github.com/a/b' not found");
    expect(withoutCredentials("git@github.com:a/b.git and https://github.com/a/b")).toBe("git@github.com:a/b.git and https://github.com/a/b");
  });
});
