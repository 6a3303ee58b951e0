// Reviews: an attempt is the task's implementer's or a reviewer's, and a reviewer's that answered keeps its verdict
// on the commit it judged (core/review.ts). Each role numbers its attempts from 1, so the unique key of an attempt's
// number takes the role in. Postgres alters the constraint in place; SQLite cannot drop a table constraint, so the
// table is rebuilt from its own definition with the new key, its rows copied over, in the migration's transaction.
import { sql, type Kysely, type Migration } from "kysely";
import type { Dialect } from "./dialect.js";

const OLD_KEY = /constraint\s+"attempts_task_number"\s+unique\s*\([^)]*\)/i;
const NEW_COLUMNS = `"role" text default 'implementer' not null, "review" text`;
const NEW_KEY = `constraint "attempts_task_role_number" unique ("run_id", "task_id", "role", "number")`;

export function reviews(dialect: Dialect): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      if (dialect === "postgres") {
        await db.schema.alterTable("attempts").addColumn("role", "text", (c) => c.notNull().defaultTo("implementer")).execute();
        await db.schema.alterTable("attempts").addColumn("review", "text").execute();
        await db.schema.alterTable("attempts").dropConstraint("attempts_task_number").execute();
        await db.schema.alterTable("attempts").addUniqueConstraint("attempts_task_role_number", ["run_id", "task_id", "role", "number"]).execute();
        return;
      }
      const table = await sql<{ sql: string }>`select sql from sqlite_master where type = 'table' and name = 'attempts'`.execute(db);
      const create = table.rows[0]?.sql;
      if (create === undefined || !OLD_KEY.test(create)) throw new Error("the attempts table is not as migration 0003 left it; the journal cannot be migrated");
      const columns = (await sql<{ name: string }>`select name from pragma_table_info('attempts')`.execute(db)).rows.map((c) => `"${c.name}"`).join(", ");
      const rebuilt = create.replace(/^CREATE TABLE\s+"attempts"/i, 'CREATE TABLE "attempts_0004"').replace(OLD_KEY, `${NEW_COLUMNS}, ${NEW_KEY}`);
      await sql.raw(rebuilt).execute(db);
      await sql.raw(`insert into "attempts_0004" (${columns}) select ${columns} from "attempts"`).execute(db);
      await sql`drop table "attempts"`.execute(db);
      await sql`alter table "attempts_0004" rename to "attempts"`.execute(db);
    },
  };
}
