// Opening a SQLite journal's file, for its writers (`open.ts`) and its readers (`reader.ts`) alike: WAL mode, a
// busy timeout, and the retries SQLite's locking needs when several processes open a new file at once. Loads
// no query layer: a reader that only reads never pays for one.
import { mkdirSync, statSync } from "node:fs";
import { dirname } from "node:path";
import BetterSqlite3 from "better-sqlite3";
import { z } from "zod";
import { JournalDamagedError } from "../errors.js";
import { MIGRATION_NAMES } from "../migrations/names.js";
import { addonOption } from "./addon.js";
import { asJournalError } from "./journal-errors.js";

export interface SqliteFileOptions {
  /** A file path, or ":memory:". */
  path: string;
  busyTimeoutMs?: number;
}

/**
 * Whether a journal file is at `path`. Throws JournalDamagedError when something else is in the way (its
 * directory is a file, say), so that a read-only command tells that apart from "no runs yet".
 */
export function sqliteJournalExists(path: string): boolean {
  assertJournalDir(path);
  try {
    statSync(path);
    return true;
  } catch (error) {
    if (error instanceof Error && "code" in error && error.code === "ENOENT") return false;
    throw asJournalError(error, path);
  }
}

/**
 * Opens the file in WAL mode, with the busy timeout: made, with its folder, when missing, unless `create` is false
 * (a reader's), where a missing file fails the open (SQLite's "unable to open").
 */
export function openRaw(options: SqliteFileOptions, create = true): BetterSqlite3.Database {
  if (options.path !== ":memory:") {
    assertJournalDir(options.path);
    if (create) mkdirSync(dirname(options.path), { recursive: true });
  }
  const raw = new BetterSqlite3(options.path, { ...addonOption(), fileMustExist: !create });
  try {
    raw.pragma(`busy_timeout = ${options.busyTimeoutMs ?? 10_000}`);
    // A reader writes nothing: a journal is in WAL mode from its first open (the mode is kept in the file), and
    // durability and foreign keys concern writes.
    if (!create) return raw;
    // First: the switch to WAL of a new file takes a lock, and another process may be creating it too.
    whileBusySync(() => raw.pragma("journal_mode = WAL"));
    raw.pragma("synchronous = NORMAL");
    raw.pragma("foreign_keys = ON");
    return raw;
  } catch (error) {
    raw.close();
    throw error;
  }
}

/** The journal's directory (`.orch/`) must be a directory where it exists; a file of that name is named as such. */
function assertJournalDir(path: string): void {
  const dir = dirname(path);
  let isDirectory: boolean;
  try {
    isDirectory = statSync(dir).isDirectory();
  } catch {
    // Missing (made on open) or unreachable (the open says why).
    return;
  }
  if (!isDirectory) throw new JournalDamagedError(path, "inaccessible", `${dir} is not a directory`);
}

/**
 * SQLite answers "database is locked" at once, without its busy handler, where waiting could deadlock: two
 * processes that both read a new file (still in rollback-journal mode) and then both want to switch it to WAL or
 * migrate it. One of them has to let go and try again; these do, with a growing, jittered pause, for 10 s.
 */
const BUSY_RETRY_MS = 10_000;

function isBusy(error: unknown): boolean {
  for (let at: unknown = error, depth = 0; at instanceof Error && depth < 4; at = at.cause, depth++) {
    if ("code" in at && typeof at.code === "string" && at.code.startsWith("SQLITE_BUSY")) return true;
  }
  return false;
}

export async function whileBusy<T>(fn: () => Promise<T>): Promise<T> {
  const until = Date.now() + BUSY_RETRY_MS;
  for (let pause = 5; ; pause = Math.min(pause * 2, 200)) {
    try {
      return await fn();
    } catch (error) {
      if (!isBusy(error) || Date.now() > until) throw error;
      await new Promise((resolve) => setTimeout(resolve, pause * (1 + Math.random())));
    }
  }
}

function whileBusySync<T>(fn: () => T): T {
  const until = Date.now() + BUSY_RETRY_MS;
  for (let pause = 5; ; pause = Math.min(pause * 2, 200)) {
    try {
      return fn();
    } catch (error) {
      if (!isBusy(error) || Date.now() > until) throw error;
      // Opening is synchronous here; a short blocking pause is all a first open costs.
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, pause * (1 + Math.random()));
    }
  }
}

const Names = z.array(z.string());

/** Whether every migration this build knows has been applied: a plain read, no write lock. */
export function journalIsCurrent(raw: BetterSqlite3.Database): boolean {
  const table = raw.prepare("select 1 from sqlite_master where type = 'table' and name = 'orch_migrations'").get();
  if (table === undefined) return false;
  const applied = new Set(Names.parse(raw.prepare("select name from orch_migrations").pluck().all()));
  return MIGRATION_NAMES.every((name) => applied.has(name));
}
