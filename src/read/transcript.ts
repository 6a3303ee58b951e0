// A run's transcript as the journal holds it: what a reference names (a run, `RUN/TASK`, or an attempt id) and the
// events of it in bounded pages by sequence number, so that no reader holds a day of output at once.
import { NotFoundError } from "../core/errors.js";
import type { StoredEvent } from "../core/journal.js";
import type { EventQuery, JournalReader } from "../store/store.js";
import { resolveRun } from "./runs.js";

/** What a transcript reference names: the run it belongs to, and the query of its events. */
export interface TranscriptTarget {
  runId: string;
  taskId?: string | undefined;
  attemptId?: string | undefined;
  query: EventQuery;
}

/** Reads `RUN`, `RUN/TASK`, an attempt id, or nothing and `latest` (the newest run). */
export async function resolveTranscript(store: JournalReader, ref: string | undefined): Promise<TranscriptTarget> {
  if (ref !== undefined && ref !== "") {
    const attempt = await store.getAttempt(ref);
    if (attempt !== undefined) return { runId: attempt.runId, taskId: attempt.taskId, attemptId: attempt.id, query: { attemptId: attempt.id } };
    const slash = ref.indexOf("/");
    if (slash > 0) {
      const run = await resolveRun(store, ref.slice(0, slash));
      const taskId = ref.slice(slash + 1);
      if ((await store.getTask(run.id, taskId)) === undefined) {
        throw new NotFoundError(`run ${run.id} has no task "${taskId}"`, { hint: `\`orch status ${run.id}\` lists its tasks` });
      }
      return { runId: run.id, taskId, query: { runId: run.id, taskId } };
    }
  }
  const run = await resolveRun(store, ref);
  return { runId: run.id, query: { runId: run.id } };
}

/** The largest page a reader gets at once. */
export const MAX_PAGE = 5_000;

export interface TranscriptPage {
  events: StoredEvent[];
  /** The sequence number to read on from (the last event's, or the one asked for when the page is empty). */
  nextSeq: number;
  /** Whether more events were there already when the page was read. */
  more: boolean;
}

/** The events of `query` after `afterSeq`, at most `limit` (bounded by MAX_PAGE). */
export async function readTranscriptPage(store: JournalReader, query: EventQuery, afterSeq: number, limit = MAX_PAGE): Promise<TranscriptPage> {
  const size = Math.max(1, Math.min(limit, MAX_PAGE));
  const events = await store.readEvents({ ...query, afterSeq, limit: size });
  const last = events[events.length - 1];
  // The limit counts rows; a row of packed agent output is several events, so a full page may hold more.
  return { events, nextSeq: last?.seq ?? afterSeq, more: events.length >= size };
}
