// Reconciling the journal with the machine when a supervisor takes over a run whose last one died: every
// attempt the journal left open is closed, from what can still be known. An agent still running is stopped
// (its stdout was a pipe to the dead supervisor, so it cannot be re-attached) and its raw transcript, which the
// agent wrote past the journal's last batch, tells how far it got: a turn it finished goes on to verification;
// anything else is a failure the recovery policy handles, resuming the agent's session where it did work.
import { readFile } from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";
import type { AgentAdapter } from "../agents/agent.js";
import type { AgentEvent, TokenUsage } from "../core/agent-event.js";
import type { Failure } from "../core/failure.js";
import type { NewEvent } from "../core/journal.js";
import { removeStaleIndexLock } from "../git/worktree.js";
import { groupIsAlive, signalGroup } from "../process/groups.js";
import { readTranscript } from "../process/rotating-log.js";
import { listProcesses } from "../process/tree.js";
import type { AttemptRecord, RunRecord, TaskRecord } from "../store/store.js";
import type { EngineDeps } from "./deps.js";

/** How long a stopped orphan gets between SIGTERM and SIGKILL. */
const ORPHAN_GRACE_MS = 3_000;

export interface ReconcileInput {
  run: RunRecord;
  tasks: readonly TaskRecord[];
  adapterFor(agent: string): AgentAdapter | undefined;
  /** Journals what was found, under the new supervisor's lease fence (refused once another took the run over). */
  write(...events: NewEvent[]): Promise<unknown>;
}

/** Closes every open attempt of the run; returns one plain line per thing it did, for the journal. */
export async function reconcileRun(deps: EngineDeps, input: ReconcileInput): Promise<string[]> {
  const { store } = deps;
  const done: string[] = [];
  // Every agent of this run still alive is an orphan now: found by the ids orch put in its environment, so that
  // one spawned just before the crash, whose pid never reached the journal, is found too.
  const stopped = await stopOrphans(input.run.id);
  if (stopped.length > 0) done.push(`stopped ${stopped.length} agent process group(s) left running by the dead supervisor (pids ${stopped.join(", ")})`);
  for (const task of input.tasks) {
    // A worktree made ahead for a task not started yet may hold one too (a kill during its checkout or reset).
    if ((task.status === "running" || task.status === "pending") && (await removeStaleIndexLock(task.worktree))) {
      done.push(`task ${task.id}: removed a stale git index.lock left by the crash`);
    }
    if (task.status !== "running") continue;
    for (const attempt of await store.listAttempts({ runId: input.run.id, taskId: task.id })) {
      if (attempt.status === "starting") {
        await closeAttempt(input.write, attempt, deps.now(), { kind: "crashed", detail: "orch stopped before the agent started" });
        done.push(`attempt ${attempt.id}: orch had stopped before the agent started; counted as crashed`);
      } else if (attempt.status === "running") {
        done.push(...(await reconcileRunning(deps, input, attempt)));
      } else if (attempt.status === "verifying") {
        done.push(`attempt ${attempt.id}: the agent had finished; ${attempt.criteria === undefined ? "verifying it again" : "its verification is in the journal, so it is finished from there"}`);
      }
    }
  }
  return done;
}

async function reconcileRunning(deps: EngineDeps, input: ReconcileInput, attempt: AttemptRecord): Promise<string[]> {
  const done: string[] = [];
  const adapter = input.adapterFor(attempt.agent);
  const seen = adapter === undefined ? undefined : await transcriptOf(adapter, attempt);
  const at = deps.now();
  const base = {
    exitCode: null,
    signal: null,
    reason: "orphaned" as const,
    durationMs: Math.max(0, at - attempt.startedAt),
    ...(seen?.sessionId !== undefined ? { sessionId: seen.sessionId } : {}),
    ...(seen?.model !== undefined ? { model: seen.model } : {}),
    ...(seen?.usage !== undefined ? { usage: seen.usage } : {}),
    ...(seen?.costUsd !== undefined ? { costUsd: seen.costUsd } : {}),
  };
  const ids = { runId: attempt.runId, taskId: attempt.taskId, attemptId: attempt.id };
  if (seen?.result?.ok === true) {
    await input.write({ type: "attempt.exited", ...ids, at, data: base });
    done.push(`attempt ${attempt.id}: the agent had finished its turn (its transcript says so); verifying it`);
    return done;
  }
  const failure: Failure =
    (seen?.result !== undefined && adapter !== undefined
      ? adapter.classify({ exitCode: null, signal: null, stderrTail: "", result: seen.result, retries: [], endedAt: at })
      : undefined) ?? { kind: "crashed", detail: "the supervisor died while the agent worked; the attempt was cut short" };
  await input.write(
    { type: "attempt.exited", ...ids, at, data: { ...base, failure } },
    { type: "attempt.finished", ...ids, at, data: { outcome: "failed", progress: 0, failure } },
  );
  done.push(`attempt ${attempt.id}: ended as ${failure.kind} (${failure.detail})`);
  return done;
}

