// A planned run keeps on disk only the worktrees it still needs: each task's goes once its work is integrated
// (its branch keeps the work), so during the run there are never more than the tasks under way, those made ahead,
// the one being merged and the one being removed; after it only a failed task's worktree is left, for a look and
// for `orch gc`. Real git, the built CLI, command agents that count the worktrees git lists as they start.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { parseJsonOutput, parseRunResult } from "./support/cli.js";
import { readJournal, useSandboxes, type OrchSandbox } from "./support/e2e.js";

const sandboxes = useSandboxes({ prefix: "orch-cli-bounded-" });

const TASKS = Array.from({ length: 12 }, (_, i) => `t${i + 1}`);
const CONCURRENCY = 2;
/** t5 leaves out/bad.txt, which the run's criteria refuse: it fails, and nothing depends on it. */
const VERIFY = "test ! -e out/bad.txt";
/** Each agent counts the task worktrees git lists (the run branch's aside) as it starts, then does its work. */
const AGENT = [
  `n=$(git worktree list --porcelain | grep '^branch refs/heads/orch/' | grep -vc '/_run$')`,
  `echo "$ORCH_TASK_ID $n" >> "$AGENT_OUT/counts"`,
  "sleep 1",
  "mkdir -p out",
  `if [ "$ORCH_TASK_ID" = t5 ]; then echo bad > out/bad.txt; else echo done > "out/$ORCH_TASK_ID.txt"; fi`,
].join("; ");

/** Task worktrees git knows, by the branch checked out in each: `orch/<run>/<task>` → path. */
function taskWorktrees(box: OrchSandbox): Map<string, string> {
  const found = new Map<string, string>();
  for (const block of box.repo.git(["worktree", "list", "--porcelain"]).split("\n\n")) {
    const path = /^worktree (.+)$/m.exec(block)?.[1];
    const branch = /^branch refs\/heads\/(orch\/.+)$/m.exec(block)?.[1];
    if (path !== undefined && branch !== undefined) found.set(branch, path);
  }
  return found;
}

const Collected = z.object({
  worktrees: z.array(z.object({ taskId: z.string(), path: z.string(), branch: z.string(), removed: z.boolean(), wipCommit: z.string().optional(), bytes: z.number() })),
  bytesFreed: z.number(),
  by: z.string(),
});
const GcJson = z.object({
  worktreesRemoved: z.number(),
  runs: z.array(z.object({ runId: z.string(), worktrees: z.array(z.object({ taskId: z.string(), action: z.string() })) })),
});

describe("a planned run's worktrees", () => {
  it("go as their tasks are integrated: never more than the slots and those made ahead; a failed task's stays for orch gc", { timeout: 120_000 }, async () => {
    const box = sandboxes.orchRepo({ "README.md": "# bounded\n" });
    const plan = { tasks: TASKS.map((id) => ({ id, title: `write ${id}`, goal: `write out/${id}.txt`, acceptance: [`out/${id}.txt exists`], dependsOn: [] })) };
    const planPath = join(box.repo.dir, "plan.json");
    writeFileSync(planPath, JSON.stringify(plan));
    const result = await box.orch(
      ["run", "twelve small tasks", "--verify", VERIFY, "--plan-file", planPath, "--concurrency", String(CONCURRENCY), "--agent-command", AGENT, "--max-attempts", "1", "--json"],
      { timeoutMs: 100_000 },
    );
    expect(result.code, result.stderr).toBe(1);
    const out = parseRunResult(result);
    expect(out.status).toBe("failed");
    const runId = out.runId;
    const branchOf = (task: string) => `orch/${runId}/${task}`;

    // While it ran: each agent saw at most the slots' tasks, one made ahead per slot, one being merged, one being
    // removed and the failed one (without removal, the last agents saw all twelve).
    const counts = readFileSync(join(box.out, "counts"), "utf8").trim().split("\n").map((line) => Number(line.split(" ")[1]));
    expect(counts).toHaveLength(TASKS.length);
    expect(Math.max(...counts)).toBeLessThanOrEqual(2 * CONCURRENCY + 3);

    // After it: only the failed task's worktree is left (the run branch's went as the run ended); every branch stays.
    const left = taskWorktrees(box);
    expect([...left.keys()]).toEqual([branchOf("t5")]);
    const failedTree = left.get(branchOf("t5")) ?? "";
    expect(existsSync(failedTree)).toBe(true);
    for (const id of TASKS) expect(box.repo.git(["branch", "--list", branchOf(id)])).not.toBe("");
    for (const id of TASKS.filter((t) => t !== "t5")) expect(box.repo.git(["show", `${out.branch}:out/${id}.txt`])).toBe("done");

    // Each removal is journaled as gc journals its own, by the run itself.
    const collected = readJournal(box.repo, runId).events.filter((e) => e.type === "run.collected").map((e) => Collected.parse(e.data));
    expect(collected.flatMap((c) => c.worktrees.map((w) => w.taskId)).sort()).toEqual(TASKS.filter((t) => t !== "t5").sort());
    for (const c of collected) {
      expect(c.by).toMatch(/^the run itself \(pid \d+\)$/);
      expect(c.worktrees).toEqual([expect.objectContaining({ removed: true, branch: expect.stringMatching(new RegExp(`^orch/${runId}/t\\d+$`)) })]);
      expect(c.worktrees[0]?.wipCommit).toBeUndefined();
    }
    const status = await box.status(runId);
    expect(status.status).toBe("failed");

    // orch gc then removes the failed task's worktree, and only that; a second one has nothing left to do.
    const gc = await box.orch(["gc", "--json"]);
    expect(gc.code, gc.stderr).toBe(0);
    const json = parseJsonOutput(GcJson, gc.stdout);
    expect(json.worktreesRemoved).toBe(1);
    expect(json.runs.flatMap((r) => r.worktrees.map((w) => [w.taskId, w.action]))).toEqual([["t5", "removed"]]);
    expect(existsSync(failedTree)).toBe(false);
    expect(taskWorktrees(box).size).toBe(0);
    const again = await box.orch(["gc"]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout.trim()).toBe("Nothing to collect: no finished run has a worktree left.");
  });
});
