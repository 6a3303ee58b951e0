// A run's events of some kinds without a pass over all of its events: `orch status` asks for a run's notes,
// deliveries, gate decisions, exits and waits, and the index on (run, seq) left SQLite to read every event of the
// run, agent output included, for each of those questions (some 2–5 ms each at 300,000 lines of output, growing
// with the transcript). The index on (run, type, seq) answers each from its own entries.
import type { Kysely, Migration } from "kysely";

export function eventsByType(): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema.createIndex("events_run_type_seq").on("events").columns(["run_id", "type", "seq"]).execute();
    },
  };
}
