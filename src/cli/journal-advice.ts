// What a user is told to do about a journal orch cannot use: the one wording, for the error every command
// maps (program.ts) and for `orch doctor`.
import { basename, dirname } from "node:path";
import type { JournalDamagedError } from "../store/errors.js";

/** What to do about a journal orch cannot use, in the words of the one who has to do it. */
export function journalAdvice(error: JournalDamagedError): string {
  const dir = dirname(error.file);
  if (error.problem === "damaged") {
    return (
      "orch cannot read its runs from it. `orch doctor --repair` moves it aside " +
      `(kept as ${dir}/${basename(error.file)}.damaged-<time>; nothing is deleted) and a new journal starts; ` +
      "the runs' branches and worktrees stay as they are."
    );
  }
  return `orch keeps its journal, logs and reports in the directory ${dir}: make it a directory orch can read and write (move a file of that name aside), then try again.`;
}
