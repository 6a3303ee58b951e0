// One execution of an agent for a task: started, running once the process exists, verifying after a
// clean exit, then succeeded or failed with a failure from the closed union. Only `transitionAttempt`
// changes it, so an attempt can never be "succeeded" without having been verified.
import { assertNever } from "./assert.js";
import type { Failure } from "./failure.js";
import { InvalidTransitionError } from "./run.js";

export type AttemptStatus = "starting" | "running" | "verifying" | "succeeded" | "failed";

export type AttemptState =
  | { status: "starting"; startedAt: number }
  | { status: "running"; startedAt: number; pid: number }
  | { status: "verifying"; startedAt: number; exitedAt: number }
  | { status: "succeeded"; startedAt: number; endedAt: number; progress: number }
  | { status: "failed"; startedAt: number; endedAt: number; progress: number; failure: Failure };

export type AttemptEvent =
  | { type: "attempt.spawned"; at: number; pid: number }
  | { type: "attempt.exited"; at: number; failure?: Failure | undefined }
  | { type: "verify.completed"; at: number }
  | { type: "attempt.finished"; at: number; outcome: "succeeded" | "failed"; progress: number; failure?: Failure | undefined };

export function transitionAttempt(state: AttemptState, event: AttemptEvent): AttemptState {
  const refuse = (): never => {
    throw new InvalidTransitionError("attempt", state.status, event.type);
  };
  switch (event.type) {
    case "attempt.spawned":
      if (state.status !== "starting") return refuse();
      return { status: "running", startedAt: state.startedAt, pid: event.pid };
    case "attempt.exited":
      // A process that never spawned exits straight from "starting".
      if (state.status !== "running" && state.status !== "starting") return refuse();
      if (event.failure !== undefined) {
        return { status: "failed", startedAt: state.startedAt, endedAt: event.at, progress: 0, failure: event.failure };
      }
      return { status: "verifying", startedAt: state.startedAt, exitedAt: event.at };
    case "verify.completed":
      if (state.status !== "verifying") return refuse();
      return state;
    case "attempt.finished":
      if (event.outcome === "succeeded") {
        if (state.status !== "verifying") return refuse();
        return { status: "succeeded", startedAt: state.startedAt, endedAt: event.at, progress: event.progress };
      }
      if (state.status === "succeeded") return refuse();
      if (state.status === "failed") {
        // The exit already failed it; finishing only records the progress figure.
        return { ...state, progress: event.progress };
      }
      if (event.failure === undefined) return refuse();
      return { status: "failed", startedAt: state.startedAt, endedAt: event.at, progress: event.progress, failure: event.failure };
    default:
      return assertNever(event, "attempt event");
  }
}
