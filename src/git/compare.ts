// What a branch holds that its base does not: commits, changed files, diff size.
// Invariant: read-only; `from...to` compares `to` with the point where it left `from`.
import { assertRevision, gitFailure, gitOk, gitScript } from "./exec.js";
import type { RepoInfo } from "./repo.js";

type RepoRoot = Pick<RepoInfo, "root">;

export interface DiffStat {
  readonly files: number;
  readonly insertions: number;
  readonly deletions: number;
  /** `git diff --stat` as git prints it; empty when nothing changed. */
  readonly text: string;
}

export interface CommitSummary {
  readonly sha: string;
  readonly subject: string;
}

interface Range {
  repo: RepoRoot;
  from: string;
  to: string;
}

function range({ from, to }: Range): string {
  assertRevision(from, "from");
  assertRevision(to, "to");
  return `${from}...${to}`;
}

export async function diffStat(options: Range): Promise<DiffStat> {
  const revs = range(options);
  const text = (await gitOk(["diff", "--no-color", "--no-ext-diff", "--stat", revs, "--"], options.repo.root)).trimEnd();
  // The last line of --stat is the --shortstat summary; a file's own line never reads "N file(s) changed".
  return { ...parseShortstat(text.slice(text.lastIndexOf("\n") + 1)), text };
}

/** ` 3 files changed, 3 insertions(+), 5 deletions(-)`; each part is left out when it is zero. */
export function parseShortstat(out: string): Omit<DiffStat, "text"> {
  const count = (pattern: RegExp): number => Number(pattern.exec(out)?.[1] ?? 0);
  return {
    files: count(/(\d+) files? changed/),
    insertions: count(/(\d+) insertions?\(\+\)/),
    deletions: count(/(\d+) deletions?\(-\)/),
  };
}

/** Paths added, changed or deleted; a rename lists both its old and new path. Sorted as git sorts. */
export async function changedFiles(options: Range): Promise<string[]> {
  const out = await gitOk(
    ["diff", "--no-ext-diff", "--no-renames", "--name-only", "-z", range(options), "--"],
    options.repo.root,
  );
  return out.split("\0").filter((p) => p !== "");
}

/** Commits on `branch` that are not on `base`, newest first. */
export async function commitsOn(options: { repo: RepoRoot; base: string; branch: string }): Promise<CommitSummary[]> {
  assertRevision(options.base, "base");
  assertRevision(options.branch, "branch");
  const out = await gitOk(
    ["log", "--no-show-signature", "-z", "--format=%H%x1f%s", `${options.base}..${options.branch}`, "--"],
    options.repo.root,
  );
  const commits: CommitSummary[] = [];
  for (const record of out.split("\0")) {
    const cut = record.indexOf("\x1f");
    if (cut <= 0) continue;
    commits.push({ sha: record.slice(0, cut).trim(), subject: record.slice(cut + 1) });
  }
  return commits;
}

/** The files git tracks in `cwd`'s worktree, as paths relative to its root. */
export async function trackedFiles(cwd: string): Promise<string[]> {
  return (await gitOk(["ls-files"], cwd)).split("\n").filter((f) => f !== "");
}

/** A file's text at `rev`, or undefined when it is not there. */
export async function fileAt(cwd: string, rev: string, file: string): Promise<string | undefined> {
  assertRevision(rev, "revision");
  return gitOk(["show", `${rev}:${file}`], cwd).catch(() => undefined);
}

/** The commit `rev` names in the repository of `cwd`. */
export async function revParse(cwd: string, rev: string): Promise<string> {
  assertRevision(rev, "revision");
  return (await gitOk(["rev-parse", "--verify", "--quiet", `${rev}^{commit}`], cwd)).trim();
}

/** The tree a commit holds: two commits with the same tree hold the same files. */
export async function treeOf(cwd: string, rev: string): Promise<string> {
  assertRevision(rev, "revision");
  return (await gitOk(["rev-parse", "--verify", "--quiet", `${rev}^{tree}`], cwd)).trim();
}

export interface WorkDiffOptions {
  /** The repository, or the worktree whose files (committed or not) are the work. */
  readonly cwd: string;
  /** The commit the work started from. */
  readonly base: string;
  /** Compare with this commit; without it, with the worktree at `cwd` as it stands, new files included. */
  readonly to?: string | undefined;
  readonly stat?: boolean;
  readonly color?: boolean;
}

// A throw-away index, so that new files show and the worktree's own index (a live agent's, say) is not touched.
const WORKTREE_DIFF = `tmp=$(mktemp) || exit 1
trap 'rm -f "$tmp"' EXIT
base=$1; shift
cp "$(git rev-parse --git-path index)" "$tmp" 2>/dev/null || rm -f "$tmp"
GIT_INDEX_FILE="$tmp" git add -A -- . >/dev/null && GIT_INDEX_FILE="$tmp" git diff --cached "$@" "$base" --`;

/** `git diff` of the work since `base`, as git prints it (a stat with `stat`); empty when nothing changed. */
export async function workDiff(options: WorkDiffOptions): Promise<string> {
  assertRevision(options.base, "base");
  const flags = ["--no-ext-diff", options.color === true ? "--color=always" : "--no-color", ...(options.stat === true ? ["--stat"] : [])];
  if (options.to !== undefined) {
    assertRevision(options.to, "to");
    return gitOk(["diff", ...flags, options.base, options.to, "--"], options.cwd);
  }
  const result = await gitScript(WORKTREE_DIFF, [options.base, ...flags], options.cwd);
  if (result.exitCode !== 0) throw gitFailure(["diff", ...flags, options.base, "(worktree)"], result);
  return result.stdout;
}

const WORKTREE_CHANGES = `tmp=$(mktemp) || exit 1
trap 'rm -f "$tmp"' EXIT
cp "$(git rev-parse --git-path index)" "$tmp" 2>/dev/null || rm -f "$tmp"
GIT_INDEX_FILE="$tmp" git add -A -- . >/dev/null || exit 1
GIT_INDEX_FILE="$tmp" git diff --cached --no-ext-diff --no-color --stat HEAD -- || exit 1
printf '\\0'
GIT_INDEX_FILE="$tmp" git diff --cached --no-ext-diff --no-color HEAD --`;

/**
 * What a worktree holds changed against its HEAD, new files included: the stat and the diff, both empty when
 * nothing changed. Cheap when nothing did (one `git status`, the common case of an attempt that changed nothing);
 * otherwise one launch, through a throw-away index.
 */
export async function worktreeChanges(cwd: string): Promise<{ stat: string; diff: string }> {
  if ((await gitOk(["status", "--porcelain", "-z", "--untracked-files=all"], cwd)) === "") return { stat: "", diff: "" };
  const result = await gitScript(WORKTREE_CHANGES, [], cwd);
  if (result.exitCode !== 0) throw gitFailure(["diff", "HEAD", "(worktree changes)"], result);
  const cut = result.stdout.indexOf("\0");
  return cut < 0 ? { stat: result.stdout, diff: "" } : { stat: result.stdout.slice(0, cut), diff: result.stdout.slice(cut + 1) };
}

/** The commit where `a` and `b` last met. */
export async function mergeBase(cwd: string, a: string, b: string): Promise<string> {
  assertRevision(a, "a");
  assertRevision(b, "b");
  return (await gitOk(["merge-base", a, b], cwd)).trim();
}
