// Why a running attempt was stopped from outside, in plain words, from the reason its AbortSignal carries
// ("interrupt" for Ctrl-C or SIGTERM, "deadline" for the run's time limit, "abort" for `orch abort`).

export function interruptDetail(reason: unknown): string {
  if (reason === "interrupt") return "interrupted (Ctrl-C or a termination signal)";
  if (reason === "deadline") return "stopped at the run's time limit";
  return "aborted on request (orch abort)";
}
