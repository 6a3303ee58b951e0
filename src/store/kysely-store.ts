// The one query layer: every read and write of the journal, written once in Kysely for both SQLite and
// Postgres. Dialects differ only in how a write transaction is opened (see `WriteTransaction`).
import { sql, type Kysely, type RawBuilder, type SqlBool } from "kysely";
import type { NewEvent, StoredEvent } from "../core/journal.js";
import type { StopMode } from "../core/run.js";
import { project } from "./projection.js";
import { packOutput } from "./packed-output.js";
import { parseAttempt, parseEvents, parseRun, parseStopRequest, parseTask } from "./rows.js";
import { FOUND_RUNS, LISTED_RUNS, prefixPattern, wholeRunOfKinds } from "./queries.js";
import type { Database, EventsTable } from "./schema.js";
import { StaleWriterError, StopRequestedError, type WriteFence } from "./errors.js";
import type { AppendOptions, AttemptRecord, EventQuery, LeaseClaim, LeaseResult, RunRecord, Store, TaskRecord } from "./store.js";

/** Runs `fn` inside one write transaction and returns its result; rolls back when it throws. */
export type WriteTransaction = <T>(fn: (db: Kysely<Database>) => Promise<T>) => Promise<T>;

/** An event row as inserted (the database hands out `seq`). */
export type EventRow = Omit<EventsTable, "seq">;

/** What differs between dialects: how a write transaction opens, and an optional fast row insert. */
export interface DialectHooks {
  write: WriteTransaction;
  /**
   * Inserts event rows inside the current write transaction and returns their sequence numbers in order.
   * SQLite uses one prepared statement here: agent output is the hot path (tens of thousands of rows a
   * second), and building a Kysely query per batch costs more time and memory than the insert itself.
   */
  insertEvents?: (rows: readonly EventRow[]) => number[];
  /** Calls the listener when another process may have written to the journal; returns how to stop. */
  watch?: (listener: () => void) => () => void;
  close(): Promise<void>;
}

/** Rows per INSERT: well under SQLite's variable limit (6 columns × 500). */
const INSERT_CHUNK = 500;

/** Agent output, notes and delivery outcomes change no projection; everything else goes through `project`. */
function changesState(event: NewEvent): boolean {
  if (event.type === "agent.emitted") return event.data.type === "session.started";
  return event.type !== "run.noted" && event.type !== "run.delivered" && !event.type.startsWith("notify.");
}

export class KyselyStore implements Store {
  private readonly listeners = new Set<() => void>();

