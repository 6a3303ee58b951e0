// A SQLite journal opened for reading only: `orch status`, `orch list` and `orch logs` read a few rows and end, and
// the query layer a writer needs (Kysely, its migrations) was the largest part of the code they loaded. The same
// reads as `kysely-store.ts`'s, as SQL of their own on better-sqlite3's prepared statements, parsed by the same
// `rows.ts`; `test/store-reader.test.ts` holds the two to the same answers. Invariant: a reader never writes, and
// reads only a journal whose schema is this build's: an older one gets no reader (undefined), and its caller
// opens the journal as a writer, which migrates it.
import type BetterSqlite3 from "better-sqlite3";
import type { StoredEvent } from "../../core/journal.js";
import type { StopMode } from "../../core/run.js";
import { JournalDamagedError } from "../errors.js";
import { FOUND_RUNS, LISTED_RUNS, prefixPattern, wholeRunOfKinds } from "../queries.js";
import { parseAttempt, parseEvents, parseRun, parseStopRequest, parseTask } from "../rows.js";
import type { AttemptRecord, EventQuery, JournalReader, RunRecord, TaskRecord } from "../store.js";
import { watchDatabaseFile } from "./changes.js";
import { journalIsCurrent, openRaw, sqliteJournalExists, type SqliteFileOptions } from "./connection.js";
import { guardJournal } from "./journal-errors.js";

/** A reader of the journal at `options.path`; undefined when its schema is older than this build's. */
export function openSqliteReader(options: SqliteFileOptions): JournalReader | undefined {
  const file = options.path;
  if (file !== ":memory:" && !sqliteJournalExists(file)) throw new JournalDamagedError(file, "inaccessible", "there is no journal file");
  const raw = guardJournal(file, () => openRaw(options, false));
  let current: boolean;
  try {
    current = guardJournal(file, () => journalIsCurrent(raw));
  } catch (error) {
    raw.close();
    throw error;
  }
  if (!current) {
    raw.close();
    return undefined;
  }
  return new SqliteReader(raw, file);
}

/** The SQL of `readEvents` and its parameters, as the reader asks it. */
export function eventsQuery(query: EventQuery): { text: string; params: unknown[] } {
  const where: string[] = [];
  const params: unknown[] = [];
  const condition = (text: string, ...values: unknown[]) => {
    where.push(text);
    params.push(...values);
  };
  if (query.runId !== undefined) condition("run_id = ?", query.runId);
  if (query.taskId !== undefined) condition("task_id = ?", query.taskId);
  if (query.attemptId !== undefined) condition("attempt_id = ?", query.attemptId);
  if (query.afterSeq !== undefined) condition("seq > ?", query.afterSeq);
  if (query.types !== undefined && query.types.length > 0) condition(`type in (${query.types.map(() => "?").join(", ")})`, ...query.types);
  const order = wholeRunOfKinds(query) ? "+seq" : "seq";
  let text = `select * from events${where.length > 0 ? ` where ${where.join(" and ")}` : ""} order by ${order} ${query.descending === true ? "desc" : "asc"}`;
  if (query.limit !== undefined) {
    text += " limit ?";
    params.push(query.limit);
  }
  return { text, params };
}

class SqliteReader implements JournalReader {
  private readonly statements = new Map<string, BetterSqlite3.Statement>();

  constructor(
    private readonly raw: BetterSqlite3.Database,
    private readonly file: string,
  ) {}

  /** Every row `text` selects with `params`; a damaged file is a JournalDamagedError, whichever query meets it. */
  private rows(text: string, params: readonly unknown[]): unknown[] {
    return guardJournal(this.file, () => {
      let statement = this.statements.get(text);
      if (statement === undefined) {
        statement = this.raw.prepare(text);
        this.statements.set(text, statement);
      }
      return statement.all(...params);
    });
  }

  getRun(id: string): Promise<RunRecord | undefined> {
    const [row] = this.rows("select * from runs where id = ?", [id]);
    return Promise.resolve(row === undefined ? undefined : parseRun(row));
  }

  stopRequestOf(runId: string): Promise<StopMode | undefined> {
    const [row] = this.rows("select stop_requested from runs where id = ?", [runId]);
    const value = typeof row === "object" && row !== null && "stop_requested" in row ? row.stop_requested : null;
    return Promise.resolve(parseStopRequest(value));
  }

  findRuns(prefix: string): Promise<RunRecord[]> {
    const rows = this.rows("select * from runs where id like ? order by created_at desc limit ?", [prefixPattern(prefix), FOUND_RUNS]);
    return Promise.resolve(rows.map(parseRun));
  }

  listRuns(options: { limit?: number } = {}): Promise<RunRecord[]> {
    const rows = this.rows("select * from runs order by created_at desc, id desc limit ?", [options.limit ?? LISTED_RUNS]);
    return Promise.resolve(rows.map(parseRun));
  }

  listTasks(runId: string): Promise<TaskRecord[]> {
    return Promise.resolve(this.rows("select * from tasks where run_id = ? order by created_at, position", [runId]).map(parseTask));
  }

  getTask(runId: string, taskId: string): Promise<TaskRecord | undefined> {
    const [row] = this.rows("select * from tasks where run_id = ? and id = ?", [runId, taskId]);
    return Promise.resolve(row === undefined ? undefined : parseTask(row));
  }

  listAttempts(query: { runId: string; taskId?: string }): Promise<AttemptRecord[]> {
    const rows =
      query.taskId === undefined
        ? this.rows("select * from attempts where run_id = ? order by started_at, number", [query.runId])
        : this.rows("select * from attempts where run_id = ? and task_id = ? order by started_at, number", [query.runId, query.taskId]);
    return Promise.resolve(rows.map(parseAttempt));
  }

  getAttempt(id: string): Promise<AttemptRecord | undefined> {
    const [row] = this.rows("select * from attempts where id = ?", [id]);
    return Promise.resolve(row === undefined ? undefined : parseAttempt(row));
  }

  readEvents(query: EventQuery): Promise<StoredEvent[]> {
    const { text, params } = eventsQuery(query);
    // A packed row is several events with one seq: newest first, its lines come last line first.
    const events = this.rows(text, params).flatMap((row) => {
      const parsed = parseEvents(row);
      return query.descending === true && parsed.length > 1 ? parsed.reverse() : parsed;
    });
    return Promise.resolve(events);
  }

  /** Other processes' commits, seen as writes to the journal's files (a reader writes nothing of its own). */
  onChange(listener: () => void): () => void {
    return watchDatabaseFile(this.file, listener);
  }

  close(): Promise<void> {
    this.statements.clear();
    this.raw.close();
    return Promise.resolve();
  }
}
