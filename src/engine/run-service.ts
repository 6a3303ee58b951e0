// Starting a run: `planRun` checks everything a user can get wrong and writes nothing; `createRun` makes the
// run branch and its worktree and journals the run and its tasks. Every run is a graph: a goal without a plan
// is a graph of one task; a plan file gives the tasks; a planner makes them when the run starts. drive-run.ts
// then drives it. The CLI (foreground or detached) and later the server call these.
import type { AgentAdapter } from "../agents/agent.js";
import { createAdapter } from "../agents/registry.js";
import { parseOnce } from "../core/cold-parse.js";
import { UsageError } from "../core/errors.js";
import type { Limits } from "../core/journal.js";
import type { TaskGraph } from "../core/dag.js";
import type { Plan } from "../core/plan.js";
import type { RecoverySettings } from "../core/recovery-policy.js";
import { RunSettings, type AgentSettings, type DeliverySettings, type Fallback, type Permission, type ReviewSettings } from "../core/run-settings.js";
import { slugify } from "../core/text.js";
import { ensureExcluded, inspectRepo, resolveBase, type RepoInfo } from "../git/index.js";
import type { RunRecord, Store } from "../store/store.js";
import { checkGraphRun, createRunBranch, plannerTaskEvent, RUN_BRANCH_TASK, runBranchOf, taskEvents, writeTaskFiles } from "./graph-run.js";
import { newRunId } from "./ids.js";
import { checkWorktreesDir, ensureWorktreesDir, orchPaths } from "./paths.js";

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
  /** `gc:` of orch.config.yaml: a run that ends collects its own worktrees. */
  gc?: { afterRun: boolean } | undefined;
  /** `integration.verifyEveryMerge` of orch.config.yaml. */
  verifyEveryMerge?: boolean | undefined;
  /** Who asks ("cli", a test…), kept with the run. */
  source?: string | undefined;
  /** A planned run's tasks (from --plan-file); without it the goal is one task, unless a planner makes the plan. */
  plan?: Plan | undefined;
  /** The agent that plans the run (`--plan`); its tasks are made when the run starts. */
  planner?: Fallback | undefined;
  /** How many tasks of a planned run may run at once. */
  concurrency?: number | undefined;
  /** Who reviews each task's verified commit, or why nobody does (absent: nobody, as for a run made in code). */
  review?: ReviewSettings | undefined;
  /** The folder the run's worktrees go in (absolute; `worktreesRoot` in paths.ts), recorded with the run. */
  worktrees: string;
  /** How long a commit held for a human waits at each level before orch rejects it (`approval.rejectAfter`). */
  approval?: { rejectAfterMs: { medium?: number; high?: number } } | undefined;
  /** How the run delivers its branch when it succeeds (`delivery:`, `--no-push`); absent: it delivers nothing. */
  delivery?: DeliverySettings | undefined;
}

export { Fallback } from "../core/run-settings.js";

export interface PlannedRun {
  request: RunRequest;
  repo: RepoInfo;
  base: { branch: string; sha: string };
  runId: string;
  taskId: string;
  branch: string;
  adapter: AgentAdapter;
  /** A planned run's task graph (its branches checked free). */
  graph?: TaskGraph<Plan["tasks"][number]> | undefined;
}

/**
 * Validates a run request against the repository (`repo`: the one at `request.cwd`, where the caller has looked at
 * it already). Writes nothing; every problem is a UsageError.
 */
