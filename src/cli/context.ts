// What every command needs: where it runs, the repository's journal, and how to find a run by what the
// user typed. Read-only commands never create `.orch/`.
import { NotFoundError, UsageError } from "../core/errors.js";
import { orchPaths, type OrchPaths } from "../engine/paths.js";
import { inspectRepo, type RepoInfo } from "../git/index.js";
import { openSqliteStore, sqliteJournalExists } from "../store/sqlite/open.js";
import type { RunRecord, Store } from "../store/store.js";
import type { Output } from "./output.js";

export interface CliContext {
  cwd: string;
  env: NodeJS.ProcessEnv;
  output: Output;
  /** The file to run for a detached run's own process (this CLI's entry). */
  entry: string;
}

export interface RepoStore {
  repo: RepoInfo;
  paths: OrchPaths;
  store: Store;
}

export async function openRepoStore(cwd: string, options: { create: boolean }): Promise<RepoStore> {
  const repo = await inspectRepo(cwd);
  const paths = orchPaths(repo.root);
  if (!options.create && !sqliteJournalExists(paths.db)) {
    throw new NotFoundError(`no orch runs in ${repo.root} yet`, { hint: 'start one with: orch run "<goal>" --verify "<command>"' });
  }
  const store = await openSqliteStore({ path: paths.db });
  return { repo, paths, store };
}

/** A run by exact id or unique prefix; without a reference, the newest run. */
export async function resolveRun(store: Store, ref: string | undefined): Promise<RunRecord> {
  if (ref === undefined || ref === "" || ref === "latest") {
    const [newest] = await store.listRuns({ limit: 1 });
    if (newest === undefined) throw new NotFoundError("there are no runs yet", { hint: 'start one with: orch run "<goal>" --verify "<command>"' });
    return newest;
  }
  const exact = await store.getRun(ref);
  if (exact !== undefined) return exact;
  const matches = await store.findRuns(ref);
  const [only] = matches;
  if (only !== undefined && matches.length === 1) return only;
  if (matches.length > 1) {
    throw new UsageError(`"${ref}" matches ${matches.length} runs: ${matches.slice(0, 5).map((r) => r.id).join(", ")}`, {
      hint: "type more of the run id",
    });
  }
  throw new NotFoundError(`no run "${ref}"`, { hint: "`orch list` shows the runs of this repository" });
}

export async function withRepoStore<T>(cwd: string, create: boolean, fn: (rs: RepoStore) => Promise<T>): Promise<T> {
  const rs = await openRepoStore(cwd, { create });
  try {
    return await fn(rs);
  } finally {
    await rs.store.close();
  }
}
