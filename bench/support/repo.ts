// A throw-away git repository with one commit, for a benchmark to run orch in. The developer's own git
// configuration plays no part: HOME and the system config are redirected for this (benchmark) process, which
// is also what the engine's git calls inherit.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface BenchRepo {
  /** The temp folder holding the repository (and a fake HOME). */
  tmp: string;
  /** The repository's root, symlinks resolved. */
  root: string;
  dispose(): void;
}

export function isolateGit(tmp: string): void {
  const home = join(tmp, "home");
  mkdirSync(home, { recursive: true });
  process.env.HOME = home;
  process.env.XDG_CONFIG_HOME = join(home, ".config");
  // The runs' worktrees go beside the repository, in the benchmark's own folder: never the user's cache.
  process.env.XDG_CACHE_HOME = join(home, ".cache");
  process.env.ORCH_WORKTREES_DIR = join(tmp, "worktrees");
  process.env.GIT_CONFIG_NOSYSTEM = "1";
  process.env.GIT_CEILING_DIRECTORIES = tmp;
  process.env.GIT_AUTHOR_NAME = "orch bench";
  process.env.GIT_AUTHOR_EMAIL = "bench@orch.invalid";
  process.env.GIT_COMMITTER_NAME = "orch bench";
  process.env.GIT_COMMITTER_EMAIL = "bench@orch.invalid";
  for (const name of ["GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_CONFIG_GLOBAL", "GIT_CONFIG_PARAMETERS", "GIT_CONFIG_COUNT"]) {
    delete process.env[name];
  }
}

export function makeRepo(prefix: string): BenchRepo {
  const tmp = realpathSync(mkdtempSync(join(tmpdir(), `orch-bench-${prefix}-`)));
  isolateGit(tmp);
  const root = join(tmp, "repo");
  mkdirSync(root);
  const git = (...args: string[]) => execFileSync("git", args, { cwd: root, stdio: ["ignore", "ignore", "pipe"] });
  git("init", "--quiet", "--initial-branch=main");
  writeFileSync(join(root, "README.md"), "# bench\n");
  git("add", "README.md");
  git("commit", "--quiet", "-m", "initial");
  return {
    tmp,
    root,
    // ORCH_BENCH_KEEP=1 leaves the repository and its journal behind, to look into a figure afterwards.
    dispose: () => {
      if (process.env.ORCH_BENCH_KEEP === "1") process.stderr.write(`kept ${tmp}\n`);
      else rmSync(tmp, { recursive: true, force: true });
    },
  };
}

export { shellQuote } from "../../src/core/text.js";
