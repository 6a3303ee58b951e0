// End to end: the planner role. The real Claude Code CLI, scripted through the model server, plans the goal
// into six tasks (two parallel branches and a join); command agents carry them out, two of them conflicting on
// one file, and the run converges on its run branch. A planner that cannot produce a valid plan in three
// answers ends the run with a clear reason, having been told each time what was wrong.
import { describe, expect, it } from "vitest";
import { parseRunResult, runOrch } from "./support/cli.js";
import { fixtureAgent as agent, readJournal, useSandboxes, withClaude, type Sandboxes } from "./support/e2e.js";
import { anthropicLastUserText } from "./support/model-server/anthropic.js";
import type { Script } from "./support/model-server/server.js";
import { FILES, PLAN, task } from "./support/plans.js";

const sandboxes = useSandboxes({ prefix: "orch-e2e-planner-" });

async function plannedRun(boxes: Sandboxes, script: Script) {
  const { repo, server, env } = await withClaude(boxes, FILES, script);
  const args = ["run", "build the feature", "--verify", "node check.mjs", "--plan", "--planner", "claude-code", "--agent-command", agent("plan-task.sh"), "--concurrency", "2", "--no-review", "--json"];
  const result = await runOrch(args, { cwd: repo.dir, env, timeoutMs: 120_000 });
  return { repo, server, result, out: parseRunResult(result) };
}

describe("orch run --plan × the real Claude Code CLI as the planner", () => {
  it("plans six tasks with two parallel branches and a join; they run, conflict once, and converge on the run branch", { timeout: 150_000 }, async () => {
    const { repo, server, result, out } = await plannedRun(sandboxes, [
      { match: "# Your job", text: `Here is the plan.\n\n\`\`\`json\n${JSON.stringify(PLAN, null, 2)}\n\`\`\`` },
    ]);
    expect(result.code, result.stderr).toBe(0);
    expect(server.problems()).toEqual([]);
    expect(server.remaining()).toEqual([]);
    expect(out.status).toBe("succeeded");

    // What the planner was told: the goal, what done means, the repository's files; and it was read-only.
    const [request] = server.modelRequests();
    const prompt = anthropicLastUserText(request?.body);
    expect(prompt).toContain("# Goal\nbuild the feature");
    expect(prompt).toContain("- `node check.mjs`");
    expect(prompt).toContain("- check.mjs");

    const journal = readJournal(repo, out.runId);
    const status = Object.fromEntries(journal.tasks.map((t) => [t.id, t.status]));
    expect(status).toMatchObject({ plan: "succeeded", setup: "succeeded", api: "succeeded", ui: "succeeded", "api-tests": "succeeded", "ui-tests": "succeeded", docs: "succeeded" });
    expect(journal.tasks.filter((t) => t.id.endsWith("--merge")).map((t) => t.status)).toEqual(["succeeded"]);
    expect(journal.attempts.filter((a) => a.agent === "claude-code").map((a) => a.status)).toEqual(["succeeded"]);
    const subjects = repo.git(["log", "--first-parent", "--format=%s", `${repo.headSha}..${out.branch}`]).split("\n");
    expect(subjects).toHaveLength(6);
    expect(subjects.every((s) => /^orch: integrate task [a-z-]+ into the run$/.test(s))).toBe(true);
  });

  it("three answers that are not a valid plan end the run with a clear reason; each retry names the problems", { timeout: 150_000 }, async () => {
    const { repo, server, result, out } = await plannedRun(sandboxes, [
      { match: "# Your job", text: "I would start with the database, then the API." },
      { match: "Your last answer was not a valid plan", text: JSON.stringify({ tasks: [{ id: "API", title: "api", goal: "g", acceptance: ["x"], files: [] }] }) },
      { match: 'tasks[0].id', text: JSON.stringify({ tasks: [task("a", ["b"]), task("b", ["a"])] }) },
    ]);
    expect(result.code, result.stderr).toBe(1);
    expect(server.problems()).toEqual([]);
    expect(server.remaining()).toEqual([]);
    expect(out.status).toBe("failed");
    expect(out.reason).toMatch(/^the planner did not answer with a valid plan in 3 tries; the last answer's problems: .*dependency cycle: /);
    const prompts = server.modelRequests().map((r) => anthropicLastUserText(r.body));
    expect(prompts[1]).toContain("no JSON");
    expect(prompts[2]).toContain("tasks[0].id");
    const journal = readJournal(repo, out.runId);
    expect(journal.tasks.map((t) => [t.id, t.status])).toEqual([["plan", "failed"]]);
    expect(journal.attempts.map((a) => a.failure?.kind)).toEqual(["bad_output", "bad_output", "bad_output"]);
    expect(repo.git(["rev-parse", out.branch])).toBe(repo.headSha);
  });
});
