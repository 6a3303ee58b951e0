// Big inputs (issue 13): a plan whose goal is 1 MB reaches its agent whole (no `spawn E2BIG`: the prompt goes on
// stdin and in a file, ORCH_PROMPT only when small); `orch status` of a run of many tasks prints bounded lines on a
// terminal, while `--json` lists everything.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { parseRunResult, waitFor } from "./support/cli.js";
import { detach, untilEnded, untilGone } from "./support/detached.js";
import { useSandboxes } from "./support/e2e.js";

// A detached run's own process may need a moment to exit after it has written the run's end.
const sandboxes = useSandboxes({ prefix: "orch-cli-big-", graceMs: 3_000 });

/** Words and lines, 1 MiB and a little, ending in a marker the agent looks for. */
const BIG_GOAL = `${"Rename every helper listed here and keep each call site working.\n".repeat(17_000)}END-OF-THE-BIG-GOAL`;

describe("a 1 MB goal in a plan file", () => {
  it("reaches the command agent whole on stdin and in ORCH_PROMPT_FILE (0600), not in ORCH_PROMPT; the run succeeds", { timeout: 60_000 }, async () => {
    expect(BIG_GOAL.length).toBeGreaterThan(1024 * 1024);
    const box = sandboxes.orchRepo({ "README.md": "# big\n" });
    const plan = join(box.repo.root, "plan.json");
    writeFileSync(plan, JSON.stringify({ tasks: [{ id: "rename", title: "Rename the helpers", goal: BIG_GOAL }] }));
    // The agent checks what it was given and says so in a file the verify command reads.
    const agent = [
      'cat > "$AGENT_OUT/stdin.txt"',
      'cmp -s "$AGENT_OUT/stdin.txt" "$ORCH_PROMPT_FILE" || { echo "stdin and the file differ"; exit 1; }',
      'grep -q END-OF-THE-BIG-GOAL "$ORCH_PROMPT_FILE" || { echo "the goal is cut"; exit 1; }',
      '[ "$(stat -c %a "$ORCH_PROMPT_FILE")" = 600 ] || { echo "the file is readable by others"; exit 1; }',
      '[ -z "${ORCH_PROMPT+set}" ] || { echo "ORCH_PROMPT is set"; exit 1; }',
      "echo done > renamed.txt",
    ].join("\n");
    const result = await box.orch(["run", "rename the helpers", "--plan-file", plan, "--verify", "test -f renamed.txt", "--agent-command", agent, "--max-attempts", "1", "--json"], { timeoutMs: 50_000 });
    expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(0);
    expect(parseRunResult(result)).toMatchObject({ status: "succeeded" });
  });
});

const StatusJson = z.object({
  status: z.string(),
  pid: z.number().nullable(),
  next: z.string(),
  tasks: z.array(z.object({ id: z.string(), status: z.string(), dependsOn: z.array(z.string()) })),
});

describe("orch status of a run of many tasks", () => {
  it("on a terminal: a few lines, none long, the rest counted; --json: every task and every ready id", { timeout: 90_000 }, async () => {
    const box = sandboxes.orchRepo({ "README.md": "# many\n" });
    const count = 150;
    // 149 independent tasks, the first ten urgent, and one that needs those ten (urgent too, so it is listed among
    // the first); one slot, so one task runs and the rest wait.
    const ids = Array.from({ length: count - 1 }, (_, i) => `task-number-${i + 1}`);
    const tasks = [
      ...ids.map((id, i) => ({ id, title: `Change ${id}`, goal: `change ${id}`, priority: i < 10 ? 10 : 0 })),
      { id: "fan-in", title: "Fan in", goal: "join the first ten", dependsOn: ids.slice(0, 10), priority: 10 },
    ];
    const plan = join(box.repo.root, "plan.json");
    writeFileSync(plan, JSON.stringify({ tasks }));
    const { runId } = await detach(box, ["--plan-file", plan, "--agent-command", "sleep 60", "--concurrency", "1", "--max-attempts", "1"]);
    const json = await waitFor("a task to run", async () => {
      const result = await box.orch(["status", runId, "--json"]);
      const view = StatusJson.parse(JSON.parse(result.stdout));
      return view.tasks.some((t) => t.status === "running") ? view : undefined;
    }, 60_000);

    // --json: complete.
    expect(json.tasks).toHaveLength(count);
    expect(json.tasks.find((t) => t.id === "fan-in")?.dependsOn).toEqual(ids.slice(0, 10));
    const waiting = ids.filter((id) => json.tasks.find((t) => t.id === id)?.status === "pending");
    expect(waiting.length).toBeGreaterThan(100);
    for (const id of waiting) expect(json.next.split(/[ ,;]+/)).toContain(id);

    // The terminal: bounded lines, the lists summarised.
    const shown = await box.orch(["status", runId]);
    expect(shown.code, shown.stderr).toBe(0);
    const lines = shown.stdout.trimEnd().split("\n");
    expect(lines.length).toBeLessThan(45);
    for (const line of lines) expect(line.length, line.slice(0, 120)).toBeLessThanOrEqual(400);
    expect(shown.stdout).toMatch(/next {6}start task-number-\d+, .* and \d{3} more as slots free up/);
    expect(shown.stdout).toMatch(/… and 130 more task\(s\): 130 pending \(`orch status \S+ --json` lists them all\)/);
    expect(shown.stdout).toMatch(/^ {4}pending {3}fan-in · 0 attempt\(s\) after task-number-1, task-number-2, task-number-3, task-number-4, task-number-5 and 5 more$/m);

    const aborted = await box.orch(["abort", runId]);
    expect(aborted.code, aborted.stderr).toBe(0);
    await untilEnded(box, runId);
    if (json.pid !== null) await untilGone("the detached run's process", json.pid);
  });
});
