// The prompt an implementer agent receives on each attempt: the goal, what "done" means (the verify
// commands orch will run), the rules of the worktree, and the handoff from earlier attempts.

export interface PromptInput {
  goal: string;
  /** What the plan says of the task beyond its goal (a planned run's tasks have it). */
  spec?: { title?: string; before?: string; after?: string; acceptance?: readonly string[]; files?: readonly string[]; testPlan?: string } | undefined;
  criteria: readonly string[];
  attempt: number;
  maxAttempts: number;
  handoff: string;
  /** Run memory: decisions and notes that hold for every task of the run. */
  notes?: readonly string[];
}

export function buildPrompt(input: PromptInput): string {
  const spec = input.spec;
  const plan: string[] = [];
  if (spec?.before !== undefined && spec.before.trim() !== "") plan.push(`## Before\n${spec.before.trim()}`);
  if (spec?.after !== undefined && spec.after.trim() !== "") plan.push(`## After\n${spec.after.trim()}`);
  if (spec?.acceptance !== undefined && spec.acceptance.length > 0) plan.push(`## Acceptance criteria\n${spec.acceptance.map((a) => `- ${a}`).join("\n")}`);
  if (spec?.files !== undefined && spec.files.length > 0) plan.push(`## Files to touch\n${spec.files.map((f) => `- ${f}`).join("\n")}`);
  if (spec?.testPlan !== undefined && spec.testPlan.trim() !== "") plan.push(`## Test plan\n${spec.testPlan.trim()}`);
  const sections = [
    `# Goal\n${spec?.title !== undefined ? `${spec.title.trim()}: ` : ""}${input.goal.trim()}${plan.length > 0 ? `\n\n${plan.join("\n\n")}` : ""}`,
    input.criteria.length > 0
      ? `# Done means\nWhen you finish, orch runs these commands in this directory; every one must exit 0:\n${input.criteria.map((c) => `- \`${c}\``).join("\n")}\nRun them yourself before you finish.`
      : `# Done means\nThe goal above is met. Check your work before you finish.`,
    `# Rules\n- Work only inside the current directory (a git worktree made for this task); orch commits your changes.\n- Do not change the verify commands or weaken the tests to make them pass; fix the code.\n- Finish with a short summary of what you changed and why.`,
  ];
  if (input.notes !== undefined && input.notes.length > 0) sections.push(`# Notes for this run\n${input.notes.map((n) => `- ${n}`).join("\n")}`);
  if (input.handoff !== "") sections.push(`# Earlier attempts (this is attempt ${input.attempt} of at most ${input.maxAttempts})\n${input.handoff}`);
  return `${sections.join("\n\n")}\n`;
}
