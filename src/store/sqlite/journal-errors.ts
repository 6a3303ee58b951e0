// Which failures of SQLite or the file system mean the journal itself cannot be used: those become one
// JournalDamagedError naming the file; everything else (a constraint, a busy lock, a bug) passes unchanged.
import { z } from "zod";
import { toError } from "../../core/errors.js";
import { JournalDamagedError, type JournalProblem } from "../errors.js";

/** An error that carries a code: better-sqlite3's SqliteError (`SQLITE_…`) or Node's (`ENOTDIR`, …). */
const Coded = z.object({ code: z.string(), message: z.string() });

const DAMAGED = /^SQLITE_(CORRUPT|NOTADB)/;
const INACCESSIBLE = /^SQLITE_(CANTOPEN|IOERR|READONLY|PERM|AUTH)|^(ENOTDIR|EEXIST|EISDIR|EACCES|EPERM|EROFS|ELOOP|EIO)$/;

export function problemOf(error: unknown): JournalProblem | undefined {
  const coded = Coded.safeParse(error);
  if (!coded.success) return undefined;
  if (DAMAGED.test(coded.data.code)) return "damaged";
  if (INACCESSIBLE.test(coded.data.code)) return "inaccessible";
  return undefined;
}

/** `fn`'s result; what it throws, as `asJournalError` tells it. */
export function guardJournal<T>(file: string, fn: () => T): T {
  try {
    return fn();
  } catch (error) {
    throw asJournalError(error, file);
  }
}

/** `error` as a JournalDamagedError about `file` when it says the journal cannot be used; otherwise as it was. */
export function asJournalError(error: unknown, file: string): Error {
  // A migration that met the damage is a MigrationError whose cause says so: look down the chain.
  for (let at: unknown = error, depth = 0; at !== undefined && depth < 4; at = at instanceof Error ? at.cause : undefined, depth++) {
    if (at instanceof JournalDamagedError) return at;
    const problem = problemOf(at);
    const coded = Coded.safeParse(at);
    if (problem !== undefined && coded.success) {
      return new JournalDamagedError(file, problem, `${describe(coded.data.message)} (${coded.data.code})`, { cause: at });
    }
  }
  return toError(error);
}

/** Node's messages repeat the call and the path ("ENOTDIR: not a directory, mkdir '/x/.orch'"): keep the words. */
function describe(message: string): string {
  const match = /^E[A-Z]+: ([^,]+)/.exec(message);
  return match?.[1] ?? message;
}
