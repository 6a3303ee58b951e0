// Resuming a run in the background, shared by `orch resume` (for a detached run) and the server's API: a new
// detached supervisor (`orch __drive RUN --resume`) and a bounded wait until it has taken the run over.
// Invariant: a run a live supervisor drives is never given a second one (the lease decides between racers).
import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, mkdirSync, openSync, readFileSync } from "node:fs";
import { dirname } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { UsageError } from "../core/errors.js";
import { isTerminalRun, REOPENABLE_RUN_STATUSES } from "../core/run.js";
import { assertNotEnded } from "../engine/drive-run.js";
import { describeHolder, parseOwner, supervisorAlive } from "../engine/lease.js";
import { driverLogPath, orchPaths } from "../engine/paths.js";
import type { RunRecord, Store } from "../store/store.js";

/** What starting a supervisor needs: the file that starts orch, and the environment the run's agents get. */
export interface SupervisorLaunch {
  entry: string;
  env: NodeJS.ProcessEnv;
}

/** How long a resume waits for a detached supervisor to take the run. */
export const TAKEOVER_WAIT_MS = 15_000;

/**
 * Starts `orch __drive RUN` as a detached supervisor: its own session, so it outlives the terminal and the
 * user's logout (or the server that started it); its output goes to the run's `orch.log`.
 */
export function spawnSupervisor(launch: SupervisorLaunch, root: string, runId: string, resume: boolean): { child: ChildProcess; log: string } {
  const log = driverLogPath(orchPaths(root), runId);
  mkdirSync(dirname(log), { recursive: true });
  const fd = openSync(log, "a");
  try {
    const child = spawn(process.execPath, [launch.entry, "__drive", runId, ...(resume ? ["--resume"] : [])], {
      cwd: root,
      env: launch.env,
      detached: true,
      stdio: ["ignore", fd, fd],
    });
    child.unref();
    return { child, log };
  } finally {
    closeSync(fd);
  }
}

/** A UsageError when `run` cannot be resumed as it is: it ended, or a live supervisor drives it. */
export function assertResumable(run: RunRecord, now = Date.now()): void {
  if (isTerminalRun(run.status) && REOPENABLE_RUN_STATUSES.includes(run.status)) {
    throw new UsageError(`run ${run.id} has already ended (${run.status}: ${run.reason ?? "no reason given"})`, {
      hint: `\`orch resume ${run.id} --max-attempts N\` (or --max-hours H) continues it with new limits, if it ended on one`,
    });
  }
  assertNotEnded(run);
  if (supervisorAlive(run, now) === true) {
    throw new UsageError(describeHolder(run.id, run.lease, now), { hint: `\`orch status ${run.id}\` shows what it is doing` });
  }
}

export type BackgroundResume =
  | { resumed: true; pid: number | undefined; status: RunRecord["status"] }
  /** `usage`: the new supervisor refused the run (another resume won it, say); `why` is its last word. */
  | { resumed: false; why: string; usage: boolean; log: string };

/** Starts a detached supervisor for `run` and waits (at most TAKEOVER_WAIT_MS) until it holds the run or has ended it. */
export async function resumeInBackground(store: Store, run: RunRecord, root: string, launch: SupervisorLaunch): Promise<BackgroundResume> {
  const { child, log } = spawnSupervisor(launch, root, run.id, true);
  const deadline = Date.now() + TAKEOVER_WAIT_MS;
  for (;;) {
    const current = await store.getRun(run.id);
    const holder = current?.lease === undefined ? undefined : parseOwner(current.lease.owner);
    // Taken over: the new supervisor holds the lease and has journaled the resume (or already finished).
    const takenOver = holder?.pid === child.pid && current?.status === "running";
    if (current !== undefined && (takenOver || isTerminalRun(current.status))) return { resumed: true, pid: child.pid, status: current.status };
    if (child.exitCode !== null || Date.now() > deadline) {
      // The new supervisor said why in its log (another resume won the run, say): its last line.
      const said = lastLine(log);
      const why = child.exitCode === null ? "it did not take the run over in time" : said.replace(/^run \S+ was not driven: /, "");
      // 2 is the CLI's usage exit code: the supervisor refused the run as asked.
      return { resumed: false, why, usage: child.exitCode === 2, log };
    }
    await sleep(50);
  }
}

function lastLine(file: string): string {
  try {
    return readFileSync(file, "utf8").trimEnd().split("\n").pop() ?? "";
  } catch {
    return "";
  }
}
