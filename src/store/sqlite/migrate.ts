// Brings a SQLite journal's schema up to date when several processes may open a new one at the same moment
// (three `orch run --detach` in a repository without `.orch/` yet). Invariant: the migrations run in one
// transaction that holds SQLite's write lock and reads the applied set inside it, so each runs exactly once
// and a process that waited finds them done; a process that finds the schema current takes no lock at all.
import type BetterSqlite3 from "better-sqlite3";
import type { Kysely } from "kysely";
import { migrateToLatest } from "../migrations/index.js";
import { journalIsCurrent } from "./connection.js";

export async function migrateSqlite<DB>(raw: BetterSqlite3.Database, db: Kysely<DB>): Promise<void> {
  if (journalIsCurrent(raw)) return;
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
