// Where everything of a repository lives: one `.orch/` at its root (the journal, logs, reports), excluded from
// git, readable by its owner alone (it holds agent transcripts, prompts and the journal); and, outside the
// working tree, the folder where a run's worktrees go, so that nothing walking the checkout (a test runner, a
// linter, a search) finds the runs' copies of the files. Each run records its worktree folder when it is made
// (`RunSettings.worktrees`); a run made before that has its worktrees under `.orch/worktrees/`, and keeps them.
import { accessSync, chmodSync, constants, mkdirSync, realpathSync, statSync, type Stats } from "node:fs";
import { basename, dirname, isAbsolute, join, resolve } from "node:path";
import { UsageError } from "../core/errors.js";
import { JournalDamagedError } from "../store/errors.js";
import { userCacheDir } from "./user-cache.js";

export interface OrchPaths {
  root: string;
  dir: string;
  db: string;
  logs: string;
  /** The run's worktree folder: each task's worktree is `<worktrees>/<run>/<task>`. */
  worktrees: string;
  reports: string;
}

/** The environment variable that moves the worktrees of new runs (keyed by repository below it). */
export const WORKTREES_ENV = "ORCH_WORKTREES_DIR";

/**
 * A repository's `.orch/` paths. `worktrees` is the run's recorded worktree folder; without one (a caller that
 * needs no worktree, or a run made before the folder was recorded), `.orch/worktrees`, where such runs keep theirs.
 */
export function orchPaths(repoRoot: string, worktrees?: string): OrchPaths {
  const dir = join(repoRoot, ".orch");
  return {
    root: repoRoot,
    dir,
    db: join(dir, "orch.db"),
    logs: join(dir, "logs"),
    worktrees: worktrees ?? legacyWorktreesDir(repoRoot),
    reports: join(dir, "reports"),
  };
}

/** Where runs made before the worktree folder was recorded have their worktrees: inside the working tree. */
export const legacyWorktreesDir = (repoRoot: string): string => join(repoRoot, ".orch", "worktrees");

/** A run's paths, with its own worktree folder (the recorded one, or `.orch/worktrees` for a run made before). */
export const runPaths = (run: { repoRoot: string; settings: { worktrees?: string | undefined } }): OrchPaths =>
  orchPaths(run.repoRoot, run.settings.worktrees);

export const worktreePath = (paths: OrchPaths, runId: string, taskId: string): string => join(paths.worktrees, runId, taskId);
export const transcriptPath = (paths: OrchPaths, runId: string, attemptId: string): string => join(paths.logs, runId, `${attemptId}.jsonl`);
export const reportPath = (paths: OrchPaths, runId: string): string => join(paths.reports, `${runId}.md`);
export const driverLogPath = (paths: OrchPaths, runId: string): string => join(paths.logs, runId, "orch.log");

/**
 * The folder a repository's runs keep apart under a shared one: the repository's folder name and a short hash of
 * its real path, so that two checkouts of the same name never share it and the name still says whose it is.
 */
export function repoKey(repoRoot: string): string {
  let real = repoRoot;
  try {
    real = realpathSync(repoRoot);
  } catch {
    // A repository that is gone still has a key: the path as given.
  }
  const name = basename(real).replace(/[^A-Za-z0-9._-]/g, "_") || "repo";
  // node:crypto loads on first use, not with the module: most commands never need a key (engine/ids.ts).
  return `${name}-${process.getBuiltinModule("node:crypto").createHash("sha256").update(real).digest("hex").slice(0, 12)}`;
}

export type WorktreesSource = "env" | "config" | "cache";

export interface WorktreesRoot {
  /** Where a new run's worktrees go (absolute): each run in `<dir>/<run>/<task>`. */
  dir: string;
  /** What chose it: `ORCH_WORKTREES_DIR`, `worktrees.dir` of orch.config.yaml, or the user's cache folder. */
  source: WorktreesSource;
}

