// Reaches a live run from outside: `orch stop` and `orch abort` write a request into the journal, and the
// run's own process notices it here, so a detached run obeys the same commands. It reads the run's row when the
// journal says it changed (another process's write included), and on a slow timer underneath.
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
  /** A change came while the row was being read: read it once more after. */
  let again = false;
  let disposed = false;
  const check = (): void => {
    if (disposed) return;
    if (busy) {
      again = true;
      return;
    }
    busy = true;
    store
      .getRun(runId)
      .then((run) => {
        const requested = run?.stopRequested;
        if (requested !== undefined && requested !== mode && !disposed) {
          mode = requested;
          options.onRequest(requested);
        }
      })
      .catch((error: unknown) => options.logger.warn("could not read stop requests", { error: String(error) }))
      .finally(() => {
        busy = false;
        if (again) {
          again = false;
          check();
        }
      });
  };
  const stopWatching = store.onChange(check);
  const timer = setInterval(check, options.intervalMs ?? 500);
  timer.unref();
  return {
    current: () => mode,
    dispose: () => {
      disposed = true;
      clearInterval(timer);
      stopWatching();
    },
  };
}
