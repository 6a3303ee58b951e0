// The one query layer: every read and write of the journal, written once in Kysely for both SQLite and
// Postgres. Dialects differ only in how a write transaction is opened (see `WriteTransaction`).
import type { Kysely } from "kysely";
import type { NewEvent, StoredEvent } from "../core/journal.js";
import { project } from "./projection.js";
import { parseAttempt, parseEvent, parseRun, parseTask } from "./rows.js";
import type { Database } from "./schema.js";
import type { AttemptRecord, EventQuery, RunRecord, Store, TaskRecord } from "./store.js";

/** Runs `fn` inside one write transaction and returns its result; rolls back when it throws. */
export type WriteTransaction = <T>(fn: (db: Kysely<Database>) => Promise<T>) => Promise<T>;

/** Rows per INSERT: well under SQLite's variable limit (7 columns × 500). */
const INSERT_CHUNK = 500;

export class KyselyStore implements Store {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly write: WriteTransaction,
    private readonly onClose: () => Promise<void>,
    private readonly now: () => number = Date.now,
  ) {}

  async append(events: readonly NewEvent[]): Promise<StoredEvent[]> {
    if (events.length === 0) return [];
    return this.write(async (db) => {
      const stored: StoredEvent[] = [];
      const times = events.map((e) => e.at ?? this.now());
      for (let start = 0; start < events.length; start += INSERT_CHUNK) {
        const chunk = events.slice(start, start + INSERT_CHUNK);
        const rows = await db
          .insertInto("events")
          .values(
            chunk.map((e, i) => ({
              at: times[start + i] ?? this.now(),
              run_id: e.runId,
              task_id: e.taskId ?? null,
              attempt_id: e.attemptId ?? null,
              type: e.type,
              data: JSON.stringify(e.data),
            })),
          )
          .returning("seq")
          .execute();
        chunk.forEach((e, i) => {
          const seq = rows[i]?.seq;
          if (seq === undefined) throw new Error("the database returned fewer sequence numbers than rows inserted");
          stored.push({ ...e, seq: Number(seq), at: times[start + i] ?? this.now() });
        });
      }
      for (const [i, event] of events.entries()) await project(db, event, times[i] ?? this.now());
      return stored;
    });
  }

  async getRun(id: string): Promise<RunRecord | undefined> {
    const row = await this.db.selectFrom("runs").selectAll().where("id", "=", id).executeTakeFirst();
    return row === undefined ? undefined : parseRun(row);
  }

  async findRuns(prefix: string): Promise<RunRecord[]> {
    const rows = await this.db
      .selectFrom("runs")
      .selectAll()
      .where("id", "like", `${escapeLike(prefix)}%`, )
      .orderBy("created_at", "desc")
      .limit(20)
      .execute();
    return rows.map(parseRun);
  }

  async listRuns(options: { limit?: number } = {}): Promise<RunRecord[]> {
    const rows = await this.db
      .selectFrom("runs")
      .selectAll()
      .orderBy("created_at", "desc")
      .orderBy("id", "desc")
      .limit(options.limit ?? 1000)
      .execute();
    return rows.map(parseRun);
  }

  async listTasks(runId: string): Promise<TaskRecord[]> {
    const rows = await this.db.selectFrom("tasks").selectAll().where("run_id", "=", runId).orderBy("created_at").execute();
    return rows.map(parseTask);
  }

  async getTask(runId: string, taskId: string): Promise<TaskRecord | undefined> {
    const row = await this.db.selectFrom("tasks").selectAll().where("run_id", "=", runId).where("id", "=", taskId).executeTakeFirst();
    return row === undefined ? undefined : parseTask(row);
  }

  async listAttempts(query: { runId: string; taskId?: string }): Promise<AttemptRecord[]> {
    let q = this.db.selectFrom("attempts").selectAll().where("run_id", "=", query.runId);
    if (query.taskId !== undefined) q = q.where("task_id", "=", query.taskId);
    const rows = await q.orderBy("started_at").orderBy("number").execute();
    return rows.map(parseAttempt);
  }

  async getAttempt(id: string): Promise<AttemptRecord | undefined> {
    const row = await this.db.selectFrom("attempts").selectAll().where("id", "=", id).executeTakeFirst();
    return row === undefined ? undefined : parseAttempt(row);
  }

  async readEvents(query: EventQuery): Promise<StoredEvent[]> {
    let q = this.db.selectFrom("events").selectAll();
    if (query.runId !== undefined) q = q.where("run_id", "=", query.runId);
    if (query.taskId !== undefined) q = q.where("task_id", "=", query.taskId);
    if (query.attemptId !== undefined) q = q.where("attempt_id", "=", query.attemptId);
    if (query.afterSeq !== undefined) q = q.where("seq", ">", query.afterSeq);
    if (query.types !== undefined && query.types.length > 0) q = q.where("type", "in", query.types);
    q = q.orderBy("seq", query.descending === true ? "desc" : "asc");
    if (query.limit !== undefined) q = q.limit(query.limit);
    const rows = await q.execute();
    return rows.map(parseEvent);
  }

  async close(): Promise<void> {
    await this.onClose();
  }
}

function escapeLike(text: string): string {
  return text.replace(/[%_\\]/g, (c) => `\\${c}`);
}
