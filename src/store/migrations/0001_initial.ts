// The first schema: runs, tasks and attempts (projections) and the append-only events table.
// Forward-only: there is no `down`; a later change is a new numbered migration.
import { sql, type Kysely, type Migration } from "kysely";
import type { Dialect } from "./dialect.js";

export function initial(dialect: Dialect): Migration {
  // Both dialects keep epoch milliseconds; Postgres needs 64-bit integers and a bigserial sequence.
  const int64 = dialect === "postgres" ? "bigint" : "integer";
  const real = dialect === "postgres" ? "double precision" : "real";
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable("runs")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("goal", "text", (c) => c.notNull())
        .addColumn("status", "text", (c) => c.notNull())
        .addColumn("reason", "text")
        .addColumn("repo_root", "text", (c) => c.notNull())
        .addColumn("base_branch", "text", (c) => c.notNull())
        .addColumn("base_sha", "text", (c) => c.notNull())
        .addColumn("branch", "text", (c) => c.notNull())
        .addColumn("agent", "text", (c) => c.notNull())
        .addColumn("model", "text")
        .addColumn("fallback_models", "text", (c) => c.notNull())
        .addColumn("criteria", "text", (c) => c.notNull())
        .addColumn("limits", "text", (c) => c.notNull())
        .addColumn("config", "text", (c) => c.notNull())
        .addColumn("created_at", sql.raw(int64), (c) => c.notNull())
        .addColumn("started_at", sql.raw(int64))
        .addColumn("ended_at", sql.raw(int64))
        .addColumn("pid", "integer")
        .addColumn("pid_start_time", "text")
        .addColumn("host", "text")
        .addColumn("detached", "integer", (c) => c.notNull().defaultTo(0))
        .addColumn("stop_requested", "text")
        .addColumn("attempts", "integer", (c) => c.notNull().defaultTo(0))
        .addColumn("progress", sql.raw(real), (c) => c.notNull().defaultTo(0))
        .addColumn("cost_usd", sql.raw(real), (c) => c.notNull().defaultTo(0))
        .addColumn("tokens_in", sql.raw(int64), (c) => c.notNull().defaultTo(0))
        .addColumn("tokens_out", sql.raw(int64), (c) => c.notNull().defaultTo(0))
        .addColumn("report", "text")
        .execute();
      await db.schema.createIndex("runs_created_at").on("runs").column("created_at").execute();

      await db.schema
        .createTable("tasks")
        .addColumn("run_id", "text", (c) => c.notNull().references("runs.id"))
        .addColumn("id", "text", (c) => c.notNull())
        .addColumn("title", "text", (c) => c.notNull())
        .addColumn("goal", "text", (c) => c.notNull())
        .addColumn("criteria", "text", (c) => c.notNull())
        .addColumn("status", "text", (c) => c.notNull())
        .addColumn("reason", "text")
        .addColumn("branch", "text", (c) => c.notNull())
        .addColumn("worktree", "text", (c) => c.notNull())
        .addColumn("attempts", "integer", (c) => c.notNull().defaultTo(0))
        .addColumn("progress", sql.raw(real), (c) => c.notNull().defaultTo(0))
        .addColumn("commit_sha", "text")
        .addColumn("created_at", sql.raw(int64), (c) => c.notNull())
        .addColumn("started_at", sql.raw(int64))
        .addColumn("ended_at", sql.raw(int64))
        .addColumn("waiting_until", sql.raw(int64))
        .addColumn("waiting_reason", "text")
        .addPrimaryKeyConstraint("tasks_pk", ["run_id", "id"])
        .execute();

      await db.schema
        .createTable("attempts")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("run_id", "text", (c) => c.notNull().references("runs.id"))
        .addColumn("task_id", "text", (c) => c.notNull())
        .addColumn("number", "integer", (c) => c.notNull())
        .addColumn("agent", "text", (c) => c.notNull())
        .addColumn("model", "text")
        .addColumn("status", "text", (c) => c.notNull())
        .addColumn("pid", "integer")
        .addColumn("session_id", "text")
        .addColumn("transcript", "text", (c) => c.notNull())
        .addColumn("started_at", sql.raw(int64), (c) => c.notNull())
        .addColumn("ended_at", sql.raw(int64))
        .addColumn("exit_code", "integer")
        .addColumn("signal", "text")
        .addColumn("exit_reason", "text")
        .addColumn("duration_ms", sql.raw(int64))
        .addColumn("failure", "text")
        .addColumn("progress", sql.raw(real))
        .addColumn("usage", "text")
        .addColumn("cost_usd", sql.raw(real))
        .addColumn("criteria", "text")
        .addColumn("commit_sha", "text")
        .addUniqueConstraint("attempts_task_number", ["run_id", "task_id", "number"])
        .execute();

      const seq =
        dialect === "postgres"
          ? db.schema.createTable("events").addColumn("seq", "bigserial", (c) => c.primaryKey())
          : db.schema.createTable("events").addColumn("seq", "integer", (c) => c.primaryKey().autoIncrement());
      await seq
        .addColumn("at", sql.raw(int64), (c) => c.notNull())
        .addColumn("run_id", "text", (c) => c.notNull())
        .addColumn("task_id", "text")
        .addColumn("attempt_id", "text")
        .addColumn("type", "text", (c) => c.notNull())
        .addColumn("data", "text", (c) => c.notNull())
        .execute();
      await db.schema.createIndex("events_run_seq").on("events").columns(["run_id", "seq"]).execute();
      await db.schema.createIndex("events_attempt_seq").on("events").columns(["attempt_id", "seq"]).execute();
    },
  };
}
