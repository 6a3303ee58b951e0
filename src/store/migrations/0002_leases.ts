// Supervisor leases: the run row names the process that drives it and until when its lease holds, with a
// fence that grows at every takeover; attempts keep their agent's process start time, so that a later
// supervisor can tell a live agent from a reused pid.
import { sql, type Kysely, type Migration } from "kysely";
import type { Dialect } from "./dialect.js";

export function leases(dialect: Dialect): Migration {
  const int64 = dialect === "postgres" ? "bigint" : "integer";
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema.alterTable("runs").addColumn("lease_owner", "text").execute();
      await db.schema.alterTable("runs").addColumn("lease_until", sql.raw(int64)).execute();
      await db.schema
        .alterTable("runs")
        .addColumn("lease_fence", "integer", (c) => c.notNull().defaultTo(0))
        .execute();
      await db.schema.alterTable("attempts").addColumn("pid_start_time", "text").execute();
    },
  };
}
