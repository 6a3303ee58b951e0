// Tells beforehand whether one branch merges cleanly into another, with `git merge-tree --write-tree`.
// Invariant: read-only for the user and the worktrees; no index, working tree or ref is touched (only
// the would-be merged tree is written to the object store, where nothing refers to it).
import { UsageError } from "../core/errors.js";
import { assertRevision, git, gitFailure, gitOk } from "./exec.js";
import type { RepoInfo } from "./repo.js";

type RepoRoot = Pick<RepoInfo, "root">;

/**
 * What kind of conflict a path has, from the stable type git gives each message (merge-ort's
 * `type_short_descriptions`); the content conflict of a file both sides added is told as `add/add`.
 */
export type ConflictKind =
  | "content"
  | "add/add"
  | "binary"
  | "modify/delete"
  | "rename/delete"
  | "rename/rename"
  | "rename-collision"
  | "file/directory"
  | "distinct-modes"
  | "directory-rename"
  | "submodule"
  | "other";

export interface MergeConflict {
  readonly path: string;
  /** The most telling kind when git reports several for one path (a binary add/add is `binary`). */
  readonly kind: ConflictKind;
}

/** One of git's informational messages about the merge ("Auto-merging a.txt", "CONFLICT (…): …"). */
export interface MergeMessage {
  readonly paths: readonly string[];
  /** git's stable type, e.g. "Auto-merging", "CONFLICT (contents)", "CONFLICT (modify/delete)". */
  readonly type: string;
  /** The message as git words it for people. */
  readonly text: string;
}

export type MergeCheck =
  | {
      readonly clean: true;
      /** The tree the merge would commit. */
      readonly tree: string;
      /** `up-to-date`: from is already in into; `fast-forward`: into is an ancestor of from. */
      readonly relation: "up-to-date" | "fast-forward" | "diverged";
      readonly messages: readonly MergeMessage[];
    }
  | {
      readonly clean: false;
      /** The merged tree with conflict markers in the files, as a merge would leave the worktree. */
      readonly tree: string;
      /** Conflicted paths; may be empty for conflicts that leave no path unmerged (directory renames). */
      readonly conflicts: readonly MergeConflict[];
      readonly messages: readonly MergeMessage[];
    };

/** Would merging `from` into `into` (branch names or commits) conflict? Nothing is checked out or staged. */
export async function checkMerge(options: { repo: RepoRoot; into: string; from: string }): Promise<MergeCheck> {
  const { repo, into, from } = options;
  const [intoSha, fromSha] = [await resolveCommit(repo.root, into), await resolveCommit(repo.root, from)];
  if (await isAncestor(repo.root, fromSha, intoSha)) {
    const tree = (await gitOk(["rev-parse", `${intoSha}^{tree}`], repo.root)).trim();
    return { clean: true, tree, relation: "up-to-date", messages: [] };
  }
  const fastForward = await isAncestor(repo.root, intoSha, fromSha);
  const check = await mergeTree(repo.root, intoSha, fromSha, into, from);
  return check.clean ? { ...check, relation: fastForward ? "fast-forward" : "diverged" } : check;
}

/**
 * The merge of two commits as `git merge-tree` computes it, in one git call: the tree a clean merge would
 * commit, or the conflicts. `relation` is "diverged" (not checked: that would cost more git calls).
 */
export async function mergeTree(root: string, intoSha: string, fromSha: string, into = intoSha, from = fromSha): Promise<MergeCheck> {
  const args = ["merge-tree", "--write-tree", "--name-only", "--messages", "-z", intoSha, fromSha];
  const result = await git(args, root);
  if (result.exitCode !== 0 && result.exitCode !== 1) {
    if (/refusing to merge unrelated histories/.test(result.stderr)) {
      throw new UsageError(`"${from}" and "${into}" share no history, so one cannot be merged into the other`, {
        hint: "start the task branch from the run branch",
      });
    }
    throw gitFailure(args, result);
  }
  const parsed = parseMergeTree(result.stdout);
  if (result.exitCode === 0) return { clean: true, tree: parsed.tree, relation: "diverged", messages: parsed.messages };
  return { clean: false, tree: parsed.tree, conflicts: conflictsOf(parsed), messages: parsed.messages };
}

