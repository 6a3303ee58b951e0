// The migrations' names, in the order they run, apart from the migrations themselves: whether a journal is current
// is a question a reader asks without loading the query layer the migrations are written in (`sqlite/reader.ts`).
// A new migration adds its name here; `index.ts` then needs its migration under that name to compile.
export const MIGRATION_NAMES = ["0001_initial", "0002_leases", "0003_task_graph", "0004_reviews", "0005_runs_newest_first", "0006_events_by_type"] as const;

export type MigrationName = (typeof MIGRATION_NAMES)[number];
