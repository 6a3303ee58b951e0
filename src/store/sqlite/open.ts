// The SQLite journal: one file in WAL mode, shared by the foreground run, a detached run and every
// `orch status`/`stop` reading or writing it. Writes open with BEGIN IMMEDIATE so that two processes
// queue on the busy timeout instead of failing on a lock upgrade; so do the migrations (see migrate.ts), so
// that processes opening a new journal at once leave one schema, migrated once. A file that is not a sound
// journal fails as a JournalDamagedError wherever it is met: at open, in a migration, in any query.
import type BetterSqlite3 from "better-sqlite3";
import { Kysely, SqliteDialect, sql, type SqliteDatabase, type SqliteStatement } from "kysely";
import { KyselyStore } from "../kysely-store.js";
import { watchDatabaseFile } from "./changes.js";
import type { Database } from "../schema.js";
import type { Store } from "../store.js";
import { openRaw, whileBusy, type SqliteFileOptions } from "./connection.js";
import { asJournalError, guardJournal } from "./journal-errors.js";
import { migrateSqlite } from "./migrate.js";

export { sqliteJournalExists } from "./connection.js";

export interface SqliteStoreOptions extends SqliteFileOptions {
  /** Insert events with a prepared statement (default) or through the Kysely query layer (tests both). */
  fastInsert?: boolean;
}

export async function openSqliteStore(options: SqliteStoreOptions): Promise<Store> {
  const file = options.path;
  const guard = <T>(fn: () => T): T => guardJournal(file, fn);
  const raw = guard(() => openRaw(options));
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: withStatementCache(raw, guard) }) });
  try {
    await whileBusy(() => migrateSqlite(raw, db)).catch((error: unknown) => {
      throw asJournalError(error, file);
    });
  } catch (error) {
    await db.destroy();
    throw error;
  }
  const insert = guard(() =>
    raw.prepare<[number, string, string | null, string | null, string, string]>(
      "insert into events (at, run_id, task_id, attempt_id, type, data) values (?, ?, ?, ?, ?, ?)",
    ),
  );
  return new KyselyStore(db, {
    write: (fn) =>
      db.connection().execute(async (conn) => {
        await sql`begin immediate`.execute(conn);
        try {
          const result = await fn(conn);
          await sql`commit`.execute(conn);
          return result;
        } catch (error) {
          // SQLite may have rolled back already (an I/O error, a full disk): the first error is the one to tell.
          if (raw.inTransaction) await sql`rollback`.execute(conn).catch(() => undefined);
          throw error;
        }
      }),
    // The same connection Kysely holds inside the transaction above (better-sqlite3 has exactly one).
    insertEvents: options.fastInsert === false ? undefined : (rows) =>
      guard(() => rows.map((r) => Number(insert.run(r.at, r.run_id, r.task_id, r.attempt_id, r.type, r.data).lastInsertRowid))),
    ...(options.path !== ":memory:" ? { watch: (listener: () => void) => watchDatabaseFile(options.path, listener) } : {}),
    close: () => db.destroy(),
  });
}

/** Statements kept prepared, most recently used last; the journal's queries are a few dozen fixed shapes. */
const STATEMENT_CACHE_SIZE = 128;

type Guard = <T>(fn: () => T) => T;

/**
 * Kysely prepares every statement anew, which costs more than running it; the same SQL text reuses one
 * prepared statement here. Safe because orch never iterates a statement lazily (no `stream()`), so a cached
 * statement is never in use twice at once. Every call goes through `guard`, where a damaged file becomes a
 * JournalDamagedError whichever query meets the damage first.
 */
function withStatementCache(raw: BetterSqlite3.Database, guard: Guard): SqliteDatabase {
  const cache = new Map<string, SqliteStatement>();
  return {
    close: () => {
      cache.clear();
      raw.close();
    },
    prepare: (text: string) => {
      let statement = cache.get(text);
      if (statement === undefined) {
        statement = guarded(guard(() => raw.prepare(text)), guard);
        if (cache.size >= STATEMENT_CACHE_SIZE) {
          const oldest = cache.keys().next();
          if (oldest.done !== true) cache.delete(oldest.value);
        }
      } else {
        cache.delete(text);
      }
      cache.set(text, statement);
      return statement;
    },
  };
}

function guarded(statement: BetterSqlite3.Statement, guard: Guard): SqliteStatement {
  return {
    reader: statement.reader,
    all: (parameters) => guard(() => statement.all(parameters)),
    run: (parameters) => guard(() => statement.run(parameters)),
    iterate: (parameters) => guard(() => statement.iterate(parameters)),
  };
}