/**
 * Where a new run's worktrees go, outside the working tree by default: `ORCH_WORKTREES_DIR/<repo key>` when set
 * (an absolute path); else `worktrees.dir` of orch.config.yaml as given (relative to the repository); else
 * `$XDG_CACHE_HOME/orch/worktrees/<repo key>` (`~/.cache` when XDG_CACHE_HOME is unset or relative). Pure but
 * for the real path the key hashes; a relative ORCH_WORKTREES_DIR is a UsageError.
 */
export function worktreesRoot(repoRoot: string, env: Readonly<Record<string, string | undefined>>, configured?: string): WorktreesRoot {
  const fromEnv = env[WORKTREES_ENV];
  if (fromEnv !== undefined && fromEnv !== "") {
    if (!isAbsolute(fromEnv)) {
      throw new UsageError(`${WORKTREES_ENV} must be an absolute path, not "${fromEnv}"`, {
        hint: `set it to a folder such as /var/tmp/orch-worktrees (each repository gets its own folder below it), or unset it`,
      });
    }
    return { dir: join(resolve(fromEnv), repoKey(repoRoot)), source: "env" };
  }
  if (configured !== undefined) return { dir: resolve(repoRoot, configured), source: "config" };
  return { dir: join(userCacheDir(env), "worktrees", repoKey(repoRoot)), source: "cache" };
}

/**
 * Checks, writing nothing, that a run's worktree folder can be used: an absolute path, a folder or nothing yet, and
 * the nearest folder that exists writable by this user. Each problem is a UsageError.
 */
export function checkWorktreesDir(dir: string): void {
  const hint = `choose another with ${WORKTREES_ENV} or worktrees.dir in orch.config.yaml`;
  if (!isAbsolute(dir)) throw new UsageError(`the worktree folder must be an absolute path, not "${dir}"`, { hint });
  let at = dir;
  let found = look(at);
  while (found === undefined && dirname(at) !== at) {
    at = dirname(at);
    found = look(at);
  }
  if (found !== undefined && !found.isDirectory()) {
    throw new UsageError(`the worktree folder ${dir} cannot be made: ${at} is not a folder`, { hint: `move it aside, or ${hint}` });
  }
  try {
    accessSync(at, constants.W_OK | constants.X_OK);
  } catch {
    throw new UsageError(`the worktree folder ${dir} cannot be made: ${at} is not writable by you`, { hint });
  }
}

/** What is at `path`; undefined when nothing is (a file on the way to it included: ENOTDIR). */
function look(path: string): Stats | undefined {
  try {
    return statSync(path, { throwIfNoEntry: false });
  } catch {
    return undefined;
  }
}

/**
 * Makes a run's worktree folder (mode 0700 for what is made: it holds the repository's files and the agents'
 * work) and returns its real path, the one the run records. Something else of that name is a UsageError.
 */
export function ensureWorktreesDir(dir: string): string {
  const found = look(dir);
  if (found !== undefined && !found.isDirectory()) {
    throw new UsageError(`the worktree folder ${dir} is not a folder`, { hint: `move it aside, or choose another with ${WORKTREES_ENV} or worktrees.dir in orch.config.yaml` });
  }
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (error) {
    throw new UsageError(`cannot make the worktree folder ${dir}: ${error instanceof Error ? error.message : String(error)}`, {
      hint: `choose a folder you can write with ${WORKTREES_ENV} or worktrees.dir in orch.config.yaml`,
    });
  }
  return realpathSync(dir);
}

/**
 * Makes `.orch/` (mode 0700), or takes the group's and others' access away from one made before. Something else
 * of that name (a file) is the journal's place made unusable: said as such, nothing touched.
 */
export function ensureOrchDir(paths: OrchPaths): void {
  const found = statSync(paths.dir, { throwIfNoEntry: false });
  if (found !== undefined && !found.isDirectory()) throw new JournalDamagedError(paths.db, "inaccessible", `${paths.dir} is not a directory`);
  mkdirSync(paths.dir, { recursive: true, mode: 0o700 });
  if ((statSync(paths.dir).mode & 0o077) !== 0) chmodSync(paths.dir, 0o700);
}
