// What the journal's two read paths share, so that they answer alike: the query layer's (`kysely-store.ts`, every
// dialect) and a SQLite reader's (`sqlite/reader.ts`).

/** How many runs `findRuns` returns at most, newest first. */
export const FOUND_RUNS = 20;
/** How many runs `listRuns` returns when the caller names no limit. */
export const LISTED_RUNS = 1000;

/** The LIKE pattern of ids starting with `prefix`: its own `%`, `_` and `\` escaped. */
export function prefixPattern(prefix: string): string {
  return `${prefix.replace(/[%_\\]/g, (c) => `\\${c}`)}%`;
}
