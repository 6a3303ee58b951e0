// The dependencies a checkout has installed, seen from worktrees outside it. A worktree under the user's cache
// directory has no `node_modules` of its own, and Node no longer finds the checkout's by walking up from it, so a
// verify command like `npx vitest` would fail there while it passes in the checkout. Each new worktree outside
// the checkout gets a link to the checkout's installed dependency folders, when git ignores them there (they are
// something an install made, not part of the project); git is then told to ignore the link too (`node_modules/`
// matches a folder, not a link), so it is never committed. Removing a worktree removes the link, never what it
// points to (git does not follow it).
import { lstat, stat, symlink, unlink } from "node:fs/promises";
import { join, relative, isAbsolute } from "node:path";
import { ensureExcluded, inspectRepo, isIgnored } from "../git/index.js";

/** Folders of installed dependencies that tools find by walking up from where they run. */
export const DEPENDENCY_FOLDERS = ["node_modules"] as const;

/** Links the checkout's installed dependency folders into `worktree`; returns the folders linked. */
export async function linkDependencies(repoRoot: string, worktree: string): Promise<string[]> {
  // A worktree inside the checkout (runs made before worktrees moved out) finds them by walking up already.
  const within = relative(repoRoot, worktree);
  if (within !== "" && !within.startsWith("..") && !isAbsolute(within)) return [];
  const linked: string[] = [];
  for (const name of DEPENDENCY_FOLDERS) {
    const source = join(repoRoot, name);
    const target = join(worktree, name);
    if (!(await isFolder(source)) || (await exists(target))) continue;
    // Tracked, or not ignored: the project's own files, which the worktree has from git.
    if (!(await isIgnored(repoRoot, name))) continue;
    await symlink(source, target, "dir");
    if (!(await isIgnored(worktree, name))) {
      await ensureExcluded(await inspectRepo(repoRoot), `/${name}`);
      // Still not ignored (a negated pattern, say): no link that could be committed.
      if (!(await isIgnored(worktree, name))) {
        await unlink(target);
        continue;
      }
    }
    linked.push(name);
  }
  return linked;
}

async function isFolder(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined))?.isDirectory() === true;
}

async function exists(path: string): Promise<boolean> {
  return (await lstat(path).catch(() => undefined)) !== undefined;
}
