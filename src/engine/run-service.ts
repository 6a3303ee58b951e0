// Starting and driving a run. `planRun` checks everything a user can get wrong and writes nothing;
// `createRun` makes the worktree and journals the run; `driveRun` runs the loop to its end and writes the
// report. The CLI (foreground or detached) and later the server call these same three.
import { hostname } from "node:os";
import { z } from "zod";
import type { AgentAdapter } from "../agents/agent.js";
import { DEFAULT_PERMISSION, Permission } from "../agents/permission.js";
import { AgentSettings, createAdapter } from "../agents/registry.js";
import { UsageError } from "../core/errors.js";
import type { Limits } from "../core/journal.js";
import { recoveryPolicy, RecoverySettings } from "../core/recovery-policy.js";
import type { StopMode, TerminalRunStatus } from "../core/run.js";
import { slugify } from "../core/text.js";
import { assertNewBranch, createWorktree, ensureExcluded, inspectRepo, resolveBase, type RepoInfo } from "../git/index.js";
import { processStartTime } from "../process/tree.js";
import type { RunRecord, Store } from "../store/store.js";
import { watchStopRequests } from "./control.js";
import { convergeTask, type Activity, type ChainLink, type TaskConclusion } from "./converge.js";
import type { EngineDeps } from "./deps.js";
import { EventWriter } from "./event-writer.js";
import { newRunId, taskBranch } from "./ids.js";
import { orchPaths, reportPath, worktreePath } from "./paths.js";
import { writeReport } from "./report.js";

export interface RunRequest {
  cwd: string;
  goal: string;
  criteria: string[];
  agent: AgentSettings;
  permission: Permission;
  model?: string | undefined;
  /** The fallback chain as the user named it (`model`, or `agent:model` for another agent)… */
  fallbackModels: string[];
  /** …and resolved: each fallback's agent settings and model. */
  fallbacks: Fallback[];
  base?: string | undefined;
  limits: Limits;
  recovery: RecoverySettings;
  /** The resolved settings, kept with the run. */
  config: Record<string, unknown>;
}

export const Fallback = z.object({ agent: AgentSettings, model: z.string().optional() });
export type Fallback = z.infer<typeof Fallback>;

export interface PlannedRun {
  request: RunRequest;
  repo: RepoInfo;
  base: { branch: string; sha: string };
  runId: string;
  taskId: string;
  branch: string;
  adapter: AgentAdapter;
}

/** Validates a run request against the repository. Writes nothing; every problem is a UsageError. */
export async function planRun(request: RunRequest, now: Date = new Date()): Promise<PlannedRun> {
  const goal = request.goal.trim();
  if (goal === "") throw new UsageError("the goal is empty", { hint: 'say what to achieve: orch run "make the failing tests pass" --verify "npm test"' });
  const criteria = request.criteria.map((c) => c.trim()).filter((c) => c !== "");
  if (criteria.length === 0) {
    throw new UsageError("no verify command: orch needs at least one command that tells when the goal is met", {
      hint: 'add --verify "npm test" (or set verify: in orch.config.yaml)',
    });
  }
  const repo = await inspectRepo(request.cwd);
  const base = await resolveBase(repo, request.base);
  const adapter = createAdapter(request.agent);
  // Every fallback agent is checked now too, so that a bad one fails before anything is written.
  for (const fallback of request.fallbacks) createAdapter(fallback.agent);
  const runId = newRunId(now);
  const taskId = slugify(goal, 32) || "task";
  const branch = taskBranch(runId, taskId);
  await assertNewBranch(repo, branch);
  return { request: { ...request, goal, criteria }, repo, base, runId, taskId, branch, adapter };
}

/** Creates the task's worktree and journals the run and its task (status pending). */
export async function createRun(store: Store, planned: PlannedRun): Promise<RunRecord> {
  const paths = orchPaths(planned.repo.root);
  await ensureExcluded(planned.repo);
  const worktree = worktreePath(paths, planned.runId, planned.taskId);
  await createWorktree({ repo: planned.repo, path: worktree, branch: planned.branch, baseSha: planned.base.sha });
  const { request } = planned;
  await store.append([
    {
      type: "run.created",
      runId: planned.runId,
      data: {
        goal: request.goal,
        repoRoot: planned.repo.root,
        baseBranch: planned.base.branch,
        baseSha: planned.base.sha,
        branch: planned.branch,
        agent: {
          agent: request.agent.name,
          ...(request.model !== undefined ? { model: request.model } : {}),
          fallbackModels: request.fallbackModels,
        },
        criteria: request.criteria,
        limits: request.limits,
        config: {
          ...request.config,
          agent: request.agent,
          permission: request.permission,
          recovery: request.recovery,
          fallbacks: request.fallbacks,
        },
      },
    },
    {
      type: "task.created",
      runId: planned.runId,
      taskId: planned.taskId,
      data: { title: request.goal, goal: request.goal, criteria: request.criteria, branch: planned.branch, worktree },
    },
  ]);
  const run = await store.getRun(planned.runId);
  if (run === undefined) throw new Error(`run ${planned.runId} vanished right after it was written`);
  return run;
}

