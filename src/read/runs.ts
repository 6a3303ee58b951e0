// Finding a run by what a user typed: an exact id, a unique prefix, or nothing (or "latest") for the newest.
import { NotFoundError, UsageError } from "../core/errors.js";
import type { RunRecord, TaskRecord, JournalReader } from "../store/store.js";

/** A run by exact id or unique prefix; without a reference, the newest run. */
export async function resolveRun(store: JournalReader, ref: string | undefined): Promise<RunRecord> {
  if (ref === undefined || ref === "" || ref === "latest") {
    const [newest] = await store.listRuns({ limit: 1 });
    if (newest === undefined) throw new NotFoundError("there are no runs yet", { hint: 'start one with: orch run "<goal>" --verify "<command>"' });
    return newest;
  }
  const exact = await store.getRun(ref);
  if (exact !== undefined) return exact;
  const matches = await store.findRuns(ref);
  const [only] = matches;
  if (only !== undefined && matches.length === 1) return only;
  if (matches.length > 1) {
    throw new UsageError(`"${ref}" matches ${matches.length} runs: ${matches.slice(0, 5).map((r) => r.id).join(", ")}`, {
      hint: "type more of the run id",
    });
  }
  throw new NotFoundError(`no run "${ref}"`, { hint: "`orch list` shows the runs of this repository" });
}

/** A task of a run by `RUN/TASK` (the run by id, unique prefix or "latest"); `usage` is the hint for a bad reference. */
/** The RUN and TASK of a `RUN/TASK` reference, or a UsageError: checked before anything is opened. */
export function taskRef(ref: string | undefined, usage: string): { run: string; task: string } {
  const text = ref ?? "";
  const slash = text.indexOf("/");
  if (slash <= 0 || slash === text.length - 1) throw new UsageError(`"${text}" names no task`, { hint: usage });
  return { run: text.slice(0, slash), task: text.slice(slash + 1) };
}

export async function resolveTask(store: JournalReader, ref: string | undefined, usage: string): Promise<{ run: RunRecord; task: TaskRecord }> {
  const parts = taskRef(ref, usage);
  const run = await resolveRun(store, parts.run);
  const taskId = parts.task;
  const task = await store.getTask(run.id, taskId);
  if (task === undefined) throw new NotFoundError(`run ${run.id} has no task "${taskId}"`, { hint: `\`orch status ${run.id}\` lists its tasks` });
  return { run, task };
}
