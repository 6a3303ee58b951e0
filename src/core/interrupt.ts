// Why a running attempt was stopped from outside, in plain words, from the reason its AbortSignal carries:
// "interrupt" (Ctrl-C, or a second termination signal), "pause" and "stop" (the drain after such a request ran
// out of grace), "deadline" (the run's time limit), "lease-lost" (another supervisor took the run over), "abort".

export type StopReason = "interrupt" | "pause" | "stop" | "deadline" | "lease-lost" | "abort";

export function interruptDetail(reason: unknown): string {
  switch (reason) {
    case "interrupt":
      return "interrupted (Ctrl-C or a second termination signal)";
    case "pause":
      return "stopped to pause the run (the grace period ran out)";
    case "stop":
      return "stopped to end the run (the grace period ran out)";
    case "deadline":
      return "stopped at the run's time limit";
    case "lease-lost":
      return "stopped: another supervisor took the run over";
    default:
      return "aborted on request (orch abort)";
  }
}

/** How the task ends when its signal aborted the loop; an interrupt or a pause keeps it resumable. */
export function abortedConclusion(reason: unknown): { status: "failed" | "paused" | "stopped" | "aborted"; reason: string } {
  switch (reason) {
    case "deadline":
      return { status: "failed", reason: "reached the run's time limit during an attempt" };
    case "interrupt":
    case "pause":
      return { status: "paused", reason: interruptDetail(reason) };
    case "stop":
      return { status: "stopped", reason: interruptDetail(reason) };
    default:
      return { status: "aborted", reason: interruptDetail(reason) };
  }
}
