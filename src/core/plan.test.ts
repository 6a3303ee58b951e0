import { describe, expect, it } from "vitest";
import { checkPlan, formatPath, parsePlanJson, Plan, PlannedTask, type PlannedTaskInput } from "./plan.js";

const api: PlannedTaskInput = { id: "api", title: "Login API", goal: "POST /login works", acceptance: ["returns a token"], files: ["src/api.ts"] };
const ui: PlannedTaskInput = { ...api, id: "ui", title: "Login form", dependsOn: ["api"] };
const json = (value: unknown) => JSON.stringify(value);

function errorsOf(text: string): string[] {
  const parsed = parsePlanJson(text);
  if (parsed.ok) throw new Error("expected errors, got a plan");
  return parsed.errors;
}

describe("Plan schema", () => {
  it("fills the defaults and keeps the optional fields", () => {
    expect(PlannedTask.parse({ ...api, before: "no login", testPlan: "unit tests" })).toEqual({
      ...api,
      before: "no login",
      testPlan: "unit tests",
      dependsOn: [],
      priority: 0,
      risk: "low",
      verify: [],
    });
  });
  it("accepts ids that are short slugs and refuses others", () => {
    for (const id of ["a", "add-login", "v2", "db-9-x"]) expect(PlannedTask.safeParse({ ...api, id }).success).toBe(true);
    for (const id of ["", "Add", "add_login", "-a", "a-", "a b", "x".repeat(41)]) expect(PlannedTask.safeParse({ ...api, id }).success).toBe(false);
  });
});