export async function planRun(request: RunRequest, repo?: RepoInfo, now: Date = new Date()): Promise<PlannedRun> {
  const goal = request.goal.trim();
  if (goal === "") throw new UsageError("the goal is empty", { hint: 'say what to achieve: orch run "make the failing tests pass" --verify "npm test"' });
  const criteria = request.criteria.map((c) => c.trim()).filter((c) => c !== "");
  if (criteria.length === 0) {
    throw new UsageError("no verify command: orch needs at least one command that tells when the goal is met", {
      hint: 'add --verify "npm test" (or set verify: in orch.config.yaml)',
    });
  }
  checkWorktreesDir(request.worktrees);
  repo ??= await inspectRepo(request.cwd);
  const base = await resolveBase(repo, request.base);
  const adapter = await createAdapter(request.agent);
  // Every fallback agent is checked now too, so that a bad one fails before anything is written.
  for (const fallback of request.fallbacks) await createAdapter(fallback.agent);
  if (request.review?.on === true) await createAdapter(request.review.reviewer.agent);
  const runId = newRunId(now);
  if (request.plan !== undefined && request.planner !== undefined) {
    throw new UsageError("--plan asks an agent to plan the run, --plan-file gives the plan: choose one");
  }
  if (request.planner !== undefined) {
    await createAdapter(request.planner.agent);
    await checkGraphRun(repo, runId, undefined);
    return { request: { ...request, goal, criteria }, repo, base, runId, taskId: RUN_BRANCH_TASK, branch: runBranchOf(runId), adapter };
  }
  // Every run is a graph: a goal without a plan is a graph of one task.
  const plan = request.plan ?? singleTaskPlan(goal);
  const graph = await checkGraphRun(repo, runId, plan);
  return { request: { ...request, goal, criteria }, repo, base, runId, taskId: graph?.order[0]?.id ?? RUN_BRANCH_TASK, branch: runBranchOf(runId), adapter, graph };
}

/** The one task of a run whose goal is not planned: the goal itself. */
function singleTaskPlan(goal: string): Plan {
  const id = slugify(goal, 32) || "task";
  return { tasks: [{ id, title: goal, goal, acceptance: [], files: [], dependsOn: [], priority: 0, risk: "low", verify: [] }] };
}

export interface CreatedRun {
  run: RunRecord;
  /**
   * The readable task files, written in the background once the run is journaled so that a big plan's first
   * tasks need not wait for them: resolves when they are written, with why not if they could not be (the run does
   * not depend on them). Await it before the process exits.
   */
  taskFiles: Promise<string | undefined>;
}

/** Creates the run branch and its worktree, and journals the run and its tasks (status pending). */
export async function createRun(store: Store, planned: PlannedRun): Promise<CreatedRun> {
  await ensureExcluded(planned.repo);
  const { request } = planned;
  // The run records the folder's real path, the one git and the agents will see its worktrees at.
  const worktrees = ensureWorktreesDir(request.worktrees);
  const paths = orchPaths(planned.repo.root, worktrees);
  await createRunBranch(planned.repo, paths, planned.runId, planned.base.sha);
  const tasks =
    planned.graph !== undefined
      ? taskEvents(paths, planned.runId, request.criteria, planned.graph)
      : [plannerTaskEvent(paths, planned.runId, request.goal)];
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
        config: parseOnce(RunSettings, {
          ...(request.source !== undefined ? { source: request.source } : {}),
          agent: request.agent,
          permission: request.permission,
          recovery: request.recovery,
          fallbacks: request.fallbacks,
          plan: request.plan !== undefined || request.planner !== undefined,
          concurrency: request.concurrency ?? 1,
          ...(request.planner !== undefined ? { planner: request.planner } : {}),
          ...(request.gc !== undefined ? { gc: request.gc } : {}),
          ...(request.verifyEveryMerge !== undefined ? { verifyEveryMerge: request.verifyEveryMerge } : {}),
          ...(request.review !== undefined ? { review: request.review } : {}),
          worktrees,
          ...(request.delivery !== undefined ? { delivery: request.delivery } : {}),
          ...(request.approval !== undefined ? { approval: request.approval } : {}),
        }),
      },
    },
    ...tasks,
  ]);
  const run = await store.getRun(planned.runId);
  if (run === undefined) throw new Error(`run ${planned.runId} vanished right after it was written`);
  const taskFiles =
    planned.graph === undefined
      ? Promise.resolve(undefined)
      : writeTaskFiles(paths, planned.runId, planned.graph).then(
          () => undefined,
          (error: unknown) => `the task files of run ${planned.runId} could not be written: ${error instanceof Error ? error.message : String(error)}`,
        );
  return { run, taskFiles };
}