  constructor(
    private readonly db: Kysely<Database>,
    private readonly hooks: DialectHooks,
    private readonly now: () => number = Date.now,
  ) {}

  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    const unwatch = this.hooks.watch?.(listener);
    return () => {
      this.listeners.delete(listener);
      unwatch?.();
    };
  }

  /** Writes of this process wake its own followers at once, whatever the dialect can watch. */
  private changed(): void {
    for (const listener of this.listeners) listener();
  }

  async append(events: readonly NewEvent[], options: AppendOptions = {}): Promise<StoredEvent[]> {
    if (events.length === 0) return [];
    return this.hooks.write(async (db) => {
      await checkFence(db, options.fence);
      if (options.unlessStopRequested === true) await checkNoStopRequest(db, events);
      const times = events.map((e) => e.at ?? this.now());
      const seqs = await this.insertRows(db, events, times);
      await this.projectAll(db, events, times);
      return events.map((e, i) => ({ ...e, seq: seqs[i] ?? 0, at: times[i] ?? 0 }));
    }).finally(() => this.changed());
  }

  async ingest(events: readonly NewEvent[], options: AppendOptions = {}): Promise<void> {
    if (events.length === 0) return;
    await this.hooks.write(async (db) => {
      await checkFence(db, options.fence);
      const times = events.map((e) => e.at ?? this.now());
      // Output is packed (several lines to a row, read back one event each); nothing hands its seqs back.
      const packed = packOutput(events.map((event, i) => ({ event, at: times[i] ?? this.now() })));
      await this.insertEventRows(db, packed.map(({ event, data, at }) => rowOf(event, data, at)));
      await this.projectAll(db, events, times);
    }).finally(() => this.changed());
  }

  async dropOutput(attemptId: string, keepChars: number, options: AppendOptions = {}): Promise<number> {
    return this.hooks.write(async (db) => {
      await checkFence(db, options.fence);
      // A row goes when the output rows newer than it hold `keepChars` of data already: the newest one always stays.
      const cut = await sql<{ seq: number | string }>`
        select seq from (
          select seq, coalesce(sum(length(data)) over (order by seq desc rows between unbounded preceding and 1 preceding), 0) as newer
          from events where attempt_id = ${attemptId} and type = 'agent.emitted' and ${droppable(sql.ref("data"))}
        ) output where newer >= ${keepChars} order by seq desc limit 1`.execute(db);
      const seq = cut.rows[0]?.seq;
      if (seq === undefined) return 0;
      // The attempt's last words (its newest text) stay too: the task loop reads them, live and on replay alike.
      const lastWords = await db
        .selectFrom("events")
        .select("seq")
        .where("attempt_id", "=", attemptId)
        .where("type", "=", "agent.emitted")
        .where("data", "like", `${DROPPABLE_PREFIXES[0]}%`)
        .orderBy("seq", "desc")
        .limit(1)
        .executeTakeFirst();
      const result = await db
        .deleteFrom("events")
        .where("attempt_id", "=", attemptId)
        .where("type", "=", "agent.emitted")
        .where("seq", "<=", Number(seq))
        .where("seq", "!=", Number(lastWords?.seq ?? 0))
        .where(droppable(sql.ref("data")))
        .executeTakeFirst();
      return Number(result.numDeletedRows);
    }).finally(() => this.changed());
  }

  private async insertRows(db: Kysely<Database>, events: readonly NewEvent[], times: readonly number[]): Promise<number[]> {
    return this.insertEventRows(
      db,
      events.map((e, i) => rowOf(e, JSON.stringify(e.data), times[i] ?? this.now())),
    );
  }

  private async insertEventRows(db: Kysely<Database>, rows: readonly EventRow[]): Promise<number[]> {
    if (this.hooks.insertEvents !== undefined) return this.hooks.insertEvents(rows);
    const seqs: number[] = [];
    for (let start = 0; start < rows.length; start += INSERT_CHUNK) {
      const chunk = rows.slice(start, start + INSERT_CHUNK);
      const returned = await db.insertInto("events").values(chunk).returning("seq").execute();
      if (returned.length !== chunk.length) throw new Error("the database returned fewer sequence numbers than rows inserted");
      // RETURNING promises no order; sequence numbers are handed out in insertion order, so sorting restores it.
      seqs.push(...returned.map((r) => Number(r.seq)).sort((a, b) => a - b));
    }
    return seqs;
  }

  private async projectAll(db: Kysely<Database>, events: readonly NewEvent[], times: readonly number[]): Promise<void> {
    for (const [i, event] of events.entries()) {
      if (changesState(event)) await project(db, event, times[i] ?? this.now());
    }
  }

  async getRun(id: string): Promise<RunRecord | undefined> {
    const row = await this.db.selectFrom("runs").selectAll().where("id", "=", id).executeTakeFirst();
    return row === undefined ? undefined : parseRun(row);
  }

  async stopRequestOf(runId: string): Promise<StopMode | undefined> {
    const row = await this.db.selectFrom("runs").select("stop_requested").where("id", "=", runId).executeTakeFirst();
    return parseStopRequest(row?.stop_requested ?? null);
  }

  async findRuns(prefix: string): Promise<RunRecord[]> {
    const rows = await this.db
      .selectFrom("runs")
      .selectAll()
      .where("id", "like", prefixPattern(prefix))
      .orderBy("created_at", "desc")
      .limit(FOUND_RUNS)
      .execute();
    return rows.map(parseRun);
  }

  async listRuns(options: { limit?: number } = {}): Promise<RunRecord[]> {
    const rows = await this.db
      .selectFrom("runs")
      .selectAll()
      .orderBy("created_at", "desc")
      .orderBy("id", "desc")
      .limit(options.limit ?? LISTED_RUNS)
      .execute();
    return rows.map(parseRun);
  }

  async listTasks(runId: string): Promise<TaskRecord[]> {
    const rows = await this.db.selectFrom("tasks").selectAll().where("run_id", "=", runId).orderBy("created_at").orderBy("position").execute();
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

  async acquireLease(runId: string, claim: LeaseClaim): Promise<LeaseResult> {
    return this.hooks.write(async (db) => {
      const result = await db
        .updateTable("runs")
        .set((eb) => ({ lease_owner: claim.owner, lease_until: claim.until, lease_fence: eb("lease_fence", "+", 1) }))
        .where("id", "=", runId)
        .where((eb) =>
          eb.or([
            eb("lease_owner", "is", null),
            eb("lease_until", "<", claim.now),
            eb("lease_owner", "=", claim.owner),
            ...(claim.replacing !== undefined ? [eb("lease_owner", "=", claim.replacing)] : []),
          ]),
        )
        .executeTakeFirst();
      const row = await db.selectFrom("runs").select(["lease_owner", "lease_until", "lease_fence"]).where("id", "=", runId).executeTakeFirst();
      const holder = row?.lease_owner == null ? undefined : { owner: row.lease_owner, until: Number(row.lease_until ?? 0), fence: Number(row.lease_fence) };
      return Number(result.numUpdatedRows) === 1 && holder !== undefined ? { acquired: true, fence: holder.fence } : { acquired: false, holder };
    });
  }

  async renewLease(runId: string, owner: string, until: number): Promise<boolean> {
    return this.hooks.write(async (db) => {
      const result = await db.updateTable("runs").set({ lease_until: until }).where("id", "=", runId).where("lease_owner", "=", owner).executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    });
  }

  async releaseLease(runId: string, owner: string): Promise<void> {
    await this.hooks.write(async (db) => {
      await db.updateTable("runs").set({ lease_owner: null, lease_until: null }).where("id", "=", runId).where("lease_owner", "=", owner).execute();
    });
  }

  async readEvents(query: EventQuery): Promise<StoredEvent[]> {
    let q = this.db.selectFrom("events").selectAll();
    if (query.runId !== undefined) q = q.where("run_id", "=", query.runId);
    if (query.taskId !== undefined) q = q.where("task_id", "=", query.taskId);
    if (query.attemptId !== undefined) q = q.where("attempt_id", "=", query.attemptId);
    if (query.afterSeq !== undefined) q = q.where("seq", ">", query.afterSeq);
    if (query.types !== undefined && query.types.length > 0) q = q.where("type", "in", query.types);
    const direction = query.descending === true ? "desc" : "asc";
    q = wholeRunOfKinds(query) ? q.orderBy(sql`+${sql.ref("seq")}`, direction) : q.orderBy("seq", direction);
    if (query.limit !== undefined) q = q.limit(query.limit);
    const rows = await q.execute();
    // A packed row is several events with one seq: newest first, its lines come last line first.
    return rows.flatMap((row) => {
      const events = parseEvents(row);
      return query.descending === true && events.length > 1 ? events.reverse() : events;
    });
  }

  async close(): Promise<void> {
    await this.hooks.close();
  }
}

