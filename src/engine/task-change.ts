// What a task changed, as git and the journal tell it: the commit its work started from and the one it ended in,
// the files between them, and the shell commands its agent ran in every attempt. Read-only; the input of the
// risk rules (core/risk.ts) for one task of a run.
import type { AgentEvent } from "../core/agent-event.js";
import { NotFoundError } from "../core/errors.js";
import type { ChangedFile } from "../core/risk.js";
import { shellCommandOf } from "../agents/shell-call.js";
import { changeBetween, mergeBase, revParse } from "../git/index.js";
import type { RunRecord, Store, TaskRecord } from "../store/store.js";

/** Where the task left the run branch: before its merge, if it was merged; the run's base if git cannot tell. */
export async function taskBase(run: RunRecord, task: TaskRecord): Promise<string> {
  return mergeBase(run.repoRoot, task.branch, task.integrated !== undefined ? `${task.integrated}^1` : run.branch).catch(() => run.baseSha);
}

export interface TaskChange {
  readonly from: string;
  /** The task's verified commit, or its branch's tip before it has one. */
  readonly to: string;
  readonly files: ChangedFile[];
}

/** The task's committed work against where it started (its worktree's uncommitted files are not part of it). */
export async function taskChange(run: RunRecord, task: TaskRecord): Promise<TaskChange> {
  const to = task.commit ?? (await revParse(run.repoRoot, task.branch).catch(() => ""));
  if (to === "") throw new NotFoundError(`task ${task.id} has no work to judge: its branch ${task.branch} is not there (yet)`, { hint: `\`orch status ${run.id}\` says where the task is` });
  const from = await taskBase(run, task);
  return { from, to, files: await changeBetween(run.repoRoot, from, to) };
}

const PAGE = 2_000;

/** The shell commands the task's agents ran, in the order they ran them, from every attempt's tool calls. */
export async function taskCommands(store: Store, runId: string, taskId: string): Promise<string[]> {
  const commands: string[] = [];
  let afterSeq = 0;
  for (;;) {
    const events = await store.readEvents({ runId, taskId, types: ["agent.emitted"], afterSeq, limit: PAGE });
    for (const event of events) {
      if (event.type !== "agent.emitted") continue;
      const command = shellCommandOf(event.data satisfies AgentEvent);
      if (command !== undefined) commands.push(command);
    }
    const last = events[events.length - 1];
    if (last === undefined || events.length < PAGE) return commands;
    afterSeq = last.seq;
  }
}
