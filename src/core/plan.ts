// The plan: the tasks a planner proposes (or the user writes in a --plan-file), as strict zod schemas, and the
// reading of a model's answer into either a plan whose graph is valid or plain-words errors, each led by its
// path (`tasks[2].dependsOn[0]`), fit to paste back into the planner's prompt. Pure.
import { z } from "zod";
import { validateGraph, type GraphIssue } from "./dag.js";
import { extractJson } from "./json-answer.js";

export const TASK_ID_PATTERN = /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/;
export const MAX_TASK_ID_LENGTH = 40;
export const RISKS = ["low", "medium", "high"] as const;
export type Risk = (typeof RISKS)[number];

const words = z.string().trim().min(1, { message: "must not be empty" });
const taskId = z
  .string()
  .regex(TASK_ID_PATTERN, {
    message: 'must be a short slug: lowercase letters, digits and dashes, not starting or ending with a dash (such as "add-login")',
  })
  .max(MAX_TASK_ID_LENGTH, { message: `must be a short slug of at most ${MAX_TASK_ID_LENGTH} characters` });

export const PlannedTask = z.strictObject({
  id: taskId,
  title: words,
  goal: words,
  /** The state before the task, in words. */
  before: words.optional(),
  /** The state after the task, in words. */
  after: words.optional(),
  /** What must hold when the task is done, beyond the verify commands; a hand-written plan may leave it out. */
  acceptance: z.array(words).default([]),
  /** Files the task is expected to touch; empty when nobody can tell. */
  files: z.array(words).default([]),
  testPlan: words.optional(),
  dependsOn: z.array(taskId).default([]),
  /** Higher runs first among ready tasks. */
  priority: z.number().default(0),
  risk: z.enum(RISKS).default("low"),
  /** Commands added to the run's verify commands for this task. */
  verify: z.array(words).default([]),
});
export type PlannedTask = z.output<typeof PlannedTask>;
export type PlannedTaskInput = z.input<typeof PlannedTask>;

export const Plan = z.strictObject({
  tasks: z.array(PlannedTask).min(1, { message: "the plan has no tasks; it needs at least one" }),
});
export type Plan = z.output<typeof Plan>;
export type PlanInput = z.input<typeof Plan>;

export type PlanPath = readonly (string | number)[];

/** One thing wrong with a plan: where (`path`, and the task's id when it has one) and what, in plain words. */
export interface PlanProblem {
  kind: "shape" | GraphIssue["kind"];
  path: PlanPath;
  taskId: string | undefined;
  /** For an unknown key: the key, which `path` leads to the object of. */
  key?: string;
  message: string;
}

export type PlanCheck = { ok: true; plan: Plan } | { ok: false; problems: PlanProblem[] };
export type PlanParse = { ok: true; plan: Plan } | { ok: false; errors: string[] };

const TASK_KEYS = Object.keys(PlannedTask.shape).join(", ");
const MAX_ERRORS = 20;

/** Validates a parsed value as a plan: first its shape, then (once the shape holds) its dependency graph. */
export function checkPlan(value: unknown): PlanCheck {
  const parsed = Plan.safeParse(value, { reportInput: true });
  if (!parsed.success) {
    const problems = parsed.error.issues.flatMap((issue): PlanProblem[] => {
      const path = issue.path.filter((p): p is string | number => typeof p !== "symbol");
      const taskId = taskIdAt(value, path);
      if (issue.code !== "unrecognized_keys") return [{ kind: "shape", path, taskId, message: describeIssue(issue) }];
      // One problem per key, so that each is shown at its own line.
      return issue.keys.map((key) => ({ kind: "shape", path, taskId, key, message: describeIssue({ ...issue, keys: [key] }) }));
    });
    // The graph's problems (an unknown dependency, a cycle) are told in the same round, as far as the ids and
    // dependencies can be read.
    const graphOnly = GraphShape.safeParse(value);
    return { ok: false, problems: [...problems, ...(graphOnly.success ? graphProblems(graphOnly.data.tasks) : [])] };
  }
  const problems = graphProblems(parsed.data.tasks);
  return problems.length === 0 ? { ok: true, plan: parsed.data } : { ok: false, problems };
}

/** Just enough of a plan to check its graph while other fields are wrong. */
const GraphShape = z.object({
  tasks: z.array(z.object({ id: z.string().min(1), dependsOn: z.array(z.string()).default([]) })).min(1),
});

function graphProblems(tasks: readonly { id: string; dependsOn: readonly string[] }[]): PlanProblem[] {
  return validateGraph(tasks).map(
    (issue): PlanProblem => ({
      kind: issue.kind,
      path: ["tasks", ...issue.path],
      taskId: tasks[issue.index]?.id,
      message: issue.message,
    }),
  );
}

/**
 * Reads the plan out of a model's answer: the whole text when it is JSON, else the first ```json (or bare ```)
 * block that parses, else the first balanced top-level `{...}`.
 */
export function parsePlanJson(text: string): PlanParse {
  const found = extractJson(text, '{"tasks": [...]}');
  if (!found.ok) return { ok: false, errors: [found.error] };
  const checked = checkPlan(found.value);
  if (checked.ok) return checked;
  const errors = checked.problems.slice(0, MAX_ERRORS).map((problem) => `${formatPath(problem.path)}: ${problem.message}`);
  const more = checked.problems.length - MAX_ERRORS;
  return { ok: false, errors: more > 0 ? [...errors, `… and ${more} more problems of the same kinds`] : errors };
}

/** `["tasks", 2, "dependsOn", 0]` → `tasks[2].dependsOn[0]`; the empty path is "the plan". */
export function formatPath(path: PlanPath): string {
  if (path.length === 0) return "the plan";
  return path.map((part, i) => (typeof part === "number" ? `[${part}]` : i === 0 ? part : `.${part}`)).join("");
}

/** One zod issue in plain words, without its path. */
export function describeIssue(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case "unrecognized_keys": {
      const keys = issue.keys.map((key) => `"${key}"`).join(", ");
      const allowed = issue.path.length === 0 ? "tasks" : TASK_KEYS;
      return `unknown key${issue.keys.length > 1 ? "s" : ""} ${keys}; allowed keys: ${allowed}`;
    }
    case "invalid_type":
      return issue.input === undefined
        ? `missing; expected ${kindName(issue.expected)}`
        : `expected ${kindName(issue.expected)}, got ${kindOf(issue.input)}`;
    case "invalid_value":
      return `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")}; got ${JSON.stringify(issue.input)}`;
    default:
      return issue.message;
  }
}

function taskIdAt(value: unknown, path: PlanPath): string | undefined {
  if (path[0] !== "tasks" || typeof path[1] !== "number") return undefined;
  const tasks = isRecord(value) ? value["tasks"] : undefined;
  const task: unknown = Array.isArray(tasks) ? tasks[path[1]] : undefined;
  const id = isRecord(task) ? task["id"] : undefined;
  return typeof id === "string" && id !== "" ? id : undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function kindName(expected: string): string {
  return expected === "array" ? "a list" : expected === "object" ? "an object" : `a ${expected}`;
}

function kindOf(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "number" && !Number.isFinite(value)) return String(value);
  if (typeof value === "object") return "an object";
  const shown = JSON.stringify(value) ?? String(value);
  return `a ${typeof value} (${shown.length > 40 ? `${shown.slice(0, 39)}…` : shown})`;
}
