// Reaches a live run from outside: `orch stop` and `orch abort` write a request into the journal, and the
// run's own process notices it here, so a detached run obeys the same commands. It reads the run's row when the
// journal says it changed (another process's write included), and on a slow timer underneath.
import type { StopMode } from "../core/run.js";
import type { Store } from "../store/store.js";
import type { Logger } from "./logger.js";

/** After a change notice, how long the watcher lets the journal settle before it reads the run's request. */
const CHANGE_SETTLE_MS = 20;

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
      .stopRequestOf(runId)
      .then((requested) => {
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
  // The journal changes at every batch the run writes itself; one read per quiet spell of 20 ms is enough.
  let pending: NodeJS.Timeout | undefined;
  const soon = (): void => {
    pending ??= setTimeout(() => {
      pending = undefined;
      check();
    }, CHANGE_SETTLE_MS);
  };
  const stopWatching = store.onChange(soon);
  const timer = setInterval(check, options.intervalMs ?? 500);
  timer.unref();
  return {
    current: () => mode,
    dispose: () => {
      disposed = true;
      clearInterval(timer);
      clearTimeout(pending);
      stopWatching();
    },
  };
}
