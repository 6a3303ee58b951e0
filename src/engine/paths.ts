// Where everything of a repository lives: one `.orch/` at its root, excluded from git, readable by its owner
// alone (it holds agent transcripts, prompts and the journal).
import { chmodSync, mkdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { JournalDamagedError } from "../store/errors.js";

export interface OrchPaths {
  root: string;
  dir: string;
  db: string;
  logs: string;
  worktrees: string;
  reports: string;
}

export function orchPaths(repoRoot: string): OrchPaths {
  const dir = join(repoRoot, ".orch");
  return {
    root: repoRoot,
    dir,
    db: join(dir, "orch.db"),
    logs: join(dir, "logs"),
    worktrees: join(dir, "worktrees"),
    reports: join(dir, "reports"),
  };
}

export const worktreePath = (paths: OrchPaths, runId: string, taskId: string): string => join(paths.worktrees, runId, taskId);
export const transcriptPath = (paths: OrchPaths, runId: string, attemptId: string): string => join(paths.logs, runId, `${attemptId}.jsonl`);
export const reportPath = (paths: OrchPaths, runId: string): string => join(paths.reports, `${runId}.md`);
export const driverLogPath = (paths: OrchPaths, runId: string): string => join(paths.logs, runId, "orch.log");

/**
 * Makes `.orch/` (mode 0700), or takes the group's and others' access away from one made before. Something else
 * of that name (a file) is the journal's place made unusable: said as such, nothing touched.
 */
export function ensureOrchDir(paths: OrchPaths): void {
  const found = statSync(paths.dir, { throwIfNoEntry: false });
  if (found !== undefined && !found.isDirectory()) throw new JournalDamagedError(paths.db, "inaccessible", `${paths.dir} is not a directory`);
  mkdirSync(paths.dir, { recursive: true, mode: 0o700 });
  if ((statSync(paths.dir).mode & 0o077) !== 0) chmodSync(paths.dir, 0o700);
}
