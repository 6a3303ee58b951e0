// Where everything of a repository lives: one `.orch/` at its root, excluded from git.
import { join } from "node:path";

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
