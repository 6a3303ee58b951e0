import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { UsageError } from "../core/errors.js";
import { loadPlanFile, PlanFileError } from "./load.js";

const dir = mkdtempSync(join(tmpdir(), "orch-plan-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let counter = 0;
function write(text: string, ext = "yaml"): string {
  const path = join(dir, `plan-${++counter}.${ext}`);
  writeFileSync(path, text);
  return path;
}

/** The error loading `path` throws, checked to be a PlanFileError. */
function failure(path: string): PlanFileError {
  try {
    loadPlanFile(path);
  } catch (error) {
    if (error instanceof PlanFileError) return error;
    throw error;
  }
  throw new Error(`${path} loaded without error`);
}

const GOOD = `# the login feature
tasks:
  - id: api
    title: Login API
    goal: POST /login returns a token
    before:
    acceptance:
      - a right password gets a token
    files: [src/api.ts]
    priority: 2
  - id: ui
    title: Login form
    goal: a form that calls the API
    acceptance: [the form shows errors]
    files: []
    dependsOn: [api]
    risk: high
    verify: [npm run e2e]
`;

describe("loadPlanFile", () => {
  it("reads a YAML plan, with defaults, a blank key meaning unset", () => {
    const plan = loadPlanFile(write(GOOD));
    expect(plan.tasks.map((t) => [t.id, t.priority, t.risk, t.dependsOn, t.verify])).toEqual([
      ["api", 2, "low", [], []],
      ["ui", 0, "high", ["api"], ["npm run e2e"]],
    ]);
    expect(plan.tasks[0]?.before).toBeUndefined();
  });

  it("reads a JSON plan, tabs and all", () => {
    const text = '{\n\t"tasks": [\n\t\t{"id": "a", "title": "A", "goal": "g", "acceptance": ["ok"], "files": []}\n\t]\n}\n';
    expect(loadPlanFile(write(text, "json")).tasks[0]?.id).toBe("a");
  });

  it("reads a valid JSON plan without the YAML parser, and still locates a problem in one", () => {
    const good = { tasks: [{ id: "a", title: "A", goal: "g" }, { id: "b", title: "B", goal: "g", dependsOn: ["a"], before: null }] };
    expect(loadPlanFile(write(JSON.stringify(good), "json")).tasks.map((t) => [t.id, t.dependsOn, t.before])).toEqual([
      ["a", [], undefined],
      ["b", ["a"], undefined],
    ]);
    const bad = write('{\n  "tasks": [\n    {"id": "a", "title": "A", "goal": "g"},\n    {"id": "b", "title": "B", "goal": "g", "dependsOn": ["c"]}\n  ]\n}\n', "json");
    expect(failure(bad).message).toMatch(new RegExp(`^${escape(bad)}:4: tasks\\[1\\]\\.dependsOn\\[0\\]: task "b" depends on unknown task id "c"`));
    // JSON.parse would keep the second id; the YAML parser refuses the pair, as it always did.
    const twice = write('{"tasks": [{"id": "a", "title": "A", "goal": "{\\"id\\": 1}", "i\\u0064": "b"}]}', "json");
    expect(failure(twice).message).toMatch(new RegExp(`^${escape(twice)}:1:\\d+: not valid JSON: Map keys must be unique`));
    const nested = { tasks: [{ id: "a", title: "A", goal: "g", dependsOn: [] }, { id: "b", title: "A", goal: "g" }] };
    expect(loadPlanFile(write(JSON.stringify(nested), "json")).tasks).toHaveLength(2);
  });

  it("says a missing file or a directory is not a plan", () => {
    const missing = failure(join(dir, "nope.yaml"));
    expect(missing).toBeInstanceOf(UsageError);
    expect(missing.message).toBe(`plan file ${join(dir, "nope.yaml")} does not exist`);
    expect(missing.hint).toBe("check the path given to --plan-file");
    const folder = join(dir, "folder.yaml");
    mkdirSync(folder);
    expect(failure(folder).message).toBe(`plan file ${folder} is a directory`);
  });

  it("refuses an empty file and a plan without tasks", () => {
    const empty = write("  \n\n");
    expect(failure(empty).message).toBe(`plan file ${empty} is empty`);
    expect(failure(empty).hint).toMatch(/^write the tasks to run; a plan file is \{ tasks: \[ \{ id, title, goal, acceptance/);
    for (const text of ["# nothing yet\n", "tasks: []\n", "tasks:\n", "{}"]) {
      const path = write(text);
      expect(failure(path).message).toBe(`plan file ${path} has no tasks`);
    }
  });

  it("points at the line and column of a syntax error", () => {
    const yaml = write("tasks:\n  - id: a\n    title: [unclosed\n");
    expect(failure(yaml).message).toMatch(new RegExp(`^${escape(yaml)}:\\d+:\\d+: not valid YAML: `));
    const json = write('{\n  "tasks": [\n    {"id": "a",, "title": "x"}\n  ]\n}', "json");
    expect(failure(json).message).toMatch(new RegExp(`^${escape(json)}:3:\\d+: not valid JSON: `));
    const twice = write("tasks:\n  - id: a\n    id: b\n");
    expect(failure(twice).message).toBe(`${twice}:3:5: not valid YAML: Map keys must be unique`);
  });

  it("refuses a top-level list", () => {
    const path = write("- id: a\n  title: A\n");
    expect(failure(path).message).toBe(`${path}:1: the top level is a list; a plan is an object with a "tasks" list`);
    expect(failure(path).hint).toBe('put the list under a "tasks" key');
  });

  it("names an unknown key at its own line, with the task's id", () => {
    const path = write(GOOD.replace("    risk: high\n", "    risk: high\n    owner: bob\n"));
    const error = failure(path);
    expect(error.message).toBe(
      `${path}:18: tasks[1] (task "ui"): unknown key "owner"; allowed keys: id, title, goal, before, after, acceptance, files, testPlan, dependsOn, priority, risk, verify`,
    );
    expect(error.hint).toMatch(/^a plan file is \{ tasks:/);
    expect(error.problems).toEqual([
      expect.objectContaining({ kind: "shape", path: ["tasks", 1], taskId: "ui", key: "owner", line: 18 }),
    ]);
  });

  it("points a wrong value at its line and a missing one at its task", () => {
    const wrong = write(GOOD.replace("risk: high", "risk: urgent"));
    expect(failure(wrong).message).toBe(`${wrong}:17: tasks[1].risk (task "ui"): must be one of "low", "medium", "high"; got "urgent"`);
    const missing = write(GOOD.replace("    goal: a form that calls the API\n", ""));
    expect(failure(missing).message).toBe(`${missing}:11: tasks[1].goal (task "ui"): missing; expected a string`);
    const badId = write(GOOD.replace("id: ui", "id: Login_UI").replace("dependsOn: [api]", "dependsOn: []"));
    expect(failure(badId).message).toBe(
      `${badId}:11: tasks[1].id (task "Login_UI"): must be a short slug: lowercase letters, digits and dashes, not starting or ending with a dash (such as "add-login")`,
    );
  });

  it("names an unknown dependency at its line, with the known ids", () => {
    const path = write(GOOD.replace("dependsOn: [api]", "dependsOn: [api, db]"));
    const error = failure(path);
    expect(error.message).toBe(`${path}:16: tasks[1].dependsOn[1]: task "ui" depends on unknown task id "db"; known ids: api, ui`);
    expect(error.hint).toBe("list in dependsOn only ids of tasks in this file, or remove the dependency");
  });

  it("spells out a cycle and where it starts", () => {
    const path = write(GOOD.replace("    priority: 2\n", "    priority: 2\n    dependsOn:\n      - ui\n"));
    const error = failure(path);
    expect(error.message).toBe(
      `${path}:12: tasks[0].dependsOn[0]: dependency cycle: api → ui → api (each task depends on the next, so none of them can start)`,
    );
    expect(error.hint).toBe("remove one dependency of the cycle so that its tasks can run one after another");
  });

  it("names duplicate ids and self-dependencies", () => {
    const dup = write(GOOD.replace("id: ui", "id: api").replace("dependsOn: [api]", "dependsOn: []"));
    expect(failure(dup).message).toBe(`${dup}:11: tasks[1].id: duplicate task id "api" (tasks[0] has it too)`);
    expect(failure(dup).hint).toBe("give every task its own id");
    const self = write(GOOD.replace("dependsOn: [api]", "dependsOn: [ui]"));
    expect(failure(self).message).toBe(`${self}:16: tasks[1].dependsOn[0]: task "ui" depends on itself`);
  });

  it("lists several problems, one a line, with the hint of each kind", () => {
    const path = write(GOOD.replace("title: Login API", "title: ''").replace("risk: high", "risk: huge"));
    const error = failure(path);
    expect(error.message).toBe(
      [
        `plan file ${path} has 2 problems:`,
        `  ${path}:4: tasks[0].title (task "api"): must not be empty`,
        `  ${path}:17: tasks[1].risk (task "ui"): must be one of "low", "medium", "high"; got "huge"`,
      ].join("\n"),
    );
    expect(error.problems.map((p) => p.line)).toEqual([4, 17]);
    const graph = write(GOOD.replace("id: ui", "id: api").replace("dependsOn: [api]", "dependsOn: [db]"));
    expect(failure(graph).message.split("\n")).toHaveLength(3);
    expect(failure(graph).hint).toBe(
      "give every task its own id; list in dependsOn only ids of tasks in this file, or remove the dependency",
    );
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
