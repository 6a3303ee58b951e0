// Integrates task branches into the run branch checked out in a worktree: merge, conflicted merge left
// for an integrator agent, finish, abort, revert. Invariant: everything runs unattended (no hook, editor,
// signing prompt or rerere replay), and a call that fails leaves the worktree as it found it, unless a merge
// is to stay in progress there (leaveConflict, startConflictedMerge, a refused finishMerge).
import { lstat, readFile } from "node:fs/promises";
import * as path from "node:path";
import { UsageError } from "../core/errors.js";
import { fallbackIdentity } from "./commit.js";
import { git, gitFailure, gitOk, UNATTENDED } from "./exec.js";
import { checkMerge, isAncestor, resolveCommit } from "./merge-check.js";
import { worktreeStatus } from "./worktree.js";

// The check belongs with the merge it guards; it lives in merge-check.ts to keep this file small.
export { checkMerge } from "./merge-check.js";
export type { ConflictKind, MergeCheck, MergeConflict, MergeMessage } from "./merge-check.js";

/** A merge (or the revert of one) conflicts; `leftInProgress` tells whether the worktree still holds it. */
export class MergeConflictError extends Error {
  override readonly name = "MergeConflictError";
  readonly operation: "merge" | "revert";
  readonly worktree: string;
  /** The branch or commit being merged, or the merge commit being reverted. */
  readonly from: string;
  readonly paths: readonly string[];
  readonly leftInProgress: boolean;
  constructor(fields: { operation: "merge" | "revert"; worktree: string; from: string; paths: readonly string[]; leftInProgress: boolean }) {
    const verb = fields.operation === "merge" ? `merging ${fields.from}` : `reverting ${fields.from}`;
    const files = fields.paths.length === 0 ? "" : ` in ${fields.paths.join(", ")}`;
    super(`${verb} in ${fields.worktree} conflicts${files}`);
    this.operation = fields.operation;
    this.worktree = fields.worktree;
    this.from = fields.from;
    this.paths = fields.paths;
    this.leftInProgress = fields.leftInProgress;
  }
}

export interface MarkerHit {
  readonly path: string;
  /** 1-based line of the first marker left in the file. */
  readonly line: number;
}

/** finishMerge refused: conflict markers or unmerged index entries remain. The merge is still in progress. */
export class UnresolvedConflictError extends Error {
  override readonly name = "UnresolvedConflictError";
  readonly worktree: string;
  readonly markers: readonly MarkerHit[];
  readonly unmerged: readonly string[];
  constructor(fields: { worktree: string; markers: readonly MarkerHit[]; unmerged: readonly string[] }) {
    const parts: string[] = [];
    if (fields.markers.length > 0) {
      parts.push(`conflict markers remain in ${fields.markers.map((m) => `${m.path} (line ${m.line})`).join(", ")}`);
    }
    if (fields.unmerged.length > 0) parts.push(`git still lists as unmerged ${fields.unmerged.join(", ")}`);
    super(`the merge in ${fields.worktree} is not resolved: ${parts.join("; ")}`);
    this.worktree = fields.worktree;
    this.markers = fields.markers;
    this.unmerged = fields.unmerged;
  }
}

/**
 * Merges `from` into the branch checked out in `worktree` with a merge commit (`--no-ff`). Returns its sha,
 * or undefined when `from` is already merged (nothing is written). On a conflict, throws MergeConflictError
 * after `merge --abort`, unless `leaveConflict` asks to keep the merge in progress for a resolver.
 */
export async function mergeInto(options: {
  worktree: string;
  from: string;
  message: string;
  leaveConflict?: boolean;
}): Promise<string | undefined> {
  const { worktree, from, message } = options;
  if (message.trim() === "") throw new Error("mergeInto needs a non-empty message");
  await assertReadyToMerge(worktree);
  await resolveCommit(worktree, from);
  const head = await headSha(worktree);
  const result = await runMerge(worktree, from, ["--commit", "--no-edit", "-m", message]);
  if (result === "conflict") {
    const paths = await unmergedPaths(worktree);
    if (options.leaveConflict !== true) await gitOk(["merge", "--abort"], worktree);
    throw new MergeConflictError({ operation: "merge", worktree, from, paths, leftInProgress: options.leaveConflict === true });
  }
  const after = await headSha(worktree);
  return after === head ? undefined : after;
}

/**
 * Brings `from` into the task branch checked out in `worktree` (a task sent back gets the run branch it must now
 * pass on), unattended like every commit orch makes: no hook, no signing prompt, `identity` where the user has
 * none. Merging what is already merged does nothing. Returns whether the merge went through; one that stops on a
 * conflict is left for the agent, whose next attempt sees it.
 */
export async function catchUp(options: { worktree: string; from: string; identity: readonly string[] }): Promise<boolean> {
  const result = await git([...options.identity, ...UNATTENDED, "merge", "--quiet", "--no-edit", "--no-gpg-sign", options.from], options.worktree);
  return result.exitCode === 0;
}

/** The commit `HEAD` of `worktree` points at. */
export const tipOf = (worktree: string): Promise<string> => headSha(worktree);

