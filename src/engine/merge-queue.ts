// The merge queue's steps for a planned run: one task's branch merged into the run branch (checked with
// `git merge-tree` first, verified on the run branch after, reverted if that breaks the run's criteria), the
// integrator task a conflict turns into, its end, and the cleanup of a merge a dead supervisor left. The
// scheduler calls them one at a time, so the run branch's worktree only ever holds one merge.
import { existsSync } from "node:fs";
import type { NewEvent } from "../core/journal.js";
import { GRAPH_EVENT_TYPES, phaseOf, replay as replayGraph } from "../core/run-graph.js";
import type { StopMode } from "../core/run.js";
import { verifyTimeoutMs } from "../core/progress.js";
import type { TerminalTaskStatus } from "../core/task.js";
import { isTerminalTask } from "../core/task.js";
import { shellQuote } from "../core/text.js";
import { discardChanges, removeStaleIndexLock, resetWorktree } from "../git/worktree.js";
import { abortMerge, revertMerge, startConflictedMerge, tipOf } from "../git/merge.js";
import { commitCleanMerge, mergeLeftAt, type LeftMerge } from "../git/clean-merge.js";
import { mergeTree } from "../git/merge-check.js";
import type { RunRecord, Store, TaskRecord } from "../store/store.js";
import type { TaskConclusion } from "./converge.js";
import type { EngineDeps } from "./deps.js";
import type { JournalWriter } from "./event-writer.js";
import { verify } from "./verify.js";

/** What the merge queue needs of the run it integrates into. */
export interface MergeContext {
  run: RunRecord;
  /** The run branch's own worktree, where merges happen. */
  integration: string;
  writer: JournalWriter;
  deadline: number;
  abort: AbortSignal;
  /** `-c user.name=… -c user.email=…` where the user's git config has none (see git/commit.ts). */
  identity: readonly string[];
}

export type Integration =
  | { kind: "integrated"; merge: string }
  | { kind: "reverted"; merge: string; revert: string; reason: string }
  | { kind: "conflict"; paths: string[] }
  /** The run was interrupted while the merge was verified: it was taken back, to be made again when the run goes on. */
  | { kind: "interrupted" }
  | { kind: "failed"; reason: string };

export { tipOf };

export interface IntegrateOptions {
  /** The task's success came from the journal: a supervisor that died after merging it may have left it merged. */
  mayBeMerged: boolean;
  /** The merge commit is made and about to be verified (what waits on it can get ready meanwhile). */
  onMerge?: (merge: string) => void;
}

/**
 * One merge of a task's work into the run branch: checked with `git merge-tree` first (no worktree touched);
 * a clean one is committed from the very tree merge-tree made (two parents: the run branch and the task) and
 * brought into the run branch's worktree, where the run's criteria are verified; a merge that breaks them is
 * reverted at once, so the run branch only ever holds verified work, and one whose verify was cut short (Ctrl-C,
 * abort, the time limit) is taken back. `tip` is the run branch's commit, `commit` the task's; one launch and
 * the verify, since the queue is serial and every task's wait on it adds up.
 */
export async function integrate(deps: EngineDeps, ctx: MergeContext, task: TaskRecord, tip: string, commit: string, options: IntegrateOptions): Promise<Integration> {
  const { run } = ctx;
  try {
    // A supervisor that died in the merge queue may have left this task's merge made but never verified, or made
    // and reverted: the first is verified now like any other, the second is the revert it was. Anything else is
    // merged now, even a commit already on the branch some other way (a task that changed nothing has its base as
    // its commit): it gets a merge of its own, verified like the rest.
    const left: LeftMerge = options.mayBeMerged ? await mergeLeftAt(ctx.integration, tip, commit) : { kind: "absent" };
    if (left.kind === "reverted") return { kind: "reverted", merge: left.merge, revert: left.revert, reason: revertReason(left.message) };
    let merge: string;
    let onto = tip;
    if (left.kind === "merged") {
      ({ merge, onto } = left);
    } else {
      const message = `orch: integrate task ${task.id} into the run\n\nRun ${run.id}, task ${task.id}: ${firstLine(task.title)}\n`;
      const made = await commitCleanMerge({ worktree: ctx.integration, tip, commit, message, identity: ctx.identity });
      if (!made.clean) {
        const check = await mergeTree(run.repoRoot, tip, commit, run.branch, task.branch);
        return { kind: "conflict", paths: check.clean ? [] : check.conflicts.map((c) => c.path) };
      }
      merge = made.merge;
      // The merge is the very tree the task's criteria (the run's, and the task's own) passed on: not verified again.
      if (made.sameTree && !run.settings.verifyEveryMerge) {
        options.onMerge?.(merge);
        return { kind: "integrated", merge };
      }
    }
    options.onMerge?.(merge);
    const outcome = await verify({
      criteria: run.criteria,
      cwd: ctx.integration,
      env: deps.env,
      redactor: deps.redactor,
      owner: { runId: run.id, taskId: task.id },
      timeoutMs: verifyTimeoutMs(run.limits, ctx.deadline - deps.now()),
      signal: ctx.abort,
      groups: deps.groups,
      note: (message) => ctx.writer.push({ type: "run.noted", runId: run.id, taskId: task.id, data: { message: `merging task ${task.id}: ${message}`, level: "warning" } }),
    });
    if (outcome.allPassed) return { kind: "integrated", merge };
    if (ctx.abort.aborted) {
      // Cut short, not failed: the merge is taken back unverified (the task's work stays on its branch). Not when
      // another supervisor has taken the run over: the run branch is its to touch now, and it settles the merge.
      if (ctx.abort.reason !== "lease-lost") await resetWorktree(ctx.integration, onto);
      return { kind: "interrupted" };
    }
    const failing = outcome.results.filter((r) => !r.passed);
    const reason = failing.map((r) => `\`${r.command}\` exited ${r.exitCode ?? "?"}: ${lastLines(r.outputTail, 12)}`).join("; ");
    // The reason goes into the revert's message too: the history says why, and a supervisor taking over reads it there.
    const revert = await revertMerge({ worktree: ctx.integration, commit: merge, message: `orch: revert the integration of task ${task.id}\n\n${REVERTED_BECAUSE} ${reason}\n` });
    return { kind: "reverted", merge, revert, reason };
  } catch (error) {
    return { kind: "failed", reason: `could not integrate it into ${run.branch}: ${error instanceof Error ? error.message : String(error)}` };
  }
}

