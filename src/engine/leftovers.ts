// Processes orch started for a run that got away: found on this machine by the ids orch put in their environment
// (ORCH_RUN_ID with ORCH_ATTEMPT for agents, ORCH_VERIFY=1 for verify commands), judged against the journal. A
// supervised call stops what escaped its group when it ends (`process/supervise.ts`); what is still found here
// escaped that too (its run's supervisor died, or it could not be stopped), and `orch status`/`orch doctor` name it.
// Invariant: a process is named only when the journal says nothing should be running for it any more; one of a
// run this journal does not know, or whose supervisor runs on another host, is never judged.
import { hostname } from "node:os";
import { isTerminalRun } from "../core/run.js";
import { escapeControls } from "../core/terminal-text.js";
import { findMarked } from "../process/marked.js";
import type { EscapedProcess } from "../process/supervise.js";
import { listProcesses, type ProcStat } from "../process/tree.js";
import type { RunRecord, JournalReader } from "../store/store.js";
import { parseOwner, supervisorAlive } from "./lease.js";

/** At most this many processes are named in one journal note; the rest are counted. */
const NAMED = 5;

export interface LeftoverProcess {
  pid: number;
  /** Its command line, cut to 300 characters, controls escaped. */
  command: string;
  runId: string;
  taskId: string | null;
  /** The attempt whose agent started it; null for a verify command's. */
  attempt: number | null;
  verify: boolean;
  /** Why nothing should run for it now, in plain words. */
  why: string;
}

/** The journal's note for processes a supervised call stopped: "`who` left 2 processes running … pid 7 (sleep 300)". */
export function escapedNote(who: string, escaped: readonly EscapedProcess[]): string {
  const named = escaped.slice(0, NAMED).map((p) => `pid ${p.pid} (${escapeControls(p.command)})`);
  const more = escaped.length > NAMED ? ` and ${escaped.length - NAMED} more` : "";
  const count = escaped.length === 1 ? "1 process" : `${escaped.length} processes`;
  return `${who} left ${count} running outside its process group when it ended; orch stopped ${escaped.length === 1 ? "it" : "them"}: ${named.join(", ")}${more}`;
}

/** Processes of the journal's runs (or of `runId` alone) that should have ended and still run, in pid order. */
export async function findLeftovers(store: JournalReader, options: { runId?: string; now?: number } = {}): Promise<LeftoverProcess[]> {
  const marked = await findMarked((marks) => {
    const runId = marks.get("ORCH_RUN_ID");
    if (runId === undefined || (options.runId !== undefined && runId !== options.runId)) return false;
    return marks.has("ORCH_ATTEMPT") || marks.get("ORCH_VERIFY") === "1";
  });
  if (marked.length === 0) return [];
  const byPid = new Map((await listProcesses()).map((s) => [s.pid, s]));
  const runs = new Map<string, RunRecord | undefined>();
  const found: LeftoverProcess[] = [];
  for (const p of marked) {
    const runId = p.marks.get("ORCH_RUN_ID") ?? "";
    if (!runs.has(runId)) runs.set(runId, await store.getRun(runId));
    const run = runs.get(runId);
    if (run === undefined) continue;
    const taskId = p.marks.get("ORCH_TASK_ID") ?? null;
    const attemptMark = p.marks.get("ORCH_ATTEMPT");
    const attempt = attemptMark !== undefined && /^\d+$/.test(attemptMark) ? Number(attemptMark) : null;
    const verify = attemptMark === undefined;
    const why = await whyLeftover(store, run, { taskId, attempt, pid: p.pid }, byPid, options.now ?? Date.now());
    if (why === undefined) continue;
    found.push({ pid: p.pid, command: escapeControls(p.command), runId, taskId, attempt, verify, why });
  }
  return found.sort((a, b) => a.pid - b.pid);
}

/** Why nothing of `run` should run as `p` now; undefined when it may (or this host cannot tell). */
async function whyLeftover(
  store: JournalReader,
  run: RunRecord,
  p: { taskId: string | null; attempt: number | null; pid: number },
  byPid: ReadonlyMap<number, ProcStat>,
  now: number,
): Promise<string | undefined> {
  const alive = supervisorAlive(run, now);
  if (isTerminalRun(run.status)) return `its run has ended (${run.status})`;
  if (alive === null) return `its run is ${run.status}: nothing of it should run`;
  if (!alive) return "its run's supervisor is gone (`orch resume` stops it)";
  const supervisor = run.lease !== undefined ? parseOwner(run.lease.owner) : run.pid === undefined ? undefined : { host: run.host ?? "", pid: run.pid };
  if (supervisor === undefined || supervisor.host !== hostname()) return undefined;
  if (p.attempt !== null && p.taskId !== null) {
    const record = (await store.listAttempts({ runId: run.id, taskId: p.taskId })).find((a) => a.number === p.attempt);
    if (record !== undefined && record.status !== "running" && record.status !== "starting") return `its attempt has ended (${record.status})`;
  }
  // A live supervisor's children lead the groups it watches: a process is its own when it, or its group's leader,
  // descends from the supervisor. One that left both (setsid, its parent gone) got away while the run goes on.
  const group = byPid.get(p.pid)?.pgrp;
  if (descendsFrom(p.pid, supervisor.pid, byPid) || (group !== undefined && descendsFrom(group, supervisor.pid, byPid))) return undefined;
  return "it left the process tree of its run's supervisor";
}

function descendsFrom(pid: number, ancestor: number, byPid: ReadonlyMap<number, ProcStat>): boolean {
  const seen = new Set<number>();
  for (let at = byPid.get(pid); at !== undefined && !seen.has(at.pid); at = byPid.get(at.ppid)) {
    if (at.ppid === ancestor) return true;
    seen.add(at.pid);
  }
  return false;
}
