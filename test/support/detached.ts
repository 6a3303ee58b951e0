// What the tests of detached, paused and resumed runs share: a repository whose one test fails until sum.mjs
// adds, `orch run --detach` that hands back the run id, and waits on the fixture agents and on the run.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { expect } from "vitest";
import { isRunning, waitFor, type CliResult } from "./cli.js";
import type { OrchSandbox, StatusView } from "./e2e.js";

export const GOAL = "make the failing test pass";
export const VERIFY = "node test.mjs";
export const FILES = {
  "sum.mjs": "export function sum(a, b) {\n  return a - b;\n}\n",
  "test.mjs": 'import { sum } from "./sum.mjs";\nconst got = sum(2, 3);\nif (got !== 5) {\n  console.log(`not ok - sum(2, 3) returned ${got}`);\n  process.exit(1);\n}\n',
};
const TERMINAL = new Set(["succeeded", "failed", "stalled", "stopped", "aborted"]);

/** `orch run GOAL --verify VERIFY ...args --detach`, which must exit 0: the run id it printed, and its result. */
export async function detach(box: OrchSandbox, args: readonly string[]): Promise<{ runId: string; result: CliResult }> {
  const result = await box.orch(["run", GOAL, "--verify", VERIFY, ...args, "--detach"]);
  expect(result.code, result.stderr).toBe(0);
  const runId = /^Run (\S+) is running in the background \(pid \d+\)\.$/m.exec(result.stdout)?.[1];
  if (runId === undefined) throw new Error(`no run id in:\n${result.stdout}`);
  return { runId, result };
}

/** The pid a fixture agent wrote for `attempt` once it started. */
export function agentPid(box: OrchSandbox, attempt: number): Promise<number> {
  const file = join(box.out, `pid.${attempt}`);
  return waitFor(`the agent of attempt ${attempt} to start`, () => {
    const text = existsSync(file) ? readFileSync(file, "utf8").trim() : "";
    return text === "" ? undefined : Number(text);
  });
}

/** `orch status RUN --json` once the run has ended. */
export function untilEnded(box: OrchSandbox, runId: string, timeoutMs = 20_000): Promise<StatusView> {
  return waitFor(`run ${runId} to end`, async () => {
    const view = await box.status(runId);
    return TERMINAL.has(view.status) ? view : undefined;
  }, timeoutMs);
}

export const untilGone = (what: string, pid: number): Promise<true> =>
  waitFor(`${what} (pid ${pid}) to exit`, () => (isRunning(pid) ? undefined : true), 10_000);
