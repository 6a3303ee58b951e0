// Reaches a live run from outside: `orch stop` and `orch abort` write a request into the journal, and the
// run's own process notices it here by polling its row, so a detached run obeys the same commands.
import type { StopMode } from "../core/run.js";
import type { Store } from "../store/store.js";
import type { Logger } from "./logger.js";

export interface StopWatcher {
  current(): StopMode | undefined;
  dispose(): void;
}

export function watchStopRequests(
  store: Store,
  runId: string,
  options: { intervalMs?: number; logger: Logger; onRequest(mode: StopMode): void },
): StopWatcher {
  let mode: StopMode | undefined;
  let busy = false;
  const timer = setInterval(() => {
    if (busy) return;
    busy = true;
    store
      .getRun(runId)
      .then((run) => {
        const requested = run?.stopRequested;
        if (requested !== undefined && requested !== mode) {
          mode = requested;
          options.onRequest(requested);
        }
      })
      .catch((error: unknown) => options.logger.warn("could not read stop requests", { error: String(error) }))
      .finally(() => {
        busy = false;
      });
  }, options.intervalMs ?? 500);
  timer.unref();
  return {
    current: () => mode,
    dispose: () => clearInterval(timer),
  };
}
