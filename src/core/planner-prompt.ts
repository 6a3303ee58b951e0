// The prompt a planner agent gets: the goal, what "done" means for the whole run, a summary of the repository,
// the exact JSON a plan must be, and — on a retry — what was wrong with its last answer. Pure.

export interface PlannerPromptInput {
  goal: string;
  criteria: readonly string[];
  /** What the repository holds: its files (or the first of them) and the opening of its README. */
  repository: string;
  /** 1-based. */
  attempt: number;
  maxAttempts: number;
  /** What was wrong with the last answer, one problem per entry. */
  errors: readonly string[];
}

const EXAMPLE = {
  tasks: [
    {
      id: "login-api",
      title: "Add the login endpoint",
      goal: "POST /login checks the password and returns a session token",
      before: "There is no way to log in",
      after: "A user with the right password gets a token",
      acceptance: ["a right password returns 200 and a token", "a wrong password returns 401"],
      files: ["src/routes/login.ts", "test/login.test.ts"],
      testPlan: "unit tests for both cases",
      dependsOn: [],
      priority: 2,
      risk: "medium",
    },
  ],
};

export function buildPlannerPrompt(input: PlannerPromptInput): string {
  const sections = [
    `# Your job\nYou plan work; you do not do it. Split the goal below into a small graph of tasks that coding agents will carry out, each in its own git worktree, in parallel where the graph allows. Read the repository as much as you need, but change nothing.`,
    `# Goal\n${input.goal.trim()}`,
    input.criteria.length > 0
      ? `# Done means\nWhen every task is merged, these commands must exit 0 in the repository:\n${input.criteria.map((c) => `- \`${c}\``).join("\n")}`
      : "",
    `# The repository\n${input.repository.trim()}`,
    [
      "# Your answer",
      "Answer with one JSON object and nothing else, of this shape:",
      "```json",
      JSON.stringify(EXAMPLE, null, 2),
      "```",
      "- `id`: a short slug (lowercase letters, digits, dashes), unique in the plan.",
      "- `dependsOn`: ids of tasks that must be finished (and merged) before this one starts; no cycles.",
      "- `priority`: higher starts first among tasks ready at the same time; `risk`: low, medium or high.",
      "- Keep tasks small enough for one agent session, each with acceptance criteria that can be checked. Tasks that touch the same files should depend on each other rather than run side by side.",
      "- `before`, `after` and `testPlan` may be left out; every other field is required.",
    ].join("\n"),
  ];
  if (input.errors.length > 0) {
    sections.push(
      `# Your last answer was not a valid plan (this is attempt ${input.attempt} of ${input.maxAttempts})\nFix these problems and answer again with the whole plan:\n${input.errors.map((e) => `- ${e}`).join("\n")}`,
    );
  }
  return `${sections.filter((s) => s !== "").join("\n\n")}\n`;
}
