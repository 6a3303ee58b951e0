// What the engine needs from the outside world, passed explicitly: the journal, the process registry,
// a logger, the clock, the environment agents inherit and the redactor built from it. Tests hand in their own.
import { setTimeout as sleepFor } from "node:timers/promises";
import type { Redactor } from "../core/redact.js";
import type { ProcessGroups } from "../process/groups.js";
import type { Store } from "../store/store.js";
import type { Logger } from "./logger.js";

export interface EngineDeps {
  store: Store;
  groups: ProcessGroups;
  logger: Logger;
  /** The environment agents and verify commands inherit. */
  env: NodeJS.ProcessEnv;
  /**
   * Built from `env`: hides its secrets in what agents and verify commands print before anything is written or
   * sent on. `store` is expected to redact what is journaled with it (see redacting-store.ts).
   */
  redactor: Redactor;
  now(): number;
  random(): number;
  /** Resolves after `ms`, or early (without throwing) when `signal` aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export async function interruptibleSleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (ms <= 0 || signal?.aborted === true) return;
  try {
    await sleepFor(ms, undefined, signal === undefined ? undefined : { signal });
  } catch {
    // Aborted: the caller looks at the signal to learn why.
  }
}
