// Throw-away directories for integration and end-to-end tests: a sandbox holding its own HOME (with a git
// identity) and TMPDIR, so neither the developer's git configuration nor their home directory plays any part,
// and optionally a git repository with one commit, whose runs keep their worktrees in the sandbox too (beside
// the repository, never in the developer's cache). Everything lives under `root`; `remove()` deletes it.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { repoKey } from "../../src/engine/paths.js";

export interface Sandbox {
  /** The sandbox: everything below is inside it (real path, no symlinks). */
  root: string;
  /** A HOME of its own, with `.gitconfig` naming a test identity. */
  home: string;
  /** A TMPDIR of its own. */
  tmp: string;
  remove(): void;
}

export interface TempRepo extends Sandbox {
  /** The repository's work tree. */
  dir: string;
  /** The branch the one commit is on. */
  branch: string;
  /** The sha of that commit. */
  headSha: string;
  /** The environment git (and anything that runs git) should get: process.env without git's variables,
   * HOME, XDG_CONFIG_HOME and XDG_CACHE_HOME pointed at `home`, no system config, no discovery above `root`,
   * and ORCH_WORKTREES_DIR at `worktrees`. */
  gitEnv: Record<string, string>;
  /** ORCH_WORKTREES_DIR of `gitEnv`: beside the repository, inside the sandbox. */
  worktrees: string;
  /** Where orch puts this repository's runs' worktrees under `gitEnv` (`worktrees/<repo key>`): `<it>/<run>/<task>`. */
  runWorktrees: string;
  /** Runs git in `dir` (or `cwd`) with `gitEnv`; returns stdout without its trailing newline. Throws on failure. */
  git(args: readonly string[], cwd?: string): string;
}

export interface SandboxOptions {
  /** Prefix of the sandbox directory's name. */
  prefix?: string;
  identity?: { name: string; email: string };
  /** git's init.defaultBranch in HOME's .gitconfig. */
  branch?: string;
}

export interface TempRepoOptions extends SandboxOptions {
  /** Path (relative to the repository) → content. */
  files: Record<string, string>;
  message?: string;
}

export const TEST_IDENTITY = { name: "Test User", email: "test@example.com" } as const;

// Set by git hooks or a developer's shell; any of them would aim git somewhere else or change its answers.
const GIT_VARIABLES = /^GIT_|^EMAIL$/;

export function makeSandbox(options: SandboxOptions = {}): Sandbox {
  const root = realpathSync(mkdtempSync(join(tmpdir(), options.prefix ?? "orch-sandbox-")));
  const home = join(root, "home");
  const tmp = join(root, "tmp");
  for (const d of [home, tmp]) mkdirSync(d);
  const identity = options.identity ?? TEST_IDENTITY;
  const branch = options.branch ?? "main";
  writeFileSync(join(home, ".gitconfig"), `[user]\n\tname = ${identity.name}\n\temail = ${identity.email}\n[init]\n\tdefaultBranch = ${branch}\n`);
  return { root, home, tmp, remove: () => rmSync(root, { recursive: true, force: true }) };
}

export function makeTempRepo(options: TempRepoOptions): TempRepo {
  const sandbox = makeSandbox({ ...options, prefix: options.prefix ?? "orch-repo-" });
  const { root, home, tmp } = sandbox;
  const dir = join(root, "repo");
  mkdirSync(dir);
  const branch = options.branch ?? "main";
  const worktrees = join(root, "worktrees");

  const gitEnv: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value !== undefined && !GIT_VARIABLES.test(key)) gitEnv[key] = value;
  }
  Object.assign(gitEnv, {
    HOME: home,
    XDG_CONFIG_HOME: join(home, ".config"),
    XDG_CACHE_HOME: join(home, ".cache"),
    ORCH_WORKTREES_DIR: worktrees,
    TMPDIR: tmp,
    GIT_CONFIG_NOSYSTEM: "1",
    GIT_CEILING_DIRECTORIES: root,
    GIT_TERMINAL_PROMPT: "0",
    LC_ALL: "C",
  });
  const git = (args: readonly string[], cwd: string = dir): string =>
    execFileSync("git", args, { cwd, env: gitEnv, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).replace(/\n$/, "");

  try {
    git(["init", "--quiet", "--initial-branch", branch]);
    for (const [path, content] of Object.entries(options.files)) {
      const file = join(dir, path);
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, content);
    }
    git(["add", "--all"]);
    git(["commit", "--quiet", "--no-verify", "--no-gpg-sign", "-m", options.message ?? "initial commit"]);
  } catch (error) {
    sandbox.remove();
    throw error;
  }
  return { ...sandbox, dir, branch, headSha: git(["rev-parse", "HEAD"]), gitEnv, worktrees, runWorktrees: join(worktrees, repoKey(dir)), git };
}
