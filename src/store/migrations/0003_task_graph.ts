// The task graph: a task's role (implementer or integrator), its dependencies, priority, risk, place in the
// plan and the planner's spec of it (before/after, acceptance, files, test plan), and the merge commit that
// integrated it into the run branch.
import type { Kysely, Migration } from "kysely";

export function taskGraph(): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      const add = (column: string, type: "text" | "integer", build?: (c: import("kysely").ColumnDefinitionBuilder) => import("kysely").ColumnDefinitionBuilder) =>
        db.schema.alterTable("tasks").addColumn(column, type, build ?? ((c) => c)).execute();
      await add("role", "text", (c) => c.notNull().defaultTo("implementer"));
      await add("depends_on", "text", (c) => c.notNull().defaultTo("[]"));
      await add("priority", "integer", (c) => c.notNull().defaultTo(0));
      await add("risk", "text", (c) => c.notNull().defaultTo("low"));
      await add("position", "integer", (c) => c.notNull().defaultTo(0));
      await add("spec", "text");
      await add("integrated_sha", "text");
    },
  };
}
