// New limits for a run that stopped or failed on one (`orch resume RUN --max-attempts N [--max-hours H]`): which
// tasks go on and how, or why the run cannot be continued. Pure: the engine journals what it returns as
// `run.extended` + `task.reopened` × k in one write, and refuses (writing nothing) when it returns a refusal.
import { formatDuration } from "./duration.js";
import type { RunStatus } from "./run.js";
import { REOPENABLE_RUN_STATUSES } from "./run.js";
import type { TaskRole } from "./journal.js";
import type { TaskStatus } from "./task.js";

export interface ExtendLimits {
  readonly maxAttempts: number;
  readonly maxMs: number;
}

export interface ExtendRunView {
  readonly id: string;
  readonly status: RunStatus;
  readonly reason: string | undefined;
  readonly limits: ExtendLimits;
  /** How long the run has been driven so far: the time limit counts it. */
  readonly drivenMs: number;
}

export interface ExtendTaskView {
  readonly id: string;
  readonly status: TaskStatus;
  readonly reason: string | undefined;
  readonly attempts: number;
  readonly startedAt: number | undefined;
  readonly role: TaskRole;
}

export interface Reopening {
  readonly taskId: string;
  readonly to: "running" | "pending";
  /** How the task had ended. */
  readonly reason: string;
}

export type Extension = { readonly ok: true; readonly limits: ExtendLimits; readonly reopen: readonly Reopening[] } | { readonly ok: false; readonly why: string };

const ATTEMPT_LIMIT = /^reached the limit of \d+ attempts/;
const TIME_LIMIT = /^reached the time limit of /;
const BLOCKED_BY = /^depends on task (\S+), which did not succeed$/;

/** What new limits do to a run: the tasks to reopen, or why they cannot be given (in plain words). */
export function planExtension(run: ExtendRunView, tasks: readonly ExtendTaskView[], asked: Partial<ExtendLimits>): Extension {
  const limits: ExtendLimits = { maxAttempts: asked.maxAttempts ?? run.limits.maxAttempts, maxMs: asked.maxMs ?? run.limits.maxMs };
  const refuse = (why: string): Extension => ({ ok: false, why });
  if (run.status === "succeeded") return refuse(`run ${run.id} succeeded; there is nothing to continue`);
  const ended = run.status !== "pending" && run.status !== "planning" && run.status !== "running" && run.status !== "paused" && run.status !== "waiting";
  if (ended && !REOPENABLE_RUN_STATUSES.includes(run.status)) {
    return refuse(`run ${run.id} ended ${run.status} (${run.reason ?? "no reason given"}); more attempts or time cannot mend that, only a run that failed or was stopped can go on`);
  }
  if (asked.maxMs !== undefined && limits.maxMs <= run.drivenMs) {
    return refuse(`--max-hours ${formatDuration(limits.maxMs)} is not above the ${formatDuration(run.drivenMs)} run ${run.id} has been driven already`);
  }

  const reopen: Reopening[] = [];
  const waiting: ExtendTaskView[] = [];
  for (const task of tasks) {
    const reason = task.reason ?? "";
    const attemptsLeft = (): string | undefined =>
      limits.maxAttempts > task.attempts
        ? undefined
        : asked.maxAttempts === undefined
          ? `task ${task.id} used all its ${task.attempts} attempts; give --max-attempts above ${task.attempts}`
          : `--max-attempts ${limits.maxAttempts} is not above the ${task.attempts} attempts task ${task.id} has used`;
    // An integrator ends with its merge; a whole-run review is made again for the tip the run reaches.
    if (task.status === "succeeded" || task.role === "integrator" || task.role === "reviewer") continue;
    if (task.status === "pending" || task.status === "running") {
      // A live task of a paused run: it goes on under the new limits, which must leave it an attempt.
      const short = task.status === "running" && asked.maxAttempts !== undefined ? attemptsLeft() : undefined;
      if (short !== undefined) return refuse(short);
      continue;
    }
    if (task.role === "planner") return refuse(`the planner of run ${run.id} ended ${task.status} (${reason}); start a new run to plan again`);
    if (task.status === "failed" && ATTEMPT_LIMIT.test(reason)) {
      const short = attemptsLeft();
      if (short !== undefined) return refuse(short);
      reopen.push({ taskId: task.id, to: "running", reason });
    } else if (task.status === "failed" && TIME_LIMIT.test(reason)) {
      if (asked.maxMs === undefined) return refuse(`task ${task.id} ended on the time limit (${reason}); give --max-hours above ${formatDuration(run.drivenMs)}`);
      const short = attemptsLeft();
      if (short !== undefined) return refuse(short);
      reopen.push({ taskId: task.id, to: "running", reason });
    } else if (task.status === "stopped" && reason.startsWith("its work is committed on ")) {
      return refuse(`task ${task.id} had finished its work and waited to be merged when the run ended; continuing a run with such a task is not supported yet`);
    } else if (task.status === "stopped") {
      const started = task.startedAt !== undefined && task.attempts > 0;
      const short = started ? attemptsLeft() : undefined;
      if (short !== undefined) return refuse(short);
      reopen.push({ taskId: task.id, to: started ? "running" : "pending", reason });
    } else if (task.status === "blocked" && BLOCKED_BY.test(reason)) {
      waiting.push(task);
    } else {
      return refuse(`task ${task.id} ended ${task.status} (${reason}); more attempts or time cannot mend that`);
    }
  }
  // A task blocked only by a task that goes on waits for it again; a chain of them is followed to its end.
  for (let grew = true; grew; ) {
    grew = false;
    for (const task of waiting) {
      const cause = BLOCKED_BY.exec(task.reason ?? "")?.[1];
      if (reopen.some((r) => r.taskId === task.id) || !reopen.some((r) => r.taskId === cause)) continue;
      reopen.push({ taskId: task.id, to: "pending", reason: task.reason ?? "" });
      grew = true;
    }
  }
  const stuck = waiting.find((task) => !reopen.some((r) => r.taskId === task.id));
  if (stuck !== undefined) return refuse(`task ${stuck.id} ended blocked (${stuck.reason ?? ""}), and that task cannot go on`);
  if (ended && reopen.length === 0) return refuse(`run ${run.id} has no task that ended on a limit; there is nothing to continue`);
  return { ok: true, limits, reopen };
}
