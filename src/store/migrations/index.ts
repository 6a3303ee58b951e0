// The ordered list of migrations. Names are numbered and sort in the order they must run; a migration
// once released is never edited, only followed by a new one.
import { Migrator, type Kysely, type Migration, type MigrationProvider } from "kysely";
import { initial } from "./0001_initial.js";
import { leases } from "./0002_leases.js";
import { taskGraph } from "./0003_task_graph.js";
import { reviews } from "./0004_reviews.js";
import { runsNewestFirst } from "./0005_runs_newest_first.js";
import { eventsByType } from "./0006_events_by_type.js";
import type { Dialect } from "./dialect.js";
import { MIGRATION_NAMES, type MigrationName } from "./names.js";

export type { Dialect };

const MIGRATIONS: Record<MigrationName, (dialect: Dialect) => Migration> = {
  "0001_initial": initial,
  "0002_leases": leases,
  "0003_task_graph": () => taskGraph(),
  "0004_reviews": reviews,
  "0005_runs_newest_first": () => runsNewestFirst(),
  "0006_events_by_type": () => eventsByType(),
};

function migrations(dialect: Dialect): Record<string, Migration> {
  return Object.fromEntries(MIGRATION_NAMES.map((name) => [name, MIGRATIONS[name](dialect)]));
}

class StaticProvider implements MigrationProvider {
  constructor(private readonly dialect: Dialect) {}
  async getMigrations(): Promise<Record<string, Migration>> {
    return migrations(this.dialect);
  }
}

export class MigrationError extends Error {
  override readonly name = "MigrationError";
}

export async function migrateToLatest<DB>(db: Kysely<DB>, dialect: Dialect): Promise<void> {
  await migrate(db, dialect, undefined);
}

/** Migrates up to and including `target` only: a journal as an older orch left it (for tests of the migrations). */
export async function migrateTo<DB>(db: Kysely<DB>, dialect: Dialect, target: string): Promise<void> {
  await migrate(db, dialect, target);
}

async function migrate<DB>(db: Kysely<DB>, dialect: Dialect, target: string | undefined): Promise<void> {
  const migrator = new Migrator({
    db,
    provider: new StaticProvider(dialect),
    migrationTableName: "orch_migrations",
    migrationLockTableName: "orch_migrations_lock",
  });
  const { error, results } = await (target === undefined ? migrator.migrateToLatest() : migrator.migrateTo(target));
  if (error !== undefined) {
    const failed = results?.find((r) => r.status === "Error")?.migrationName ?? "unknown";
    throw new MigrationError(`database migration ${failed} failed: ${error instanceof Error ? error.message : String(error)}`, {
      cause: error,
    });
  }
}
