// The composition of orch's parts for one repository: its journal (read-only callers never create `.orch/`) and
// the engine's dependencies. The CLI, a detached supervisor and the server compose through here.
import { join } from "node:path";
import { AGENT_SECRET_ENV } from "../agents/secret-env.js";
import { createRedactor } from "../core/redact.js";
import { interruptibleSleep, type EngineDeps } from "../engine/deps.js";
import { fileLogger } from "../engine/logger.js";
import { orchPaths, type OrchPaths } from "../engine/paths.js";
import { redactingStore } from "../engine/redacting-store.js";
import type { RepoInfo } from "../git/index.js";
import type { ProcessGroups } from "../process/groups.js";
import { openSqliteStore } from "../store/sqlite/open.js";
import { locateJournal } from "./journal-reader.js";
import type { Store } from "../store/store.js";

export interface RepoStore {
  repo: RepoInfo;
  paths: OrchPaths;
  store: Store;
}

export async function openRepoStore(cwd: string, options: { create: boolean }): Promise<RepoStore> {
  const { repo, paths } = await locateJournal(cwd, options);
  const store = await openSqliteStore({ path: paths.db });
  return { repo, paths, store };
}

export async function withRepoStore<T>(cwd: string, create: boolean, fn: (rs: RepoStore) => Promise<T>): Promise<T> {
  const rs = await openRepoStore(cwd, { create });
  try {
    return await fn(rs);
  } finally {
    await rs.store.close();
  }
}

/** What the engine needs to drive a run of `repoRoot`: the journal, process groups, a logger, the environment, time. */
export function engineDeps(processEnv: NodeJS.ProcessEnv, store: Store, repoRoot: string, groups: ProcessGroups): EngineDeps {
  // A plain snapshot: agents and verify commands get it on every spawn, and copying process.env itself is slow.
  const env = { ...processEnv };
  // Its secrets are hidden in all the run writes, shows and sends; the journal gets them no other way.
  const redactor = createRedactor(env, { extraNames: AGENT_SECRET_ENV });
  return {
    store: redactingStore(store, redactor),
    groups,
    logger: fileLogger(join(orchPaths(repoRoot).logs, "orch.jsonl")),
    env,
    redactor,
    now: Date.now,
    random: Math.random,
    sleep: interruptibleSleep,
  };
}
