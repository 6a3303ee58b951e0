// Keeps orch's own files out of the user's `git status` through the repository-local exclude file.
// Invariant: the entry is written at most once and every line already in the file is kept as it was.
import { appendFile, mkdir, readFile } from "node:fs/promises";
import * as path from "node:path";
import type { RepoInfo } from "./repo.js";

/**
 * Adds `entry` as a line of `<commonDir>/info/exclude` unless it is there already. The common dir is
 * shared by every worktree, so the entry holds in all of them. Returns whether the file was changed.
 */
export async function ensureExcluded(repo: Pick<RepoInfo, "commonDir">, entry = ".orch/"): Promise<boolean> {
  if (entry.trim() === "" || /[\r\n]/.test(entry)) {
    throw new Error(`invalid exclude entry: ${JSON.stringify(entry)}`);
  }
  const file = path.join(repo.commonDir, "info", "exclude");
  const current = await readFile(file, "utf8").catch((error: unknown) => {
    if (error instanceof Error && "code" in error && error.code === "ENOENT") return undefined;
    throw error;
  });
  const wanted = entry.trim();
  if (current !== undefined && current.split(/\r?\n/).some((line) => line.trim() === wanted)) return false;

  await mkdir(path.dirname(file), { recursive: true });
  const separator = current === undefined || current === "" || current.endsWith("\n") ? "" : "\n";
  await appendFile(file, `${separator}${wanted}\n`, "utf8");
  return true;
}
