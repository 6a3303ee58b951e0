// The readable copy of a planned task, `.orch/runs/<run>/tasks/NN-slug.md`: numbered in topological order so
// that the folder lists tasks in an order they can run, each linking to the files of its dependencies. Pure:
// the caller writes the files.
import type { PlannedTask } from "../core/plan.js";
import { slugify } from "../core/text.js";

export interface TaskFileContext {
  /** Every task of the plan in topological order, the order that numbers the files. */
  order: readonly PlannedTask[];
  runId?: string | undefined;
}

/**
 * `01-add-the-login-api.md` for the task at 0-based `index` of the topological order; the number has at least
 * two digits, and as many as `total` needs, so that a listing sorts in order. The slug comes from the title
 * (the id when the title has no letters or digits a slug can keep).
 */
export function taskFileName(index: number, task: Pick<PlannedTask, "id" | "title">, total = 0): string {
  const width = Math.max(2, String(total).length);
  return `${String(index + 1).padStart(width, "0")}-${slugify(task.title) || task.id}.md`;
}

/** What every task's file needs to know of the others, built once for the whole plan: O(tasks + dependencies). */
export interface TaskFileIndex {
  total: number;
  /** File name and one-line title by task id. */
  fileOf: ReadonlyMap<string, string>;
  titleOf: ReadonlyMap<string, string>;
  /** The tasks that depend on each task, in topological order. */
  dependentsOf: ReadonlyMap<string, readonly string[]>;
}

export function taskFileIndex(order: readonly PlannedTask[]): TaskFileIndex {
  const total = order.length;
  const fileOf = new Map<string, string>();
  const titleOf = new Map<string, string>();
  const dependentsOf = new Map<string, string[]>();
  order.forEach((task, i) => {
    fileOf.set(task.id, taskFileName(i, task, total));
    titleOf.set(task.id, oneLine(task.title));
    for (const dependency of new Set(task.dependsOn)) {
      const list = dependentsOf.get(dependency);
      if (list === undefined) dependentsOf.set(dependency, [task.id]);
      else list.push(task.id);
    }
  });
  return { total, fileOf, titleOf, dependentsOf };
}

/** Every task's file, in topological order: its name and its markdown. Linear in the plan's size. */
export function renderTaskFiles(order: readonly PlannedTask[], runId?: string): { name: string; text: string }[] {
  const index = taskFileIndex(order);
  return order.map((task, i) => renderTaskFileAt(task, i, index, runId));
}

/** The file of the task at 0-based `index` of the plan's order, given the plan's index: its name and markdown. */
export function renderTaskFileAt(task: PlannedTask, index: number, files: TaskFileIndex, runId?: string): { name: string; text: string } {
  return { name: files.fileOf.get(task.id) ?? taskFileName(index, task, files.total), text: renderIndexed(task, index, files, runId) };
}

/** The markdown of the task at 0-based `index` of `context.order` (one file; renderTaskFiles renders a plan). */
export function renderTaskFile(task: PlannedTask, index: number, context: TaskFileContext): string {
  return renderIndexed(task, index, taskFileIndex(context.order), context.runId);
}

function renderIndexed(task: PlannedTask, index: number, files: TaskFileIndex, runId: string | undefined): string {
  const { fileOf, titleOf } = files;
  const number = (fileOf.get(task.id) ?? taskFileName(index, task, files.total)).split("-")[0] ?? String(index + 1);
  const facts = [`Task ${code(task.id)}`, `priority ${task.priority}`, `risk ${task.risk}`];
  if (runId !== undefined) facts.push(`run ${code(runId)}`);

  const out: string[] = [`# ${number}. ${oneLine(task.title)}`, facts.join(" · ")];
  const section = (heading: string, body: string | undefined): void => {
    if (body !== undefined && body.trim() !== "") out.push(`## ${heading}`, body.trim());
  };
  const link = (id: string): string => {
    const file = fileOf.get(id);
    const title = titleOf.get(id);
    return file === undefined ? `- ${code(id)}` : `- [${file}](${file}): ${title ?? id} (${code(id)})`;
  };
  section("Goal", task.goal);
  section("Before", task.before);
  section("After", task.after);
  section("Acceptance criteria", task.acceptance.map((criterion) => `- [ ] ${oneLine(criterion)}`).join("\n"));
  section("Files to touch", task.files.length === 0 ? "Not known in advance." : task.files.map((file) => `- ${code(file)}`).join("\n"));
  section("Test plan", task.testPlan);
  section("Depends on", task.dependsOn.length === 0 ? "Nothing: it can start at once." : task.dependsOn.map(link).join("\n"));
  section("Needed by", (files.dependentsOf.get(task.id) ?? []).map(link).join("\n"));
  if (task.verify.length > 0) {
    section("Verify", ["Besides the run's own verify commands:", "", ...task.verify.map((command) => `- ${code(command)}`)].join("\n"));
  }
  return `${out.join("\n\n")}\n`;
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, " ").trim();
}

/** An inline code span that survives backticks inside the text. */
function code(text: string): string {
  const longest = Math.max(0, ...[...oneLine(text).matchAll(/`+/g)].map((m) => m[0].length));
  const fence = "`".repeat(longest + 1);
  const inner = oneLine(text);
  return longest === 0 ? `${fence}${inner}${fence}` : `${fence} ${inner} ${fence}`;
}
