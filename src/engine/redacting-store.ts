// The journal as the engine writes it: every event redacted on its way in, through `append` and `ingest` alike,
// so that no secret reaches a row or a projection (attempts.criteria, a task's reason), nor `orch logs`, `orch
// status` or the report, which read them — whichever part of the engine wrote the event. Reads pass through.
// The run and its tasks are kept as asked for: their verify commands are run from the journal, and a redacted
// command would be another command (a planner's tasks come from its output, redacted as it was read).
import type { NewEvent } from "../core/journal.js";
import type { Redactor } from "../core/redact.js";
import type { Store } from "../store/store.js";

export function redactingStore(store: Store, redactor: Redactor): Store {
  const redact = (event: NewEvent): NewEvent => (event.type === "run.created" || event.type === "task.created" ? event : redactor.redactDeep(event));
  return {
    append: (events, options) => store.append(events.map(redact), options),
    ingest: (events, options) => store.ingest(events.map(redact), options),
    dropOutput: (attemptId, keepChars, options) => store.dropOutput(attemptId, keepChars, options),
    getRun: (id) => store.getRun(id),
    stopRequestOf: (runId) => store.stopRequestOf(runId),
    findRuns: (prefix) => store.findRuns(prefix),
    listRuns: (options) => store.listRuns(options),
    listTasks: (runId) => store.listTasks(runId),
    getTask: (runId, taskId) => store.getTask(runId, taskId),
    listAttempts: (query) => store.listAttempts(query),
    getAttempt: (id) => store.getAttempt(id),
    readEvents: (query) => store.readEvents(query),
    acquireLease: (runId, claim) => store.acquireLease(runId, claim),
    renewLease: (runId, owner, until) => store.renewLease(runId, owner, until),
    releaseLease: (runId, owner) => store.releaseLease(runId, owner),
    onChange: (listener) => store.onChange(listener),
    close: () => store.close(),
  };
}
