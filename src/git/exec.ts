// Runs the git binary for the git room. Invariant: git is never interactive, never aimed at another
// repository by the caller's environment, and a non-zero exit is a value here; callers decide what it means.
import { existsSync } from "node:fs";
import { UsageError } from "../core/errors.js";
import { launch, LaunchError, onPath } from "../process/launcher.js";
import { gitEnv } from "./env.js";

export interface GitResult {
  readonly stdout: string;
  readonly stderr: string;
  readonly exitCode: number;
}

/** git failed in a way the user could not have foreseen: the command, its exit and its stderr. */
export class GitError extends Error {
  override readonly name: string = "GitError";
  readonly args: readonly string[];
  /** Undefined when git did not exit normally (killed, output too large, could not start). */
  readonly exitCode: number | undefined;
  readonly stderr: string;
  constructor(
    message: string,
    fields: { args: readonly string[]; exitCode: number | undefined; stderr: string; cause?: unknown },
  ) {
    super(message, fields.cause === undefined ? undefined : { cause: fields.cause });
    this.args = fields.args;
    this.exitCode = fields.exitCode;
    this.stderr = fields.stderr;
  }
}

/**
 * git's `-c` options for what orch writes (commits, merges, resets): unattended. A user's hooks may prompt, run
 * for minutes or reject a work-in-progress commit, so they are skipped on purpose (--no-verify only skips
 * pre-commit and commit-msg; an empty hooks path skips prepare-commit-msg, post-commit, reference-transaction and
 * the rest). The work is still checked by the run's own verify commands before it is delivered. Nor does an orch
 * commit start git's automatic maintenance (half of a small commit's time, and a planned run makes hundreds): the
 * user's own next commit or fetch runs it.
 */
export const UNATTENDED = ["-c", "core.hooksPath=/dev/null", "-c", "maintenance.auto=false", "-c", "gc.auto=0"] as const;

/**
 * Runs `git args` in cwd, through the resident launcher (see process/launcher.ts). Resolves for any exit code;
 * rejects only when git could not run at all.
 */
export function git(args: readonly string[], cwd: string): Promise<GitResult> {
  return launchGit("git", args, cwd, args);
}

/**
 * Runs a short sh script of git commands, its arguments as $1…, in one launch: on a hot path (a task's commit,
 * the merge queue's merge), several git commands then cost one round trip to orch instead of one each. Its git
 * runs with the same environment as `git()`'s; exit codes are the script's to define.
 */
export function gitScript(script: string, args: readonly string[], cwd: string): Promise<GitResult> {
  return launchGit("/bin/sh", ["-c", script, "orch-git", ...args], cwd, ["(script)", ...args]);
}

async function launchGit(file: string, args: readonly string[], cwd: string, shown: readonly string[]): Promise<GitResult> {
  const env = gitEnv();
  try {
    if (onPath("git", env.PATH) === undefined) throw new LaunchError("git is not on PATH", "file");
    return await launch(file, args, { cwd, env });
  } catch (error) {
    if (!(error instanceof LaunchError)) throw error;
    if (error.reason === "file") {
      throw new UsageError("git is not installed (or not on PATH)", { hint: "install git (https://git-scm.com/downloads) and try again", cause: error });
    }
    if (error.reason === "cwd" && !existsSync(cwd)) {
      throw new UsageError(`${cwd} does not exist`, { hint: "cd into your project and try again", cause: error });
    }
    throw new GitError(`git ${shown.join(" ")} failed: ${error.message}`, { args: shown, exitCode: undefined, stderr: "", cause: error });
  }
}

/** The GitError for a result the caller did not expect. */
export function gitFailure(args: readonly string[], result: GitResult): GitError {
  const detail = gitMessage(result.stderr) || firstLine(result.stdout);
  return new GitError(
    `git ${args.join(" ")} exited with code ${result.exitCode}${detail ? `: ${detail}` : ""}`,
    { args, exitCode: result.exitCode, stderr: result.stderr },
  );
}

/** Runs git and returns its stdout; any non-zero exit is a GitError. */
export async function gitOk(args: readonly string[], cwd: string): Promise<string> {
  const result = await git(args, cwd);
  if (result.exitCode !== 0) throw gitFailure(args, result);
  return result.stdout;
}

export function firstLine(text: string): string {
  return text.trim().split("\n", 1)[0]?.trim() ?? "";
}

/** The line of git's stderr that says what went wrong (`fatal: …`/`error: …`), else its first line. */
export function gitMessage(stderr: string): string {
  const line = stderr.split("\n").find((l) => /^(fatal|error): /.test(l));
  return line === undefined ? firstLine(stderr) : line.replace(/^(fatal|error): /, "").trim();
}

/** Revisions handed to git as arguments must not be read as options. */
export function assertRevision(rev: string, what: string): void {
  if (rev === "" || rev.startsWith("-") || /[\s\0]/.test(rev)) {
    throw new Error(`invalid ${what} revision: ${JSON.stringify(rev)}`);
  }
}