export interface DriveOptions {
  runId: string;
  detached: boolean;
  /** Aborted with reason "interrupt" on Ctrl-C or SIGTERM: the agent is stopped, state is kept. */
  interrupt: AbortSignal;
  onActivity?: (activity: Activity) => void;
}

export interface DriveResult {
  run: RunRecord;
  report: string;
}

/** Runs a pending run to its end: the convergence loop, then the report, then the final status. */
export async function driveRun(deps: EngineDeps, options: DriveOptions): Promise<DriveResult> {
  const { store } = deps;
  const run = await store.getRun(options.runId);
  if (run === undefined) throw new UsageError(`no run ${options.runId}`);
  if (run.status !== "pending") throw new UsageError(`run ${run.id} is ${run.status}; only a pending run can be started`);
  const [task] = await store.listTasks(run.id);
  if (task === undefined) throw new Error(`run ${run.id} has no task`);
  const settings = AgentSettings.parse(run.config.agent);
  const chain = chainOf(run, settings);
  const paths = orchPaths(run.repoRoot);
  const writer = new EventWriter(store);
  const log = deps.logger.child({ runId: run.id });

  const abort = new AbortController();
  const stop = new AbortController();
  const onInterrupt = () => abort.abort("interrupt");
  options.interrupt.addEventListener("abort", onInterrupt, { once: true });
  const watcher = watchStopRequests(store, run.id, {
    logger: log,
    onRequest: (mode: StopMode) => {
      stop.abort(mode);
      if (mode === "abort") abort.abort("abort");
    },
  });

  const pidStartTime = processStartTime(process.pid);
  await writer.write(
    {
      type: "run.started",
      runId: run.id,
      data: { pid: process.pid, ...(pidStartTime !== undefined ? { pidStartTime } : {}), host: hostname(), detached: options.detached },
    },
    { type: "task.started", runId: run.id, taskId: task.id, data: {} },
  );
  const startedAt = deps.now();
  const deadline = startedAt + run.limits.maxMs;
  const deadlineTimer = setTimeout(() => abort.abort("deadline"), run.limits.maxMs);
  log.info("run started", { pid: process.pid, detached: options.detached });

  let conclusion: TaskConclusion;
  try {
    conclusion = await convergeTask(deps, {
      run: { ...run, startedAt },
      task: { ...task, status: "running" },
      chain,
      permission: Permission.catch(DEFAULT_PERMISSION).parse(run.config.permission),
      recovery: recoveryOf(run),
      paths,
      writer,
      abort: abort.signal,
      stop: stop.signal,
      stopRequested: () => watcher.current(),
      deadline,
      ...(options.onActivity !== undefined ? { onActivity: options.onActivity } : {}),
    });
  } catch (error) {
    conclusion = { status: "failed", reason: `internal error: ${error instanceof Error ? error.message : String(error)}` };
    log.error("run failed inside orch", { error: error instanceof Error ? error.stack : String(error) });
  } finally {
    clearTimeout(deadlineTimer);
    watcher.dispose();
    options.interrupt.removeEventListener("abort", onInterrupt);
  }

  const report = reportPath(paths, run.id);
  await writer.flush();
  if (conclusion.status === "waiting") {
    await writer.write({ type: "run.waiting", runId: run.id, data: { reason: conclusion.reason } });
  } else {
    await writer.write({
      type: "task.finished",
      runId: run.id,
      taskId: task.id,
      data: {
        status: conclusion.status,
        reason: conclusion.reason,
        ...(conclusion.status === "succeeded" ? { commit: conclusion.commit } : {}),
      },
    });
  }
  if (conclusion.status !== "waiting") {
    await writer.write({
      type: "run.finished",
      runId: run.id,
      data: { status: runStatusOf(conclusion), reason: conclusion.reason, report },
    });
  }
  await writeReport(store, run.id, report);
  await writer.flush();
  log.info("run ended", { status: conclusion.status, reason: conclusion.reason });
  const final = await store.getRun(run.id);
  if (final === undefined) throw new Error(`run ${run.id} vanished`);
  return { run: final, report };
}

/** The run's agent and model, then its fallbacks; a run journaled before agent fallbacks existed falls back on its own agent. */
function chainOf(run: RunRecord, settings: AgentSettings): ChainLink[] {
  const stored = z.array(Fallback).safeParse(run.config.fallbacks);
  const fallbacks: Fallback[] = stored.success
    ? stored.data
    : run.fallbackModels.map((model) => ({ agent: settings, model }));
  return [
    { adapter: createAdapter(settings), model: run.model },
    ...fallbacks.map((f) => ({ adapter: createAdapter(f.agent), model: f.model })),
  ];
}

/** The run's recovery settings as the loop uses them; a run journaled before they existed gets the defaults. */
function recoveryOf(run: RunRecord) {
  const settings = RecoverySettings.catch(RecoverySettings.parse({})).parse(run.config.recovery ?? {});
  return { policy: recoveryPolicy(settings.onFailure), breaker: settings.circuitBreaker };
}

function runStatusOf(conclusion: Exclude<TaskConclusion, { status: "waiting" }>): TerminalRunStatus {
  switch (conclusion.status) {
    case "succeeded":
    case "failed":
    case "stalled":
    case "stopped":
    case "aborted":
      return conclusion.status;
    case "blocked":
      return "failed";
  }
}