describe("parsePlanJson", () => {
  it("reads the whole answer, a ```json block, or the first {...}", () => {
    const plan = { tasks: [api, ui] };
    for (const text of [
      json(plan),
      `Here is the plan:\n\`\`\`json\n${JSON.stringify(plan, null, 2)}\n\`\`\`\nGood luck.`,
      `Plan:\n\`\`\`\n${json(plan)}\n\`\`\``,
      `Sure! ${json(plan)} Let me know {if} you need more.`,
    ]) {
      const parsed = parsePlanJson(text);
      expect(parsed.ok && parsed.plan.tasks.map((t) => t.id)).toEqual(["api", "ui"]);
    }
  });
  it("prefers a ```json block over an earlier unlabelled one, and skips braces inside strings", () => {
    const text = `\`\`\`\nnot json\n\`\`\`\n\`\`\`json\n${json({ tasks: [{ ...api, goal: "handle { and }" }] })}\n\`\`\``;
    const parsed = parsePlanJson(text);
    expect(parsed.ok && parsed.plan.tasks[0]?.goal).toBe("handle { and }");
    const inline = parsePlanJson(`prefix ${json({ tasks: [{ ...api, title: 'say "}" twice' }] })} suffix`);
    expect(inline.ok && inline.plan.tasks[0]?.title).toBe('say "}" twice');
  });
  it("says when there is no JSON, or when it does not parse", () => {
    expect(errorsOf("I could not make a plan.")).toEqual([
      'the answer holds no JSON object; reply with one JSON object {"tasks": [...]} in a ```json block',
    ]);
    expect(errorsOf('```json\n{"tasks": [}\n```')[0]).toMatch(/^the JSON in the answer does not parse \(.+\); reply with one valid JSON object/);
  });
  it("names each field that is wrong by its path, in plain words", () => {
    const bad = {
      tasks: [
        { ...api, id: "Api_1", risk: "urgent", priority: "high" },
        { ...ui, title: "  ", acceptance: [], descripton: "x", notes: 1 },
        { id: "db", goal: "a database" },
      ],
      summary: "x",
    };
    expect(errorsOf(json(bad))).toEqual([
      'tasks[0].id: must be a short slug: lowercase letters, digits and dashes, not starting or ending with a dash (such as "add-login")',
      'tasks[0].priority: expected a number, got a string ("high")',
      'tasks[0].risk: must be one of "low", "medium", "high"; got "urgent"',
      "tasks[1].title: must not be empty",
      'tasks[1]: unknown key "descripton"; allowed keys: id, title, goal, before, after, acceptance, files, testPlan, dependsOn, priority, risk, verify',
      'tasks[1]: unknown key "notes"; allowed keys: id, title, goal, before, after, acceptance, files, testPlan, dependsOn, priority, risk, verify',
      "tasks[2].title: missing; expected a string",
      'the plan: unknown key "summary"; allowed keys: tasks',
      'tasks[1].dependsOn[0]: task "ui" depends on unknown task id "api"; known ids: Api_1, ui, db',
    ]);
  });
  it("refuses a plan that is not an object with tasks, or has none", () => {
    expect(errorsOf("[1, 2]")).toEqual(["the plan: expected an object, got a list"]);
    expect(errorsOf('{"tasks": []}')).toEqual(["tasks: the plan has no tasks; it needs at least one"]);
    expect(errorsOf('{"tasks": {"a": 1}}')).toEqual(["tasks: expected a list, got an object"]);
  });
  it("accepts a hand-written plan of ids, titles, goals and dependencies alone", () => {
    const minimal = { tasks: [{ id: "api", title: "the API", goal: "add the API" }, { id: "ui", title: "the UI", goal: "add the UI", dependsOn: ["api"] }] };
    const parsed = parsePlanJson(json(minimal));
    expect(parsed.ok).toBe(true);
    if (parsed.ok) expect(parsed.plan.tasks[1]).toMatchObject({ acceptance: [], files: [], dependsOn: ["api"], priority: 0, risk: "low", verify: [] });
  });
  it("names an unknown dependency in the same round as a wrong field", () => {
    const bad = { tasks: [{ id: "api", title: "the API", goal: "add the API", risk: "urgent" }, { id: "ui", title: "the UI", goal: "add the UI", dependsOn: ["db"] }] };
    expect(errorsOf(json(bad))).toEqual([
      'tasks[0].risk: must be one of "low", "medium", "high"; got "urgent"',
      'tasks[1].dependsOn[0]: task "ui" depends on unknown task id "db"; known ids: api, ui',
    ]);
  });
  it("reports graph problems once the shape holds", () => {
    const several = { tasks: [api, ui, { ...api, id: "web", dependsOn: ["db"] }, { ...api, id: "x", dependsOn: ["x"] }] };
    expect(errorsOf(json(several))).toEqual([
      'tasks[2].dependsOn[0]: task "web" depends on unknown task id "db"; known ids: api, ui, web, x',
      'tasks[3].dependsOn[0]: task "x" depends on itself',
    ]);
    expect(errorsOf(json({ tasks: [api, ui, { ...api, id: "web", dependsOn: ["db"] }] }))).toEqual([
      'tasks[2].dependsOn[0]: task "web" depends on unknown task id "db"; known ids: api, ui, web',
    ]);
    expect(errorsOf(json({ tasks: [api, { ...ui, id: "api", dependsOn: [] }] }))).toEqual(['tasks[1].id: duplicate task id "api" (tasks[0] has it too)']);
    expect(errorsOf(json({ tasks: [{ ...api, dependsOn: ["api"] }] }))).toEqual(['tasks[0].dependsOn[0]: task "api" depends on itself']);
    expect(errorsOf(json({ tasks: [{ ...api, dependsOn: ["ui"] }, ui] }))).toEqual([
      "tasks[0].dependsOn[0]: dependency cycle: api → ui → api (each task depends on the next, so none of them can start)",
    ]);
  });
  it("caps a long list of errors", () => {
    const tasks = Array.from({ length: 25 }, (_, i) => ({ ...api, id: `t${i}`, title: "" }));
    const errors = errorsOf(json({ tasks }));
    expect(errors).toHaveLength(21);
    expect(errors[20]).toBe("… and 5 more problems of the same kinds");
  });
});

describe("checkPlan", () => {
  it("gives each problem its path and its task's id", () => {
    const checked = checkPlan({ tasks: [api, { ...ui, title: "" }] });
    expect(checked).toEqual({
      ok: false,
      problems: [{ kind: "shape", path: ["tasks", 1, "title"], taskId: "ui", message: "must not be empty" }],
    });
  });
  it("returns the parsed plan", () => {
    const checked = checkPlan({ tasks: [api, ui] });
    expect(checked.ok && checked.plan).toEqual(Plan.parse({ tasks: [api, ui] }));
  });
  it("formats paths", () => {
    expect(formatPath(["tasks", 2, "dependsOn", 0])).toBe("tasks[2].dependsOn[0]");
    expect(formatPath([])).toBe("the plan");
  });
});
