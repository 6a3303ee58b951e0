// The prompt an implementer agent receives on each attempt: the goal, what "done" means (the verify
// commands orch will run), the rules of the worktree, and the handoff from earlier attempts.

export interface PromptInput {
  goal: string;
  criteria: readonly string[];
  attempt: number;
  maxAttempts: number;
  handoff: string;
  /** Run memory: decisions and notes that hold for every task of the run. */
  notes?: readonly string[];
}

export function buildPrompt(input: PromptInput): string {
  const sections = [
    `# Goal\n${input.goal.trim()}`,
    input.criteria.length > 0
      ? `# Done means\nWhen you finish, orch runs these commands in this directory; every one must exit 0:\n${input.criteria.map((c) => `- \`${c}\``).join("\n")}\nRun them yourself before you finish.`
      : `# Done means\nThe goal above is met. Check your work before you finish.`,
    `# Rules\n- Work only inside the current directory (a git worktree made for this task); orch commits your changes.\n- Do not change the verify commands or weaken the tests to make them pass; fix the code.\n- Finish with a short summary of what you changed and why.`,
  ];
  if (input.notes !== undefined && input.notes.length > 0) sections.push(`# Notes for this run\n${input.notes.map((n) => `- ${n}`).join("\n")}`);
  if (input.handoff !== "") sections.push(`# Earlier attempts (this is attempt ${input.attempt} of at most ${input.maxAttempts})\n${input.handoff}`);
  return `${sections.join("\n\n")}\n`;
}