async function closeAttempt(write: ReconcileInput["write"], attempt: AttemptRecord, at: number, failure: Failure): Promise<void> {
  const ids = { runId: attempt.runId, taskId: attempt.taskId, attemptId: attempt.id };
  await write(
    { type: "attempt.exited", ...ids, at, data: { exitCode: null, signal: null, reason: "orphaned", durationMs: Math.max(0, at - attempt.startedAt), failure } },
    { type: "attempt.finished", ...ids, at, data: { outcome: "failed", progress: 0, failure } },
  );
}

/**
 * Stops (SIGTERM, then SIGKILL after a grace) the process groups of every agent and every verify command of the
 * run; their leaders' pids. A verify left running would go on in a worktree the new supervisor works in.
 */
async function stopOrphans(runId: string): Promise<number[]> {
  const own = new Set([process.pid]);
  const groups = new Set<number>();
  for (const proc of await listProcesses()) {
    if (own.has(proc.pid) || proc.state === "Z") continue;
    const env = await readEnviron(proc.pid);
    if (env.includes(`\0ORCH_RUN_ID=${runId}\0`) && (env.includes("\0ORCH_ATTEMPT=") || env.includes("\0ORCH_VERIFY=1\0"))) groups.add(proc.pgrp);
  }
  groups.delete(process.pid);
  groups.delete(0);
  const stopped = [...groups].filter((pgid) => signalGroup(pgid, "SIGTERM"));
  const deadline = Date.now() + ORPHAN_GRACE_MS;
  for (const pgid of stopped) {
    while (Date.now() < deadline && (await groupIsAlive(pgid))) await sleep(25);
    if (await groupIsAlive(pgid)) signalGroup(pgid, "SIGKILL");
  }
  return stopped;
}

/** /proc/<pid>/environ with a NUL before and after, so that `\0NAME=` finds a whole variable; "" if unreadable. */
async function readEnviron(pid: number): Promise<string> {
  try {
    return `\0${await readFile(`/proc/${pid}/environ`, "latin1")}\0`;
  } catch {
    return "";
  }
}

interface Seen {
  sessionId: string | undefined;
  model: string | undefined;
  usage: TokenUsage | undefined;
  costUsd: number | undefined;
  result: Extract<AgentEvent, { type: "result" }> | undefined;
}

/** What the attempt's raw transcript (all its rotated parts) says, read with the agent's own parser. */
async function transcriptOf(adapter: AgentAdapter, attempt: AttemptRecord): Promise<Seen> {
  const seen: Seen = { sessionId: attempt.sessionId, model: attempt.model, usage: undefined, costUsd: undefined, result: undefined };
  const parser = adapter.createParser();
  for await (const line of readTranscript(attempt.transcript)) {
    if (line.trim() === "") continue;
    for (const event of parser.parseLine(line)) {
      if (event.type === "session.started") {
        seen.sessionId = event.sessionId;
        seen.model = event.model ?? seen.model;
      } else if (event.type === "usage") {
        seen.usage = event.usage;
        seen.costUsd = event.costUsd ?? seen.costUsd;
      } else if (event.type === "result") {
        seen.result = event;
        seen.sessionId = event.sessionId ?? seen.sessionId;
        seen.usage = event.usage ?? seen.usage;
        seen.costUsd = event.costUsd ?? seen.costUsd;
      }
    }
  }
  return seen;
}