const REVERTED_BECAUSE = "The run's criteria failed on the run branch after the merge:";

/** Why a revert was made, from its message (everything after the subject, less the fixed lead). */
function revertReason(message: string): string {
  const body = message.slice(message.indexOf("\n\n") + 2).trim();
  const reason = body.startsWith(REVERTED_BECAUSE) ? body.slice(REVERTED_BECAUSE.length).trim() : body;
  return reason === "" ? "the run's criteria failed on the run branch after the merge" : reason;
}

/**
 * The integrator task for a conflicting merge: it works in the run branch's worktree with the merge in progress
 * (conflict markers in the files); its criteria are the run's, plus that no conflict marker is left.
 */
export async function createIntegrator(
  deps: EngineDeps,
  ctx: MergeContext,
  tasks: ReadonlyMap<string, TaskRecord>,
  task: TaskRecord,
  paths: string[],
): Promise<TaskRecord | { refused: StopMode }> {
  const { run } = ctx;
  const conflicted = await startConflictedMerge({ worktree: ctx.integration, from: task.branch });
  const files = conflicted.length > 0 ? conflicted : paths;
  const others = [...tasks.values()].filter((t) => t.id !== task.id && t.role === "implementer" && t.integrated !== undefined && (t.spec?.files ?? []).some((f) => files.includes(f)));
  const integrated = others.length > 0 ? others : [...tasks.values()].filter((t) => t.id !== task.id && t.integrated !== undefined);
  const base = `${task.id}--merge`;
  let id = base;
  for (let n = 2; tasks.has(id); n++) id = `${base}-${n}`;
  const goal = [
    `Finish the merge of task "${task.id}" into the run branch ${run.branch}: it is in progress in this directory, and git stopped on conflicts in ${files.map((f) => `\`${f}\``).join(", ")} (conflict markers are in the files).`,
    `Keep what both sides meant: resolve every conflict, remove every marker, and do not commit (orch commits the merge).`,
    `The task being merged: ${task.title} — ${task.goal}`,
    ...integrated.map((t) => `Already on the run branch: task "${t.id}": ${t.title} — ${t.goal}`),
  ].join("\n");
  const markerCheck = `! git grep -n -E '^(<<<<<<<|>>>>>>>)( |$)' -- ${files.map((f) => shellQuote(f)).join(" ")}`;
  const criteria = [markerCheck, ...run.criteria];
  // Made and started in one write, unless a stop was asked for: the graph never holds an integrator not under way,
  // and none starts after a request (the merge is taken back; the task stays in the queue).
  const refused = await ctx.writer.writeUnlessStopped(
    {
      type: "task.created",
      runId: run.id,
      taskId: id,
      data: { title: `merge ${task.id} into the run branch`, goal, criteria, branch: run.branch, worktree: ctx.integration, role: "integrator", dependsOn: [task.id], priority: task.priority, risk: task.risk },
    },
    { type: "task.started", runId: run.id, taskId: id, data: {} },
  );
  if (refused !== undefined) {
    await abortMerge({ worktree: ctx.integration });
    return { refused };
  }
  const created = await deps.store.getTask(run.id, id);
  if (created === undefined) throw new Error(`integrator task ${id} vanished`);
  return created;
}

/**
 * The integrator's end decides the merged task's, in one write: integrated with the merge it made, or blocked. A
 * supervisor dying before it leaves both tasks as they were (then the next one finds the merge at the run branch's
 * tip and verifies it, or makes it again).
 */
export async function integratorEnd(
  ctx: MergeContext,
  tasks: ReadonlyMap<string, TaskRecord>,
  integrator: TaskRecord,
  conclusion: TaskConclusion,
  commitOf: (merged: TaskRecord) => string | undefined,
): Promise<NewEvent[]> {
  const merged = tasks.get(integrator.dependsOn[0] ?? "");
  if (merged === undefined) throw new Error(`integrator ${integrator.id} names no task`);
  const end = (task: TaskRecord, status: TerminalTaskStatus, reason: string, commit?: string): NewEvent => ({
    type: "task.finished",
    runId: ctx.run.id,
    taskId: task.id,
    data: { status, reason, ...(commit !== undefined ? { commit } : {}) },
  });
  if (conclusion.status === "succeeded") {
    const commit = commitOf(merged) ?? (await tipOf(merged.worktree));
    return [
      end(integrator, "succeeded", conclusion.reason, conclusion.commit),
      { type: "task.integrated", runId: ctx.run.id, taskId: merged.id, data: { merge: conclusion.commit, integrator: integrator.id } },
      end(merged, "succeeded", `integrated into ${ctx.run.branch} by ${integrator.id} after a conflict`, commit),
    ];
  }
  await abortMerge({ worktree: ctx.integration }).catch(() => undefined);
  const final: TerminalTaskStatus = isTerminalTask(conclusion.status as TaskRecord["status"]) ? (conclusion.status as TerminalTaskStatus) : "blocked";
  return [end(integrator, final, conclusion.reason), end(merged, "blocked", `its merge into ${ctx.run.branch} conflicted and the integrator did not resolve it: ${conclusion.reason}`)];
}

/**
 * After a crash: a merge the dead supervisor left in progress in the run branch's worktree is aborted (its
 * task goes back to the merge queue), a revert it was making is undone, and an integrator task it was running
 * is ended, to be made anew. A merge it made (and maybe had not verified), or made and reverted, without
 * journaling the outcome is at the run branch's tip: that is journaled as `task.merge-found`, and the graph
 * settles it before any other merge goes on top of it and is blamed for what it broke.
 */
export async function reconcileMerges(store: Store, run: RunRecord, integration: string, write: (...events: NewEvent[]) => Promise<unknown>): Promise<string[]> {
  const done: string[] = [];
  if (await removeStaleIndexLock(integration).catch(() => false)) done.push(`removed a stale git index.lock in ${integration} left by the crash`);
  if (await abortMerge({ worktree: integration }).catch(() => false)) done.push(`aborted a merge left in progress in ${integration}`);
  if (await discardChanges(integration).catch(() => false)) done.push(`discarded a change cut short in ${integration} (a revert the dead supervisor was making)`);
  for (const task of await store.listTasks(run.id)) {
    if (task.role !== "integrator" || task.status !== "running") continue;
    await write({ type: "task.finished", runId: run.id, taskId: task.id, data: { status: "stopped", reason: "the supervisor died during the merge; it is made again" } });
    done.push(`integrator task ${task.id} ended: the supervisor died during its merge`);
  }
  const found = await mergeAtTip(store, run, integration);
  if (found !== undefined) {
    await write(found);
    done.push(`task ${found.taskId ?? "?"}'s merge ${found.data.merge.slice(0, 12)} found at the run branch's tip${found.data.reverted ? ", reverted" : ""}, not journaled: it is settled first`);
  }
  return done;
}

/** Of the tasks in the merge queue, the one whose merge (or merge and revert) is at the run branch's tip. */
async function mergeAtTip(store: Store, run: RunRecord, integration: string): Promise<Extract<NewEvent, { type: "task.merge-found" }> | undefined> {
  if (!existsSync(integration)) return undefined;
  const graph = replayGraph(await store.readEvents({ runId: run.id, types: [...GRAPH_EVENT_TYPES] }));
  const tip = await tipOf(integration);
  for (const task of graph.plan) {
    const phase = phaseOf(graph, task.id);
    if (phase.kind !== "queued") continue;
    const left = await mergeLeftAt(integration, tip, phase.commit).catch(() => undefined);
    if (left?.kind === "merged" || left?.kind === "reverted") {
      return { type: "task.merge-found", runId: run.id, taskId: task.id, data: { merge: left.merge, reverted: left.kind === "reverted" } };
    }
  }
  return undefined;
}

const firstLine = (text: string) => (text.trim().split("\n")[0] ?? "").slice(0, 72);
const lastLines = (text: string, n: number) => text.trimEnd().split("\n").slice(-n).join(" ⏎ ");