export interface MergeTreeOutput {
  readonly tree: string;
  readonly conflictedPaths: readonly string[];
  readonly messages: readonly MergeMessage[];
}

/**
 * Parses `git merge-tree --write-tree --name-only --messages -z`:
 * `<tree>\0` then each conflicted path `<path>\0`, an empty field `\0`, then records
 * `<n>\0<path1>\0…<pathN>\0<type>\0<message>\0` (git 2.39 ends each message with a newline).
 */
export function parseMergeTree(stdout: string): MergeTreeOutput {
  const fields = stdout.split("\0");
  const tree = fields[0]?.trim() ?? "";
  if (!/^[0-9a-f]{40,64}$/.test(tree)) throw new Error(`git merge-tree printed no tree id: ${JSON.stringify(stdout.slice(0, 80))}`);
  let i = 1;
  const conflictedPaths: string[] = [];
  for (; i < fields.length && fields[i] !== ""; i++) conflictedPaths.push(fields[i] ?? "");
  i++; // the empty field that ends the list
  const messages: MergeMessage[] = [];
  while (i < fields.length) {
    const count = Number(fields[i]);
    if (fields[i] === "" || !Number.isInteger(count) || count < 0) break;
    const paths = fields.slice(i + 1, i + 1 + count);
    const type = fields[i + 1 + count];
    const text = fields[i + 2 + count];
    if (type === undefined || text === undefined) break;
    messages.push({ paths, type, text: text.trim() });
    i += count + 3;
  }
  return { tree, conflictedPaths, messages };
}

// Most telling first: what a resolver has to decide (keep or delete, which name) before how to edit.
const PRIORITY: readonly ConflictKind[] = [
  "modify/delete",
  "rename/delete",
  "rename/rename",
  "rename-collision",
  "file/directory",
  "directory-rename",
  "submodule",
  "distinct-modes",
  "binary",
  "add/add",
  "content",
  "other",
];

function conflictsOf(output: MergeTreeOutput): MergeConflict[] {
  return output.conflictedPaths.map((path) => {
    const kinds = output.messages
      .filter((m) => m.paths.includes(path))
      .map(kindOf)
      .filter((k): k is ConflictKind => k !== undefined);
    const kind = PRIORITY.find((k) => kinds.includes(k)) ?? "other";
    return { path, kind };
  });
}

/** The kind a message tells of, or undefined for an informational one ("Auto-merging"). */
export function kindOf(message: MergeMessage): ConflictKind | undefined {
  const type = message.type.replace(/^CONFLICT\s*/, "CONFLICT ");
  if (!type.startsWith("CONFLICT ")) return undefined;
  const inner = /^CONFLICT \((.*)\)$/.exec(type)?.[1] ?? "";
  if (inner === "contents") return message.text.startsWith("CONFLICT (add/add)") ? "add/add" : "content";
  if (inner === "binary") return "binary";
  if (inner === "file/directory") return "file/directory";
  if (inner === "distinct modes") return "distinct-modes";
  if (inner === "modify/delete") return "modify/delete";
  if (inner === "rename/delete") return "rename/delete";
  if (inner === "rename/rename") return "rename/rename";
  if (inner === "rename involved in collision") return "rename-collision";
  if (inner.includes("directory rename")) return "directory-rename";
  if (inner.startsWith("submodule")) return "submodule";
  return "other";
}

/** The commit a branch name or revision names; a UsageError in plain words when it names none. */
export async function resolveCommit(cwd: string, rev: string): Promise<string> {
  assertRevision(rev, "merge");
  const args = ["rev-parse", "--verify", "--quiet", "--end-of-options", `${rev}^{commit}`];
  const result = await git(args, cwd);
  if (result.exitCode === 0) return result.stdout.trim();
  if (result.exitCode === 1 || /^fatal: (Needed a single revision|ambiguous argument)/m.test(result.stderr)) {
    throw new UsageError(`"${rev}" names no branch or commit in ${cwd}`, {
      hint: "check the name with `git branch --list`",
    });
  }
  throw gitFailure(args, result);
}

export async function isAncestor(cwd: string, ancestor: string, descendant: string): Promise<boolean> {
  const args = ["merge-base", "--is-ancestor", ancestor, descendant];
  const result = await git(args, cwd);
  if (result.exitCode === 0) return true;
  if (result.exitCode === 1) return false;
  throw gitFailure(args, result);
}
