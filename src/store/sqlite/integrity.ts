// Whether a SQLite journal file is sound (SQLite's quick_check, read-only), and moving a damaged one aside.
// Invariant: nothing here deletes or rewrites the user's journal; a damaged one is renamed, together with its
// -wal and -shm, under a name not in use, so that SQLite can still open the pair and a person can inspect it.
import { existsSync, renameSync } from "node:fs";
import BetterSqlite3 from "better-sqlite3";
import { z } from "zod";
import { JournalDamagedError } from "../errors.js";
import { addonOption } from "./addon.js";
import { asJournalError } from "./journal-errors.js";
import { sqliteJournalExists } from "./connection.js";

export type JournalHealth = { ok: true; exists: boolean } | { ok: false; error: JournalDamagedError };

const QuickCheck = z.array(z.object({ quick_check: z.string() }));

/** Checks every page and row of the journal at `path` without writing it (quick_check: no index cross-check). */
export function checkSqliteJournal(path: string): JournalHealth {
  let raw: BetterSqlite3.Database | undefined;
  try {
    if (!sqliteJournalExists(path)) return { ok: true, exists: false };
    raw = new BetterSqlite3(path, { readonly: true, fileMustExist: true, ...addonOption() });
    raw.pragma("busy_timeout = 10000");
    const found = QuickCheck.parse(raw.pragma("quick_check")).map((row) => row.quick_check);
    if (found.length === 1 && found[0] === "ok") return { ok: true, exists: true };
    const detail = found.slice(0, 3).join("; ") + (found.length > 3 ? ` (and ${found.length - 3} more problems)` : "");
    return { ok: false, error: new JournalDamagedError(path, "damaged", detail) };
  } catch (error) {
    const journalError = asJournalError(error, path);
    if (journalError instanceof JournalDamagedError) return { ok: false, error: journalError };
    throw journalError;
  } finally {
    raw?.close();
  }
}

export interface MovedAside {
  /** Where the journal is kept now. */
  kept: string;
  /** Every file moved, from → to (the journal, and its -wal and -shm where they were). */
  moved: { from: string; to: string }[];
}

/**
 * Renames the journal at `path` and its -wal/-shm to `<path>.damaged-<UTC time>` (`-2`, `-3` … when taken),
 * so the next command starts a new journal. Only for a journal no process has open.
 */
export function moveJournalAside(path: string, now: Date): MovedAside {
  const stamp = now.toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z");
  let kept = `${path}.damaged-${stamp}`;
  for (let n = 2; [kept, `${kept}-wal`, `${kept}-shm`].some((p) => existsSync(p)); n++) kept = `${path}.damaged-${stamp}-${n}`;
  const moved: { from: string; to: string }[] = [];
  // The -wal first: were the journal renamed and its -wal left, a new journal would replay those frames.
  for (const suffix of ["-wal", "-shm", ""]) {
    const from = `${path}${suffix}`;
    if (!existsSync(from)) continue;
    const to = `${kept}${suffix}`;
    renameSync(from, to);
    moved.push({ from, to });
  }
  return { kept, moved };
}
