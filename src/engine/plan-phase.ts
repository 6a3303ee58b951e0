// The first phase of a run planned by an agent (`orch run --plan`): the planner task's attempts, journaled like
// any other (transcripts, agent events, failures), each answer checked as a plan; a valid one becomes the run's
// tasks (and their files), an invalid one goes back to the planner with its problems, three times at most.
import type { AgentAdapter } from "../agents/agent.js";
import { parsePlanJson } from "../core/plan.js";
import type { RunRecord, TaskRecord } from "../store/store.js";
import { runAttempt } from "./attempt-runner.js";
import type { TaskConclusion } from "./converge.js";
import type { EngineDeps } from "./deps.js";
import type { EventWriter } from "./event-writer.js";
import { graphOf, taskEvents, writeTaskFiles } from "./graph-run.js";
import { attemptId } from "./ids.js";
import { tipOf } from "./merge-queue.js";
import { runPaths, transcriptPath, type OrchPaths } from "./paths.js";
import { makePlan } from "./planner.js";

export interface PlanPhaseContext {
  run: RunRecord;
  task: TaskRecord;
  adapter: AgentAdapter;
  model: string | undefined;
  writer: EventWriter;
  paths: OrchPaths;
  abort: AbortSignal;
  deadline: number;
}

/** Plans the run; undefined when its tasks are in the journal, or how the run ends when no plan came. */
export async function runPlanPhase(deps: EngineDeps, ctx: PlanPhaseContext): Promise<TaskConclusion | undefined> {
  const { run, task, writer } = ctx;
  const ids = { runId: run.id, taskId: task.id };
  if (task.status === "pending") await writer.write({ type: "task.started", ...ids, data: {} });
  const outcome = await makePlan({
    goal: run.goal,
    criteria: run.criteria,
    cwd: task.worktree,
    triesBefore: task.attempts,
    turn: async (prompt, number) => {
      const id = attemptId(run.id, task.id, number);
      const result = await runAttempt(deps, writer, {
        ...ids,
        attemptId: id,
        number,
        adapter: ctx.adapter,
        permission: "read-only",
        grantedTools: [],
        model: ctx.model,
        prompt,
        resumeSessionId: undefined,
        worktree: task.worktree,
        transcript: transcriptPath(ctx.paths, run.id, id),
        stallTimeoutMs: run.limits.stallTimeoutMs,
        timeoutMs: Math.max(1_000, Math.min(run.limits.attemptTimeoutMs, ctx.deadline - deps.now())),
        budgetUsdLeft: undefined,
        budgetTokensLeft: undefined,
        signal: ctx.abort,
      });
      const parsed = result.failure === undefined ? parsePlanJson(result.finalText ?? "") : undefined;
      const failure = result.failure ?? (parsed !== undefined && !parsed.ok ? { kind: "bad_output" as const, detail: `not a valid plan: ${parsed.errors.join("; ")}` } : undefined);
      await writer.write({
        type: "attempt.finished",
        ...ids,
        attemptId: id,
        data: failure === undefined ? { outcome: "succeeded", progress: 1 } : { outcome: "failed", progress: 0, failure },
      });
      return { text: result.finalText, failure: result.failure };
    },
  });
  if (!outcome.ok) {
    if (outcome.waiting) return { status: "waiting", reason: outcome.reason };
    await writer.write({ type: "task.finished", ...ids, data: { status: "failed", reason: outcome.reason } });
    return { status: "failed", reason: outcome.reason };
  }
  const graph = graphOf(outcome.plan);
  const reason = `planned ${graph.order.length} task(s) in ${outcome.tries} answer(s): ${graph.order.map((t) => t.id).join(", ")}`;
  const commit = await tipOf(task.worktree);
  // One write: a supervisor that dies here leaves either the plan and the planner's end, or neither (then the
  // next one plans again), never tasks made by a planner still running.
  const paths = runPaths(run);
  await writer.write(...taskEvents(paths, run.id, run.criteria, graph), { type: "task.finished", ...ids, data: { status: "succeeded", reason, commit } });
  // The readable copies of the plan's tasks; the run does not depend on them.
  await writeTaskFiles(paths, run.id, graph).catch((error: unknown) =>
    writer.write({ type: "run.noted", runId: run.id, data: { level: "warning", message: `the task files could not be written: ${error instanceof Error ? error.message : String(error)}` } }),
  );
  return undefined;
}
