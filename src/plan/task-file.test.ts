import { describe, expect, it } from "vitest";
import { PlannedTask } from "../core/plan.js";
import { renderTaskFile, taskFileName } from "./task-file.js";

const db = PlannedTask.parse({ id: "db", title: "Set up the database", goal: "A users table.", acceptance: ["migrations run"], files: [] });
const api = PlannedTask.parse({
  id: "api",
  title: "Login API: POST /login!",
  goal: "POST /login returns a token.\n\nSessions last a day.",
  before: "Anyone can call every route.",
  after: "Routes need a token.",
  acceptance: ["a right password gets a token", "a wrong one gets 401"],
  files: ["src/api.ts", "src/`odd`.ts"],
  testPlan: "Unit tests for the handler.",
  dependsOn: ["db"],
  priority: 2,
  risk: "high",
  verify: ["npm test -- api"],
});
const ui = PlannedTask.parse({ id: "ui", title: "界面", goal: "A form.", acceptance: ["it submits"], files: [], dependsOn: ["api"] });
const order = [db, api, ui];

describe("taskFileName", () => {
  it("numbers from 01 and slugs the title, falling back to the id", () => {
    expect(taskFileName(0, db)).toBe("01-set-up-the-database.md");
    expect(taskFileName(1, api)).toBe("02-login-api-post-login.md");
    expect(taskFileName(2, ui)).toBe("03-ui.md");
  });
  it("widens the number so that 100 tasks or more still sort", () => {
    expect(taskFileName(8, db, 150)).toBe("009-set-up-the-database.md");
    expect(taskFileName(149, db, 150)).toBe("150-set-up-the-database.md");
  });
});

describe("renderTaskFile", () => {
  it("writes every field, criteria as a checklist and dependencies as links", () => {
    expect(renderTaskFile(api, 1, { order, runId: "r-1" })).toBe(
      [
        "# 02. Login API: POST /login!",
        "",
        "Task `api` · priority 2 · risk high · run `r-1`",
        "",
        "## Goal",
        "",
        "POST /login returns a token.\n\nSessions last a day.",
        "",
        "## Before",
        "",
        "Anyone can call every route.",
        "",
        "## After",
        "",
        "Routes need a token.",
        "",
        "## Acceptance criteria",
        "",
        "- [ ] a right password gets a token\n- [ ] a wrong one gets 401",
        "",
        "## Files to touch",
        "",
        "- `src/api.ts`\n- `` src/`odd`.ts ``",
        "",
        "## Test plan",
        "",
        "Unit tests for the handler.",
        "",
        "## Depends on",
        "",
        "- [01-set-up-the-database.md](01-set-up-the-database.md): Set up the database (`db`)",
        "",
        "## Needed by",
        "",
        "- [03-ui.md](03-ui.md): 界面 (`ui`)",
        "",
        "## Verify",
        "",
        "Besides the run's own verify commands:\n\n- `npm test -- api`",
        "",
      ].join("\n"),
    );
  });
  it("leaves out what a task does not have, and says when it can start at once", () => {
    const text = renderTaskFile(db, 0, { order });
    expect(text).toContain("Task `db` · priority 0 · risk low\n");
    expect(text).toContain("## Files to touch\n\nNot known in advance.");
    expect(text).toContain("## Depends on\n\nNothing: it can start at once.");
    for (const heading of ["Before", "After", "Test plan", "Verify"]) expect(text).not.toContain(`## ${heading}`);
    expect(renderTaskFile(ui, 2, { order })).not.toContain("## Needed by");
  });
});
