// The newest run without a pass over all of them: `orch status` (the newest run) and `orch list` sort the runs by
// their start and then their id, and an index on the start alone left SQLite to read every run and sort them in a
// temporary tree (13 ms at 200 runs, cold; a journal of thousands of runs would pay that at every status). The
// index on both serves the sort as it stands; the one on the start alone goes.
import type { Kysely, Migration } from "kysely";

export function runsNewestFirst(): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema.createIndex("runs_created_at_id").on("runs").columns(["created_at", "id"]).execute();
      await db.schema.dropIndex("runs_created_at").execute();
    },
  };
}
