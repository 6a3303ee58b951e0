// What the journal's two read paths share, so that they answer alike: the query layer's (`kysely-store.ts`, every
// dialect) and a SQLite reader's (`sqlite/reader.ts`).
import type { EventQuery } from "./store.js";

/** How many runs `findRuns` returns at most, newest first. */
export const FOUND_RUNS = 20;
/** How many runs `listRuns` returns when the caller names no limit. */
export const LISTED_RUNS = 1000;

/** The LIKE pattern of ids starting with `prefix`: its own `%`, `_` and `\` escaped. */
export function prefixPattern(prefix: string): string {
  return `${prefix.replace(/[%_\\]/g, (c) => `\\${c}`)}%`;
}

/**
 * Whether `query` asks for a whole run's events of some kinds (`orch status`: its notes, deliveries, decisions,
 * exits), with no page to walk. Such a query orders by `+seq`, an expression, not the column: otherwise SQLite walks
 * every event of the run in order through `events_run_seq`, agent output included, where `events_run_type_seq`
 * (migration 0006) holds just the few rows asked for, which are then sorted. A paged or per-attempt read keeps the
 * plain order: there, the walk in order is what stops early.
 */
export function wholeRunOfKinds(query: EventQuery): boolean {
  return (
    query.runId !== undefined &&
    query.types !== undefined &&
    query.types.length > 0 &&
    query.attemptId === undefined &&
    query.afterSeq === undefined &&
    query.limit === undefined
  );
}
