// A task's lifecycle: pending until its first attempt, running while attempts go on, then one terminal
// state that says why. Only `transitionTask` changes it.
import { assertNever } from "./assert.js";
import { InvalidTransitionError } from "./run.js";

export const TERMINAL_TASK_STATUSES = ["succeeded", "failed", "stalled", "blocked", "stopped", "aborted"] as const;
export type TerminalTaskStatus = (typeof TERMINAL_TASK_STATUSES)[number];
export type TaskStatus = "pending" | "running" | TerminalTaskStatus;

export type TaskState =
  | { status: "pending" }
  | { status: "running"; startedAt: number }
  | { status: "succeeded"; startedAt: number; endedAt: number; commit: string; reason: string }
  | { status: Exclude<TerminalTaskStatus, "succeeded">; startedAt?: number; endedAt: number; reason: string };

export type TaskEvent =
  | { type: "task.started"; at: number }
  | { type: "task.finished"; at: number; status: TerminalTaskStatus; reason: string; commit?: string | undefined }
  /** A task that ended without success goes on (new limits): `running` if it had started, else `pending`. */
  | { type: "task.reopened"; at: number; to: "running" | "pending" };

export function isTerminalTask(status: TaskStatus): status is TerminalTaskStatus {
  return (TERMINAL_TASK_STATUSES as readonly string[]).includes(status);
}

export function transitionTask(state: TaskState, event: TaskEvent): TaskState {
  const refuse = (): never => {
    throw new InvalidTransitionError("task", state.status, event.type);
  };
  switch (event.type) {
    case "task.started":
      if (state.status !== "pending") return refuse();
      return { status: "running", startedAt: event.at };
    case "task.finished": {
      if (isTerminalTask(state.status)) return refuse();
      const startedAt = state.status === "running" ? state.startedAt : undefined;
      if (event.status === "succeeded") {
        if (startedAt === undefined || event.commit === undefined) return refuse();
        return { status: "succeeded", startedAt, endedAt: event.at, commit: event.commit, reason: event.reason };
      }
      return startedAt === undefined
        ? { status: event.status, endedAt: event.at, reason: event.reason }
        : { status: event.status, startedAt, endedAt: event.at, reason: event.reason };
    }
    case "task.reopened":
      if (state.status === "pending" || state.status === "running" || state.status === "succeeded") return refuse();
      if (event.to === "pending") return { status: "pending" };
      return state.startedAt === undefined ? refuse() : { status: "running", startedAt: state.startedAt };
    default:
      return assertNever(event, "task event");
  }
}
