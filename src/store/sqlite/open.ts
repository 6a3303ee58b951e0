// The SQLite journal: one file in WAL mode, shared by the foreground run, a detached run and every
// `orch status`/`stop` reading or writing it. Writes open with BEGIN IMMEDIATE so that two processes
// queue on the busy timeout instead of failing on a lock upgrade; so do the migrations (see migrate.ts), so
// that processes opening a new journal at once leave one schema, migrated once.
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import BetterSqlite3 from "better-sqlite3";
import { Kysely, SqliteDialect, sql, type SqliteDatabase } from "kysely";
import { KyselyStore } from "../kysely-store.js";
import type { Database } from "../schema.js";
import type { Store } from "../store.js";
import { migrateSqlite } from "./migrate.js";

export interface SqliteStoreOptions {
  /** A file path, or ":memory:". */
  path: string;
  busyTimeoutMs?: number;
  /** Insert events with a prepared statement (default) or through the Kysely query layer (tests both). */
  fastInsert?: boolean;
}

export async function openSqliteStore(options: SqliteStoreOptions): Promise<Store> {
  if (options.path !== ":memory:") mkdirSync(dirname(options.path), { recursive: true });
  const raw = new BetterSqlite3(options.path);
  // First: the switch to WAL of a new file takes a lock, and another process may be creating it too.
  raw.pragma(`busy_timeout = ${options.busyTimeoutMs ?? 10_000}`);
  raw.pragma("journal_mode = WAL");
  raw.pragma("synchronous = NORMAL");
  raw.pragma("foreign_keys = ON");
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: withStatementCache(raw) }) });
  try {
    await migrateSqlite(raw, db);
  } catch (error) {
    await db.destroy();
    throw error;
  }
  const insert = raw.prepare<[number, string, string | null, string | null, string, string]>(
    "insert into events (at, run_id, task_id, attempt_id, type, data) values (?, ?, ?, ?, ?, ?)",
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
          await sql`rollback`.execute(conn);
          throw error;
        }
      }),
    // The same connection Kysely holds inside the transaction above (better-sqlite3 has exactly one).
    insertEvents: options.fastInsert === false ? undefined : (rows) =>
      rows.map((r) => Number(insert.run(r.at, r.run_id, r.task_id, r.attempt_id, r.type, r.data).lastInsertRowid)),
    close: () => db.destroy(),
  });
}

/** Statements kept prepared, most recently used last; the journal's queries are a few dozen fixed shapes. */
const STATEMENT_CACHE_SIZE = 128;

/**
 * Kysely prepares every statement anew, which costs more than running it; the same SQL text reuses one
 * prepared statement here. Safe because orch never iterates a statement lazily (no `stream()`), so a cached
 * statement is never in use twice at once.
 */
function withStatementCache(raw: BetterSqlite3.Database): SqliteDatabase {
  const cache = new Map<string, BetterSqlite3.Statement>();
  return {
    close: () => {
      cache.clear();
      raw.close();
    },
    prepare: (text: string) => {
      let statement = cache.get(text);
      if (statement === undefined) {
        statement = raw.prepare(text);
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
