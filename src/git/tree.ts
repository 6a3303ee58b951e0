// What a commit holds at a path, and whether git ignores a path: read-only questions asked before a run starts,
// since a task's worktree is a checkout of the base commit and holds nothing else.
import { git } from "./exec.js";

/** A path in a commit: an executable file, a plain file, a symbolic link, a directory, or nothing. */
export type TreeEntryKind = "executable" | "file" | "symlink" | "directory" | "submodule";

/** What `path` (relative to the repository's root, no `..`) is in commit `sha`, or undefined when it has none. */
export async function treeEntryAt(root: string, sha: string, path: string): Promise<TreeEntryKind | undefined> {
  // -z: the path as it is, never quoted (a name with spaces or accents must still match).
  const result = await git(["ls-tree", "-z", "--full-tree", sha, "--", path], root);
  if (result.exitCode !== 0) return undefined;
  const line = result.stdout.split("\0").find((l) => l.endsWith(`\t${path}`));
  if (line === undefined) return undefined;
  const mode = line.split(" ", 1)[0];
  switch (mode) {
    case "100755":
      return "executable";
    case "100644":
      return "file";
    case "120000":
      return "symlink";
    case "040000":
      return "directory";
    default:
      return "submodule";
  }
}

/** Whether git ignores `path` (relative to the repository's root): something a build makes, not a checkout. */
export async function isIgnored(root: string, path: string): Promise<boolean> {
  const result = await git(["check-ignore", "--quiet", "--no-index", "--", path], root);
  return result.exitCode === 0;
}