/**
 * Starts merging `from` into the branch checked out in `worktree` and leaves the merge in progress, with
 * conflict markers in the files, for an integrator to resolve; then finishMerge or abortMerge. Returns the
 * conflicted paths (empty when the merge turned out clean; it still waits for finishMerge).
 */
export async function startConflictedMerge(options: { worktree: string; from: string }): Promise<string[]> {
  const { worktree, from } = options;
  await assertReadyToMerge(worktree);
  const fromSha = await resolveCommit(worktree, from);
  if (await isAncestor(worktree, fromSha, "HEAD")) {
    throw new UsageError(`"${from}" is already merged into the branch checked out in ${worktree}`, {
      hint: "there is nothing to merge",
    });
  }
  const result = await runMerge(worktree, from, ["--no-commit"]);
  return result === "conflict" ? await unmergedPaths(worktree) : [];
}

/**
 * Commits the merge in progress in `worktree` once it is resolved: refuses with UnresolvedConflictError
 * while a conflicted file still holds a conflict marker; otherwise stages everything and commits the merge
 * (two parents). Returns the merge commit's sha.
 */
export async function finishMerge(options: { worktree: string; message: string }): Promise<string> {
  const { message } = options;
  if (message.trim() === "") throw new Error("finishMerge needs a non-empty message");
  const worktree = await topLevel(options.worktree);
  const mergeHead = await mergeHeadOf(worktree);
  if (mergeHead === undefined) {
    throw new UsageError(`no merge is in progress in ${worktree}`, { hint: "start one with startConflictedMerge" });
  }
  // The files git conflicted on: those still unmerged in the index, and those the merge itself conflicts
  // on (a resolver may already have staged its files).
  const check = await checkMerge({ repo: { root: worktree }, into: "HEAD", from: mergeHead });
  const conflicted = new Set([...(await unmergedPaths(worktree)), ...(check.clean ? [] : check.conflicts.map((c) => c.path))]);
  const markers: MarkerHit[] = [];
  for (const file of [...conflicted].sort()) {
    const line = await firstMarkerLine(path.join(worktree, file));
    if (line !== undefined) markers.push({ path: file, line });
  }
  if (markers.length > 0) throw new UnresolvedConflictError({ worktree, markers, unmerged: [] });

  await gitOk(["add", "--all"], worktree);
  const unmerged = await unmergedPaths(worktree);
  if (unmerged.length > 0) throw new UnresolvedConflictError({ worktree, markers: [], unmerged });
  await gitOk([...(await unattended(worktree)), "commit", "--no-verify", "--no-gpg-sign", "--quiet", "-m", message], worktree);
  return headSha(worktree);
}

/** Abandons the merge in progress in `worktree`, restoring its branch's tree. Returns false when there was none. */
export async function abortMerge(options: { worktree: string }): Promise<boolean> {
  if ((await mergeHeadOf(options.worktree)) === undefined) return false;
  await gitOk(["merge", "--abort"], options.worktree);
  return true;
}

/**
 * Reverts the merge commit `commit` on the branch checked out in `worktree` (`revert -m 1`: back to the
 * tree of its first parent, the branch as it was). Returns the revert commit's sha. A revert that conflicts
 * with later work is aborted and thrown as MergeConflictError.
 */
export async function revertMerge(options: { worktree: string; commit: string; message: string }): Promise<string> {
  const { worktree, commit, message } = options;
  if (message.trim() === "") throw new Error("revertMerge needs a non-empty message");
  await assertReadyToMerge(worktree);
  const sha = await resolveCommit(worktree, commit);
  const parents = (await gitOk(["rev-list", "--parents", "-n", "1", sha], worktree)).trim().split(" ").slice(1);
  if (parents.length < 2) {
    throw new UsageError(`${commit} is not a merge commit`, { hint: "only a merge made by orch can be reverted this way" });
  }
  if (!(await isAncestor(worktree, sha, "HEAD"))) {
    throw new UsageError(`${commit} is not on the branch checked out in ${worktree}`);
  }
  const args = [...(await unattended(worktree)), "revert", "--no-commit", "-m", "1", sha];
  const result = await git(args, worktree);
  if (result.exitCode !== 0) {
    const paths = await unmergedPaths(worktree);
    if (paths.length === 0) throw wouldOverwrite(worktree, result.stderr) ?? gitFailure(args, result);
    await gitOk(["revert", "--abort"], worktree);
    throw new MergeConflictError({ operation: "revert", worktree, from: commit, paths, leftInProgress: false });
  }
  // --allow-empty: the revert of a merge that changed nothing is still recorded.
  const commitArgs = ["commit", "--no-verify", "--no-gpg-sign", "--allow-empty", "--quiet", "-m", message];
  await gitOk([...(await unattended(worktree)), ...commitArgs], worktree);
  return headSha(worktree);
}

