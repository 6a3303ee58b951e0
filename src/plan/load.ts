// Reads the user's own plan (`--plan-file FILE`, YAML or JSON) and accepts it only whole: every problem — a
// missing or empty file, bad syntax, a wrong field, a broken dependency graph — is a UsageError that names the
// file, the line, the task and what to do, so that nothing is written for a plan orch cannot run.
import { readFileSync } from "node:fs";
import { extname } from "node:path";
import { LineCounter, parseDocument } from "yaml";
import { lineOf } from "../core/yaml-line.js";
import { UsageError } from "../core/errors.js";
import { checkPlan, formatPath, type Plan, type PlanProblem } from "../core/plan.js";

export interface LocatedProblem extends PlanProblem {
  /** 1-based line in the file, when the problem points at something in it. */
  line: number | undefined;
}

export class PlanFileError extends UsageError {
  override readonly name = "PlanFileError";
  readonly file: string;
  readonly problems: readonly LocatedProblem[];
  constructor(file: string, message: string, options: { hint: string; problems?: readonly LocatedProblem[]; cause?: unknown }) {
    super(message, options);
    this.file = file;
    this.problems = options.problems ?? [];
  }
}

const SHAPE_HINT =
  "a plan file is { tasks: [ { id, title, goal, acceptance: [..], files: [..] } ] }, each task optionally with before, after, testPlan, dependsOn, priority, risk and verify";
const HINTS: Record<PlanProblem["kind"], string> = {
  shape: SHAPE_HINT,
  "duplicate-id": "give every task its own id",
  "unknown-dependency": "list in dependsOn only ids of tasks in this file, or remove the dependency",
  "self-dependency": "remove the task's own id from its dependsOn",
  cycle: "remove one dependency of the cycle so that its tasks can run one after another",
};

/** The plan in `path`, valid in shape and graph; throws PlanFileError otherwise. */
export function loadPlanFile(path: string): Plan {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    const code = error instanceof Error && "code" in error ? error.code : undefined;
    const what = code === "ENOENT" ? "does not exist" : code === "EISDIR" ? "is a directory" : `cannot be read (${String(error)})`;
    throw new PlanFileError(path, `plan file ${path} ${what}`, { hint: "check the path given to --plan-file", cause: error });
  }
  return parsePlanFile(text, path);
}

/** The plan in `text`, read from `source` (named in every message); YAML, of which JSON is a subset. */
export function parsePlanFile(text: string, source: string): Plan {
  const language = extname(source).toLowerCase() === ".json" ? "JSON" : "YAML";
  const empty = () =>
    new PlanFileError(source, `plan file ${source} has no tasks`, { hint: `list the tasks under "tasks"; ${SHAPE_HINT}` });
  if (text.trim() === "") {
    throw new PlanFileError(source, `plan file ${source} is empty`, { hint: `write the tasks to run; ${SHAPE_HINT}` });
  }
  // Most big plans are written by programs, as JSON: JSON.parse reads them some fifty times faster than the YAML
  // parser. Only a plan that passes is taken from it; any problem is found and located by the YAML path below.
  const quick = quickPlan(text);
  if (quick !== undefined) return quick;
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const syntax = doc.errors[0];
  if (syntax !== undefined) {
    // With prettyErrors off yaml leaves linePos unset; the offset is always there.
    const at = syntax.linePos?.[0] ?? lineCounter.linePos(syntax.pos[0]);
    const message = `${source}:${at.line}:${at.col}: not valid ${language}: ${syntax.message.split("\n")[0] ?? ""}`;
    throw new PlanFileError(source, message, { hint: `fix the ${language} syntax at that line` });
  }
  const value = withoutNulls(doc.toJS());
  if (value === null || value === undefined) throw empty();
  if (Array.isArray(value)) {
    throw new PlanFileError(source, `${source}:1: the top level is a list; a plan is an object with a "tasks" list`, {
      hint: 'put the list under a "tasks" key',
    });
  }
  if (typeof value === "object" && Object.keys(value).every((key) => key === "tasks")) {
    const tasks: unknown = "tasks" in value ? value.tasks : undefined;
    if (tasks === undefined || (Array.isArray(tasks) && tasks.length === 0)) throw empty();
  }
  const checked = checkPlan(value);
  if (checked.ok) return checked.plan;
  const problems = checked.problems.map((problem): LocatedProblem => ({ ...problem, line: lineOf(doc, lineCounter, problem.path, problem.key) }));
  const lines = problems.map((problem) => {
    const where = `${source}${problem.line === undefined ? "" : `:${problem.line}`}`;
    const task = problem.kind === "shape" && problem.taskId !== undefined ? ` (task "${problem.taskId}")` : "";
    return `${where}: ${formatPath(problem.path)}${task}: ${problem.message}`;
  });
  const message = lines.length === 1 ? (lines[0] ?? "") : `plan file ${source} has ${lines.length} problems:\n  ${lines.join("\n  ")}`;
  const hint = [...new Set(problems.map((problem) => HINTS[problem.kind]))].join("; ");
  throw new PlanFileError(source, message, { hint, problems });
}

/** The plan in `text` when it is JSON holding a valid plan; undefined for anything else, including YAML. */
function quickPlan(text: string): Plan | undefined {
  const start = text.trimStart()[0];
  if (start !== "{") return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  // JSON.parse keeps the last of two equal keys where the YAML parser refuses them: leave those to it.
  if (hasDuplicateKeys(text)) return undefined;
  const checked = checkPlan(withoutNulls(value));
  return checked.ok ? checked.plan : undefined;
}

/** Whether an object in `text`, which JSON.parse accepted, has a key twice. One pass; only keys are decoded. */
function hasDuplicateKeys(text: string): boolean {
  const objects: (Set<string> | undefined)[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      const start = i;
      for (i++; i < text.length && text.charCodeAt(i) !== QUOTE; i++) if (text.charCodeAt(i) === BACKSLASH) i++;
      const keys = objects[objects.length - 1];
      if (keys === undefined) continue;
      let next = i + 1;
      while (next < text.length && WHITESPACE.has(text.charCodeAt(next))) next++;
      // In valid JSON only a key is followed by a colon.
      if (text.charCodeAt(next) !== COLON) continue;
      const key = String(JSON.parse(text.slice(start, i + 1)));
      if (keys.has(key)) return true;
      keys.add(key);
    } else if (c === OPEN_BRACE) objects.push(new Set());
    else if (c === OPEN_BRACKET) objects.push(undefined);
    else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) objects.pop();
  }
  return false;
}

const [QUOTE, BACKSLASH, COLON, OPEN_BRACE, CLOSE_BRACE, OPEN_BRACKET, CLOSE_BRACKET] = ['"', "\\", ":", "{", "}", "[", "]"].map((c) => c.charCodeAt(0));
const WHITESPACE = new Set([" ", "\t", "\n", "\r"].map((c) => c.charCodeAt(0)));

/** A key with nothing after it means "not set" (`before:` left blank), as in orch.config.yaml. */
function withoutNulls(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutNulls);
  if (value === null || typeof value !== "object") return value;
  return Object.fromEntries(Object.entries(value).flatMap(([key, v]) => (v === null ? [] : [[key, withoutNulls(v)]])));
}
