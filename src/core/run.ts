// The run's lifecycle as a discriminated union, changed only by `transitionRun`. Terminal states keep why
// they ended; a stop, pause or abort request is a flag on a live run until the run acts on it. A paused or
// waiting run, and a running one whose supervisor died, is resumed by a new supervisor (`run.resumed`).
import { assertNever } from "./assert.js";

export const TERMINAL_RUN_STATUSES = ["succeeded", "failed", "stalled", "stopped", "aborted"] as const;
export type TerminalRunStatus = (typeof TERMINAL_RUN_STATUSES)[number];
export type RunStatus = "pending" | "planning" | "running" | "paused" | "waiting" | TerminalRunStatus;
/** What a request asks of a live run: finish cleanly (stop), finish resumably (pause), or stop now (abort). */
export type StopMode = "stop" | "pause" | "abort";

export type RunState =
  | { status: "pending"; stopRequested?: StopMode }
  | { status: "running"; startedAt: number; stopRequested?: StopMode }
  | { status: "waiting"; startedAt: number; reason: string; stopRequested?: StopMode }
  /** Drained on request (`orch pause`, Ctrl-C); `orch resume` continues it. */
  | { status: "paused"; startedAt: number; reason: string }
  | { status: TerminalRunStatus; startedAt?: number; endedAt: number; reason: string };

export type RunEvent =
  | { type: "run.started"; at: number }
  | { type: "run.stop-requested"; at: number; mode: StopMode }
  | { type: "run.waiting"; at: number; reason: string }
  | { type: "run.paused"; at: number; reason: string }
  /** A supervisor takes the run over: after a pause, a wait for a human, or the death of the one before. */
  | { type: "run.resumed"; at: number }
  | { type: "run.finished"; at: number; status: TerminalRunStatus; reason: string }
  /**
   * New limits (`orch resume RUN --max-attempts N`): a run that ended failed or stopped on a limit is reopened as
   * paused, to be driven again; a live or paused run only takes the new limits.
   */
  | { type: "run.extended"; at: number; reason: string };

/** Ended runs that new limits can reopen: a run that succeeded, stalled or was aborted stays ended. */
export const REOPENABLE_RUN_STATUSES: readonly TerminalRunStatus[] = ["failed", "stopped"];

export class InvalidTransitionError extends Error {
  override readonly name = "InvalidTransitionError";
  constructor(
    readonly entity: string,
    readonly from: string,
    readonly event: string,
  ) {
    super(`${entity} cannot take ${event} while ${from}`);
  }
}

export function isTerminalRun(status: RunStatus): status is TerminalRunStatus {
  return (TERMINAL_RUN_STATUSES as readonly string[]).includes(status);
}

export function transitionRun(state: RunState, event: RunEvent): RunState {
  const refuse = (): never => {
    throw new InvalidTransitionError("run", state.status, event.type);
  };
  if (event.type === "run.extended") {
    if (!isTerminalRun(state.status)) return state;
    if (!(REOPENABLE_RUN_STATUSES as readonly string[]).includes(state.status) || !("startedAt" in state) || state.startedAt === undefined) return refuse();
    return { status: "paused", startedAt: state.startedAt, reason: event.reason };
  }
  if (isTerminalRun(state.status)) return refuse();
  switch (event.type) {
    case "run.started":
      if (state.status !== "pending" && state.status !== "waiting") return refuse();
      return withStop({ status: "running", startedAt: event.at }, state);
    case "run.stop-requested":
      // Abort overrides an earlier stop or pause, stop overrides pause; nothing downgrades an abort.
      if (state.status !== "pending" && state.status !== "running" && state.status !== "waiting") return refuse();
      return { ...state, stopRequested: strongerStop(state.stopRequested, event.mode) };
    case "run.waiting":
      if (state.status !== "running") return refuse();
      return withStop({ status: "waiting", startedAt: state.startedAt, reason: event.reason }, state);
    case "run.paused":
      if (state.status !== "running" && state.status !== "waiting") return refuse();
      return { status: "paused", startedAt: state.startedAt, reason: event.reason };
    case "run.resumed":
      // A request made before the takeover is dropped with the old supervisor, except an abort or a stop.
      if (state.status === "paused") return { status: "running", startedAt: state.startedAt };
      if (state.status !== "running" && state.status !== "waiting") return refuse();
      return withStop({ status: "running", startedAt: state.startedAt }, { ...state, stopRequested: dropPause(state.stopRequested) });
    case "run.finished": {
      const startedAt = state.status === "pending" ? undefined : state.startedAt;
      return startedAt === undefined
        ? { status: event.status, endedAt: event.at, reason: event.reason }
        : { status: event.status, startedAt, endedAt: event.at, reason: event.reason };
    }
    default:
      return assertNever(event, "run event");
  }
}

const STOP_STRENGTH: Record<StopMode, number> = { pause: 0, stop: 1, abort: 2 };

function strongerStop(current: StopMode | undefined, requested: StopMode): StopMode {
  return current !== undefined && STOP_STRENGTH[current] > STOP_STRENGTH[requested] ? current : requested;
}

function dropPause(mode: StopMode | undefined): StopMode | undefined {
  return mode === "pause" ? undefined : mode;
}

function withStop<S extends RunState>(next: S, previous: RunState): S {
  if ("stopRequested" in previous && previous.stopRequested !== undefined) {
    return { ...next, stopRequested: previous.stopRequested };
  }
  return next;
}

/**
 * Whether a run reads as a plan (its tasks and schedule) rather than as the loop of its one task: it was planned,
 * or holds more than one task besides a planner (integrators made along the way count).
 */
export function readsAsPlan(planned: boolean, tasks: readonly { role: string }[]): boolean {
  return planned || tasks.filter((t) => t.role !== "planner").length > 1;
}
