// The journal of the repository a command runs in, opened for reading only (`orch status`, `orch list`, `orch
// logs`): without the query layer a writer needs, which was the largest part of what those commands loaded. A
// journal an older orch left is opened as a writer instead, which migrates it, as every command always has.
import { NotFoundError } from "../core/errors.js";
import { ensureOrchDir, orchPaths, type OrchPaths } from "../engine/paths.js";
import { inspectRepo, type RepoInfo } from "../git/index.js";
import { sqliteJournalExists } from "../store/sqlite/connection.js";
import { openSqliteReader } from "../store/sqlite/reader.js";
import type { JournalReader } from "../store/store.js";

export interface RepoJournal {
  repo: RepoInfo;
  paths: OrchPaths;
}

/**
 * The repository at `cwd` and where its journal lives. Without `create`, a repository with no journal yet is a
 * NotFoundError (nothing is made); with it, `.orch/` is made.
 */
export async function locateJournal(cwd: string, options: { create: boolean }): Promise<RepoJournal> {
  const repo = await inspectRepo(cwd);
  const paths = orchPaths(repo.root);
  if (!options.create && !sqliteJournalExists(paths.db)) {
    throw new NotFoundError(`no orch runs in ${repo.root} yet`, { hint: 'start one with: orch run "<goal>" --verify "<command>"' });
  }
  if (options.create) ensureOrchDir(paths);
  return { repo, paths };
}

/** Runs `fn` with a reader of the journal of the repository at `cwd`, closed after; a NotFoundError when it has none. */
export async function withJournalReader<T>(cwd: string, fn: (rj: RepoJournal & { journal: JournalReader }) => Promise<T>): Promise<T> {
  const located = await locateJournal(cwd, { create: false });
  const journal = openSqliteReader({ path: located.paths.db }) ?? (await (await import("../store/sqlite/open.js")).openSqliteStore({ path: located.paths.db }));
  try {
    return await fn({ ...located, journal });
  } finally {
    await journal.close();
  }
}