async function runMerge(worktree: string, from: string, mode: readonly string[]): Promise<"merged" | "conflict"> {
  const args = [
    ...(await unattended(worktree)),
    "merge",
    "--no-ff",
    ...mode,
    // The user's merge settings (branch.<name>.mergeOptions, merge.log, merge.verifySignatures…) must not
    // turn the merge into a squash, a stash or a signature check.
    "--no-squash",
    "--no-autostash",
    "--no-log",
    "--no-verify-signatures",
    "--no-verify",
    "--no-gpg-sign",
    "--no-progress",
    from,
  ];
  const result = await git(args, worktree);
  if (result.exitCode === 0) return "merged";
  if (result.exitCode === 1 && (await mergeHeadOf(worktree)) !== undefined) return "conflict";
  if (/refusing to merge unrelated histories/.test(result.stderr)) {
    throw new UsageError(`"${from}" shares no history with the branch checked out in ${worktree}`, {
      hint: "start the task branch from the run branch",
    });
  }
  throw wouldOverwrite(worktree, result.stderr) ?? gitFailure(args, result);
}

/** git's refusal to overwrite untracked files, as a UsageError naming them; undefined for other failures. */
function wouldOverwrite(worktree: string, stderr: string): UsageError | undefined {
  const block = /untracked working tree files would be (?:overwritten|removed) by \w+:\n((?:\t.*\n?)+)/.exec(stderr);
  if (block === null) return undefined;
  const files = (block[1] ?? "").split("\n").map((l) => l.trim()).filter((l) => l !== "");
  return new UsageError(`untracked files in ${worktree} would be overwritten: ${files.join(", ")}`, {
    hint: "move or delete them (or add them to .gitignore), then try again",
  });
}

/**
 * `-c` options for one unattended command: no hooks (an empty hooks path skips every hook, even the ones
 * --no-verify does not), no rerere replay of old resolutions, and orch's identity for whichever of
 * user.name and user.email the user's configuration lacks (the same fallback as commit.ts).
 */
async function unattended(worktree: string): Promise<string[]> {
  return [...UNATTENDED, "-c", "rerere.enabled=false", ...(await fallbackIdentity(worktree))];
}

/** A branch is checked out, no merge is in progress and nothing is uncommitted; else a UsageError. */
async function assertReadyToMerge(worktree: string): Promise<void> {
  const branch = await git(["symbolic-ref", "--quiet", "HEAD"], worktree);
  if (branch.exitCode === 1) {
    throw new UsageError(`no branch is checked out in ${worktree} (HEAD is detached)`, {
      hint: "check out the branch to merge into",
    });
  }
  if (branch.exitCode !== 0) throw gitFailure(["symbolic-ref", "--quiet", "HEAD"], branch);
  if ((await mergeHeadOf(worktree)) !== undefined) {
    throw new UsageError(`a merge is already in progress in ${worktree}`, { hint: "finish it or abort it first" });
  }
  // Untracked files (what a verify command left behind) do not count: git refuses by itself to overwrite one,
  // and that refusal is told in plain words (wouldOverwrite).
  const changed = (await worktreeStatus(worktree)).entries.filter((e) => e.code !== "??").map((e) => e.path);
  if (changed.length > 0) {
    const shown = changed.slice(0, 5).join(", ") + (changed.length > 5 ? ", …" : "");
    throw new UsageError(`the worktree ${worktree} has uncommitted changes (${shown})`, {
      hint: "commit or discard them before merging",
    });
  }
}

async function mergeHeadOf(worktree: string): Promise<string | undefined> {
  const result = await git(["rev-parse", "--quiet", "--verify", "MERGE_HEAD"], worktree);
  if (result.exitCode === 0) return result.stdout.trim();
  if (result.exitCode === 1) return undefined;
  throw gitFailure(["rev-parse", "--quiet", "--verify", "MERGE_HEAD"], result);
}

async function headSha(worktree: string): Promise<string> {
  return (await gitOk(["rev-parse", "HEAD"], worktree)).trim();
}

async function topLevel(worktree: string): Promise<string> {
  return (await gitOk(["rev-parse", "--show-toplevel"], worktree)).trim();
}

/** Paths with unmerged index entries (stages 1–3), each once, relative to the worktree's top level. */
async function unmergedPaths(worktree: string): Promise<string[]> {
  const out = await gitOk(["ls-files", "--unmerged", "--full-name", "-z"], worktree);
  const paths = new Set<string>();
  for (const record of out.split("\0")) {
    const tab = record.indexOf("\t");
    if (tab > 0) paths.add(record.slice(tab + 1));
  }
  return [...paths].sort();
}

// git's markers are seven characters at a line start, followed by a space (and a label) or the line's end;
// `|||||||` opens the base section of the diff3 and zdiff3 styles.
const MARKER = /^(?:<{7}|={7}|>{7}|\|{7})(?: |\r?$)/m;

/** The line of the first conflict marker in a regular text file; undefined for none, a binary or no file. */
async function firstMarkerLine(file: string): Promise<number | undefined> {
  const info = await lstat(file).catch(() => undefined);
  if (info === undefined || !info.isFile()) return undefined;
  const content = await readFile(file);
  if (content.includes(0)) return undefined; // binary: git writes no markers into it
  const text = content.toString("utf8");
  const match = MARKER.exec(text);
  if (match === null) return undefined;
  return text.slice(0, match.index).split("\n").length;
}
