// Runs one orch run of the `command` agent through the real engine, the way `orch run` does in the
// foreground: planRun → createRun (real worktree, real SQLite journal under .orch/) → driveRun, with the same
// dependencies the CLI hands in (file logger, process-group registry, real clock). Times each phase.
import { join } from "node:path";
import { DEFAULT_PERMISSION } from "../../src/agents/permission.js";
import type { Limits } from "../../src/core/journal.js";
import { RecoverySettings } from "../../src/core/recovery-policy.js";
import type { Activity } from "../../src/engine/converge.js";
import { AGENT_SECRET_ENV } from "../../src/agents/secret-env.js";
import { createRedactor } from "../../src/core/redact.js";
import { interruptibleSleep, type EngineDeps } from "../../src/engine/deps.js";
import { redactingStore } from "../../src/engine/redacting-store.js";
import { fileLogger } from "../../src/engine/logger.js";
import { orchPaths, worktreesRoot } from "../../src/engine/paths.js";
import { driveRun } from "../../src/engine/drive-run.js";
import { createRun, planRun } from "../../src/engine/run-service.js";
import { ProcessGroups } from "../../src/process/groups.js";
import { openSqliteStore } from "../../src/store/sqlite/open.js";
import type { RunRecord } from "../../src/store/store.js";

export interface EngineRunOptions {
  repoRoot: string;
  agentCommand: string;
  verify: string[];
  limits: Partial<Limits>;
  onActivity?: (activity: Activity) => void;
  /** Called right before driveRun starts and right after it returns (for samplers). */
  beforeDrive?: () => void;
}

export interface EngineRunResult {
  run: RunRecord;
  dbPath: string;
  /** planRun + createRun (git checks, worktree, first journal rows). */
  setupMs: number;
  /** driveRun: every attempt, verify, report, final journal rows. */
  driveMs: number;
  /** CPU time (user + system) this process spent in driveRun; less sensitive to a busy machine than driveMs. */
  driveCpuMs: number;
}

export const BENCH_LIMITS: Limits = {
  maxAttempts: 1,
  maxMs: 10 * 60_000,
  intervalMs: 0,
  stallAttempts: 1_000_000,
  stallTimeoutMs: 120_000,
  attemptTimeoutMs: 300_000,
};

export async function runThroughEngine(options: EngineRunOptions): Promise<EngineRunResult> {
  const setupStart = performance.now();
  const planned = await planRun({
    cwd: options.repoRoot,
    goal: "benchmark the orchestrator",
    criteria: options.verify,
    agent: { name: "command", command: options.agentCommand },
    permission: DEFAULT_PERMISSION,
    model: undefined,
    fallbackModels: [],
    fallbacks: [],
    limits: { ...BENCH_LIMITS, ...options.limits },
    recovery: RecoverySettings.parse({}),
    source: "bench",
    // Where `orch run` would put them: makeRepo points ORCH_WORKTREES_DIR into the benchmark's own folder.
    worktrees: worktreesRoot(options.repoRoot, process.env).dir,
  });
  const paths = orchPaths(planned.repo.root);
  const store = await openSqliteStore({ path: paths.db });
  const groups = new ProcessGroups();
  const uninstall = groups.installExitHandler();
  try {
    const { run: created, taskFiles } = await createRun(store, planned);
    await taskFiles;
    const setupMs = performance.now() - setupStart;
    const redactor = createRedactor(process.env, { extraNames: AGENT_SECRET_ENV });
    const deps: EngineDeps = {
      store: redactingStore(store, redactor),
      groups,
      logger: fileLogger(join(paths.logs, "orch.jsonl")),
      env: process.env,
      redactor,
      now: Date.now,
      random: Math.random,
      sleep: interruptibleSleep,
    };
    options.beforeDrive?.();
    const driveStart = performance.now();
    const cpuStart = process.cpuUsage();
    const { run } = await driveRun(deps, {
      runId: created.id,
      detached: false,
      interrupt: new AbortController().signal,
      ...(options.onActivity !== undefined ? { onActivity: options.onActivity } : {}),
    });
    const driveMs = performance.now() - driveStart;
    const cpu = process.cpuUsage(cpuStart);
    return { run, dbPath: paths.db, setupMs, driveMs, driveCpuMs: (cpu.user + cpu.system) / 1000 };
  } finally {
    groups.killAll("SIGKILL");
    uninstall();
    await store.close();
  }
}
