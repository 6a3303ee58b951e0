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

/** The markdown of the task at 0-based `index` of `context.order`. */
export function renderTaskFile(task: PlannedTask, index: number, context: TaskFileContext): string {
  const total = context.order.length;
  const fileOf = new Map(context.order.map((t, i) => [t.id, taskFileName(i, t, total)]));
  const titleOf = new Map(context.order.map((t) => [t.id, oneLine(t.title)]));
  const number = taskFileName(index, task, total).split("-")[0] ?? String(index + 1);
  const facts = [`Task ${code(task.id)}`, `priority ${task.priority}`, `risk ${task.risk}`];
  if (context.runId !== undefined) facts.push(`run ${code(context.runId)}`);

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
  const dependents = context.order.filter((t) => t.dependsOn.includes(task.id)).map((t) => link(t.id));
  section("Needed by", dependents.join("\n"));
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
