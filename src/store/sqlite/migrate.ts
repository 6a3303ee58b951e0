// Brings a SQLite journal's schema up to date when several processes may open a new one at the same moment
// (three `orch run --detach` in a repository without `.orch/` yet). Invariant: the migrations run in one
// transaction that holds SQLite's write lock and reads the applied set inside it, so each runs exactly once
// and a process that waited finds them done; a process that finds the schema current takes no lock at all.
import type BetterSqlite3 from "better-sqlite3";
import type { Kysely } from "kysely";
import { z } from "zod";
import { migrateToLatest, migrationNames } from "../migrations/index.js";

export async function migrateSqlite<DB>(raw: BetterSqlite3.Database, db: Kysely<DB>): Promise<void> {
  if (isCurrent(raw)) return;
  // BEGIN IMMEDIATE takes the write lock now, waiting up to busy_timeout for another process that migrates;
  // Kysely's migrator then runs on this one connection inside the transaction (SQLite's DDL is transactional,
  // and Kysely's own lock is a no-op on SQLite), so a failure leaves no half-migrated schema behind.
  raw.exec("begin immediate");
  try {
    await migrateToLatest(db, "sqlite");
    raw.exec("commit");
  } catch (error) {
    if (raw.inTransaction) raw.exec("rollback");
    throw error;
  }
}

const Names = z.array(z.string());

/** Whether every migration this build knows has been applied: a plain read, no write lock. */
function isCurrent(raw: BetterSqlite3.Database): boolean {
  const table = raw.prepare("select 1 from sqlite_master where type = 'table' and name = 'orch_migrations'").get();
  if (table === undefined) return false;
  const applied = new Set(Names.parse(raw.prepare("select name from orch_migrations").pluck().all()));
  return migrationNames("sqlite").every((name) => applied.has(name));
}