/**
 * Agent output that may go with the transcripts' retention, by how its data begins (every agent event is written with
 * its `type` first). A row of any other shape is kept: the test can only err towards keeping.
 */
const DROPPABLE_PREFIXES = ['{"type":"text",', '{"type":"unknown",', '{"type":"tool.returned",'];

function droppable(data: RawBuilder<unknown>): RawBuilder<SqlBool> {
  return sql<SqlBool>`(${sql.join(
    DROPPABLE_PREFIXES.map((prefix) => sql`${data} like ${`${prefix}%`}`),
    sql` or `,
  )})`;
}

function rowOf(event: NewEvent, data: string, at: number): EventRow {
  return { at, run_id: event.runId, task_id: event.taskId ?? null, attempt_id: event.attemptId ?? null, type: event.type, data };
}

/**
 * Refuses the write unless the run's lease fence is still the writer's. Inside the write transaction, so no
 * takeover can come between the check and the rows (the takeover's fence increment is a write too).
 */
async function checkFence(db: Kysely<Database>, fence: WriteFence | undefined): Promise<void> {
  if (fence === undefined) return;
  const row = await db.selectFrom("runs").select("lease_fence").where("id", "=", fence.runId).executeTakeFirst();
  const current = row === undefined ? undefined : Number(row.lease_fence);
  if (current !== fence.fence) throw new StaleWriterError(fence, current);
}

/** Refuses the write when the run of its events has a stop, pause or abort request; inside the write transaction. */
async function checkNoStopRequest(db: Kysely<Database>, events: readonly NewEvent[]): Promise<void> {
  for (const runId of new Set(events.map((e) => e.runId))) {
    const row = await db.selectFrom("runs").select("stop_requested").where("id", "=", runId).executeTakeFirst();
    const mode = parseStopRequest(row?.stop_requested ?? null);
    if (mode !== undefined) throw new StopRequestedError(runId, mode);
  }
}
