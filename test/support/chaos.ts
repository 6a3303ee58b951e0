// The chaos tests' schedule of kills: a detached run's supervisor SIGKILLed at seeded random moments and resumed
// each time with `orch resume`, so that a failing schedule can be replayed from its seed.
import { setTimeout as sleep } from "node:timers/promises";
import { expect } from "vitest";
import { z } from "zod";
import { isRunning, waitFor } from "./cli.js";
import type { OrchSandbox } from "./e2e.js";

export const TERMINAL = new Set(["succeeded", "failed", "stalled", "stopped", "aborted"]);

/** mulberry32: a small seeded generator. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const Status = z.object({ status: z.string(), reason: z.string().nullable().optional(), pid: z.number().nullable(), processAlive: z.boolean().nullable() });
export type ChaosStatus = z.infer<typeof Status>;

/** The run's status as `orch status --json` gives it. */
export async function runStatus(box: OrchSandbox, runId: string): Promise<ChaosStatus> {
  const result = await box.orch(["status", runId, "--json"]);
  expect(result.code, result.stderr).toBe(0);
  return Status.parse(JSON.parse(result.stdout));
}

/**
 * Until `kills` kills were made or the run has ended: waits a random `pauseMs` range, SIGKILLs the supervisor,
 * waits until it is gone and resumes the run. Returns the kills made.
 */
export async function killAndResume(box: OrchSandbox, runId: string, options: { kills: number; random: () => number; pauseMs: readonly [number, number] }): Promise<number> {
  const [least, most] = options.pauseMs;
  let kills = 0;
  while (kills < options.kills) {
    await sleep(least + Math.floor(options.random() * (most - least)));
    const view = await runStatus(box, runId);
    if (TERMINAL.has(view.status)) break;
    expect(view.processAlive, `the supervisor before kill ${kills + 1}`).toBe(true);
    const pid = view.pid ?? 0;
    process.kill(pid, "SIGKILL");
    await waitFor(`the killed supervisor (pid ${pid}) to be gone`, () => (isRunning(pid) ? undefined : true), 5_000);
    // The kill can land after the supervisor journaled the run's end (it still writes the report and cleans up
    // before it exits): then there is nothing to resume, and it was no kill in the middle of the run.
    if (TERMINAL.has((await runStatus(box, runId)).status)) break;
    kills += 1;
    const resumed = await box.orch(["resume", runId]);
    expect(resumed.code, `resume after kill ${kills}: ${resumed.stderr}`).toBe(0);
  }
  return kills;
}

/** The run's status once it has ended. */
export function runEnd(box: OrchSandbox, runId: string, timeoutMs: number): Promise<ChaosStatus> {
  return waitFor(`run ${runId} to end`, async () => {
    const view = await runStatus(box, runId);
    return TERMINAL.has(view.status) ? view : undefined;
  }, timeoutMs);
}
