// The seam through which the scheduler hands a task's work (its attempts, their verification and its commit) to
// whatever carries it out, and gets the task's conclusion back. Today that is this process: the convergence loop
// of converge.ts. A worker on another machine (team mode) is another implementation of the same port; the
// scheduler, the merge queue and the run's end do not change.
import type { TaskRecord } from "../store/store.js";
import { convergeTask, type Activity, type TaskConclusion, type TaskContext } from "./converge.js";
import type { EngineDeps } from "./deps.js";

/** What a task's run needs beyond the run-wide context: the task, and what the journal held of it, if anything. */
export type TaskWork = Pick<TaskContext, "task" | "state" | "commit" | "notes">;

/** What a task's loop is doing now, and which task it is: tasks of a planned run run side by side. */
export type TaskActivity = Activity & { taskId: string };

/** The run-wide part of a task's context, the same for every task of the run. */
export type RunContext = Omit<TaskContext, keyof TaskWork | "onActivity"> & { onActivity?: ((activity: TaskActivity) => void) | undefined };

export interface TaskRunner {
  /** Carries out the task's attempts until it concludes (or is stopped); never throws for the task's own failures. */
  run(work: TaskWork): Promise<TaskConclusion>;
}

/** Runs every task in this process, with the run's context. */
export function localTaskRunner(deps: EngineDeps, context: RunContext): TaskRunner {
  return {
    run: (work: TaskWork) => {
      const { onActivity, ...rest } = context;
      const taskId = work.task.id;
      return convergeTask(deps, {
        ...rest,
        ...work,
        task: { ...work.task, status: "running" } satisfies TaskRecord,
        // The loop hands over a fresh object each time (one per agent line): tagged in place, not copied.
        ...(onActivity !== undefined ? { onActivity: (activity: Activity) => onActivity(Object.assign(activity, { taskId })) } : {}),
      });
    },
  };
}
