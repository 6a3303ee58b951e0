// `orch risk` through the built CLI on real runs: a scripted agent that edits CI config, deletes a file and runs
// shell commands (the rules fire on the task's commit and its tool calls, not on look-alikes); a planned task
// whose plan marks it medium (the floor) done by a command agent (no tool calls); the user's rules from
// orch.config.yaml; `--diff` on a range; `--rules`; bad references and a bad config (exit 2).
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { parseJsonOutput, parseRunResult } from "./support/cli.js";
import { useSandboxes, type OrchSandbox } from "./support/e2e.js";

const sandboxes = useSandboxes({ prefix: "orch-cli-risk-" });

const FILES = { "README.md": "# app\n", "old.txt": "to be removed\n", "check.mjs": "process.exit(0);\n" };

const SCRIPT = `attempts:
  - steps:
      - write: { path: .github/workflows/ci.yml, content: "on: push\\n" }
      - delete: old.txt
      - run: chmod 777 README.md
      - run: echo git push is for later
    result: done
`;

const RiskJson = z.object({
  run: z.string().optional(),
  task: z.string().optional(),
  level: z.enum(["low", "medium", "high"]),
  from: z.string(),
  to: z.string(),
  files: z.number(),
  lines: z.number(),
  commands: z.number().nullable(),
  findings: z.array(z.object({ rule: z.string(), level: z.string(), about: z.string(), evidence: z.array(z.string()) })),
});

async function risk(box: OrchSandbox, args: readonly string[]): Promise<z.infer<typeof RiskJson>> {
  const result = await box.orch(["risk", ...args, "--json"]);
  expect(result.code, result.stderr).toBe(0);
  return parseJsonOutput(RiskJson, result.stdout);
}

async function scriptedRun(box: OrchSandbox): Promise<string> {
  writeFileSync(join(box.repo.root, "script.yaml"), SCRIPT);
  const result = await box.orch(["run", "tidy the repository", "--verify", "node check.mjs", "--script", join(box.repo.root, "script.yaml"), "--json"]);
  const run = parseRunResult(result);
  // CI configuration: the approval gate holds the task's commit for a human, and the run waits (exit 3).
  expect([run.status, result.code], result.stderr).toEqual(["waiting", 3]);
  return run.runId;
}

describe("orch risk RUN/TASK", () => {
  it("names every rule that fired on a task's commit and its agent's commands, with the evidence", { timeout: 60_000 }, async () => {
    const box = sandboxes.orchRepo(FILES);
    const runId = await scriptedRun(box);
    const ref = `${runId}/tidy-the-repository`;

    const text = await box.orch(["risk", ref]);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain(`risk high: task tidy-the-repository of run ${runId}`);
    expect(text.stdout).toContain("3 files, 2 lines changed, 2 commands of the agent read");
    expect(text.stdout).toContain("  high    ci: CI configuration\n      .github/workflows/ci.yml (added)");
    expect(text.stdout).toContain("  medium  deleted: files deleted\n      old.txt (deleted)");
    expect(text.stdout).toContain("  medium  chmod-world: a chmod that lets everyone write (777, o+w)\n      chmod 777 README.md");
    expect(text.stdout).not.toContain("push");

    const json = await risk(box, [ref]);
    expect(json).toMatchObject({ run: runId, task: "tidy-the-repository", level: "high", files: 3, commands: 2 });
    expect(json.findings.map((f) => [f.rule, f.level])).toEqual([["ci", "high"], ["deleted", "medium"], ["chmod-world", "medium"]]);
    expect(box.repo.git(["rev-parse", `orch/${runId}/tidy-the-repository`])).toBe(json.to);

    // The user's rules: CI only medium, the chmod check off, a rule of their own on the README.
    writeFileSync(join(box.repo.dir, "orch.config.yaml"), "risk:\n  rules:\n    ci: medium\n    chmod-world: off\n    docs:\n      level: low\n      paths: ['*.md']\n");
    const mine = await risk(box, [ref]);
    expect(mine.level).toBe("medium");
    expect(mine.findings.map((f) => [f.rule, f.level])).toEqual([["ci", "medium"], ["deleted", "medium"], ["docs", "low"]]);

    // The same commit as a range: the files judge alike (README.md only changed its mode); no agent, no commands.
    const range = await risk(box, ["--diff", `${box.repo.headSha}..orch/${runId}/tidy-the-repository`]);
    expect(range).toMatchObject({ level: "medium", files: 3, commands: null, to: json.to });

    const rules = await box.orch(["risk", "--rules"]);
    expect(rules.code, rules.stderr).toBe(0);
    expect(rules.stdout).toContain("  medium  ci: CI configuration — .github/workflows/**");
    expect(rules.stdout).toContain("  low     docs: your rule \"docs\" — *.md");
    expect(rules.stdout).toContain("turned off: chmod-world");
  });

  it("a planned task marked medium is at least medium; a command agent's task has no commands", { timeout: 60_000 }, async () => {
    const box = sandboxes.orchRepo(FILES);
    const plan = { tasks: [{ id: "notes", title: "Write notes", goal: "write the notes", risk: "medium" }] };
    writeFileSync(join(box.repo.root, "plan.json"), JSON.stringify(plan));
    const result = await box.orch([
      "run", "write notes", "--verify", "node check.mjs", "--plan-file", join(box.repo.root, "plan.json"),
      "--agent-command", 'echo "notes" > "notes-$ORCH_TASK_ID.md"', "--json",
    ]);
    const run = parseRunResult(result);
    // Medium and not reviewed: the approval gate holds it for a human.
    expect(run.status, result.stderr).toBe("waiting");
    const json = await risk(box, [`${run.runId}/notes`]);
    expect(json).toMatchObject({ level: "medium", files: 1, commands: 0 });
    expect(json.findings).toEqual([{ rule: "plan", level: "medium", about: "the planner's level for the task (a floor)", evidence: ["the plan marks the task medium risk"] }]);
  });

  it("bad references and a bad config: a plain error, exit 2", { timeout: 60_000 }, async () => {
    const box = sandboxes.orchRepo(FILES);
    const runId = await scriptedRun(box);
    const cases: [string[], RegExp][] = [
      [[], /say what to judge/],
      [[`${runId}/nope`], new RegExp(`run ${runId} has no task "nope"`)],
      [["nope/task"], /no run "nope"/],
      [[runId], /names no task/],
      [["--diff", "main"], /"main" is not a range of commits/],
      [["--diff", "main..nope"], /"nope" names no commit in this repository/],
      [["--rules", "--diff", "a..b"], /give one of RUN\/TASK, --diff and --rules/],
    ];
    for (const [args, message] of cases) {
      const result = await box.orch(["risk", ...args]);
      expect(result.code, `${args.join(" ")}: ${result.stderr}`).toBe(2);
      expect(result.stderr).toMatch(message);
      expect(result.stdout).toBe("");
    }
    writeFileSync(join(box.repo.dir, "orch.config.yaml"), "risk:\n  rules:\n    ci: urgent\n    mine:\n      level: high\n      paths: ['../up/**']\n");
    const bad = await box.orch(["risk", `${runId}/tidy-the-repository`]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('orch.config.yaml:3: risk.rules.ci.level: must be one of "low", "medium", "high", "off"');
    expect(bad.stderr).toContain("orch.config.yaml:6: risk.rules.mine.paths.0: \"../up/**\" has a \".\" or \"..\" segment");
  });
});
