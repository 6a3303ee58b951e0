// Stop means stopped: `orch abort` and `orch stop` in the middle of a planned run of many quick tasks. Every task
// of the ended run ends too, each with its reason (none left `running` or `pending`), and no task starts after the
// request is in the journal.
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { writeFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { runEnd, runStatus } from "./support/chaos.js";
import { leftoverProcesses } from "./support/cli.js";
import { fixtureAgent as agent, readJournal, useSandboxes, type OrchSandbox } from "./support/e2e.js";
import { task } from "./support/plans.js";

const sandboxes = useSandboxes({ prefix: "orch-stop-", graceMs: 3_000 });
const TASKS = 24;

async function startPlan(): Promise<{ box: OrchSandbox; runId: string }> {
  const box = sandboxes.orchRepo({ "CHANGELOG.md": "# Changelog\n" }, { TASK_SLEEP: "0.3" });
  const plan = join(box.repo.root, "plan.json");
  writeFileSync(plan, JSON.stringify({ tasks: Array.from({ length: TASKS }, (_, i) => task(`t${i}`, [])) }));
  const started = await box.orch(["run", "many tasks", "--verify", "true", "--plan-file", plan, "--concurrency", "2", "--agent-command", agent("chaos-task.sh"), "--detach"]);
  expect(started.code, started.stderr).toBe(0);
  const runId = /^Run (\S+) is running in the background/m.exec(started.stdout)?.[1] ?? "";
  // Let a few tasks finish and others be under way.
  for (let i = 0; i < 200; i++) {
    const journal = readJournal(box.repo, runId);
    if (journal.tasks.filter((t) => t.status === "succeeded").length >= 3) break;
    await sleep(100);
  }
  return { box, runId };
}

function checkEnded(box: OrchSandbox, runId: string) {
  const journal = readJournal(box.repo, runId);
  const open = journal.tasks.filter((t) => t.status === "running" || t.status === "pending");
  expect(open.map((t) => `${t.id} ${t.status}`)).toEqual([]);
  for (const t of journal.tasks) expect(t.reason ?? "", t.id).not.toBe("");
  const requested = journal.events.find((e) => e.type === "run.stop-requested")?.seq ?? Infinity;
  const lateStarts = journal.events.filter((e) => e.type === "task.started" && e.seq > requested).map((e) => e.seq);
  expect(lateStarts).toEqual([]);
  return journal;
}

describe("stop means stopped", () => {
  it("orch abort: the run is aborted and so is every task it had not finished, with a reason; none starts after the request", { timeout: 120_000 }, async () => {
    const { box, runId } = await startPlan();
    const aborted = await box.orch(["abort", runId]);
    expect(aborted.code, aborted.stderr).toBe(0);
    const ended = await runEnd(box, runId, 60_000);
    expect(ended.status).toBe("aborted");
    const journal = checkEnded(box, runId);
    const statuses = new Set(journal.tasks.map((t) => t.status));
    expect([...statuses].every((s) => s === "succeeded" || s === "aborted")).toBe(true);
    expect(journal.tasks.filter((t) => t.status === "aborted").length).toBeGreaterThan(0);
    expect(journal.tasks.some((t) => t.status === "aborted" && /^not started: the run was aborted$/.test(t.reason ?? ""))).toBe(true);
    expect(await leftoverProcesses(box.repo.root)).toEqual([]);
  });

  it("orch stop: what runs finishes and is merged, the rest is stopped with a reason; none starts after the request", { timeout: 120_000 }, async () => {
    const { box, runId } = await startPlan();
    const stopped = await box.orch(["stop", runId]);
    expect(stopped.code, stopped.stderr).toBe(0);
    const ended = await runEnd(box, runId, 60_000);
    expect(ended.status).toBe("stopped");
    const journal = checkEnded(box, runId);
    expect(journal.tasks.filter((t) => t.status === "stopped").length).toBeGreaterThan(0);
    expect(journal.tasks.every((t) => t.status === "succeeded" || t.status === "stopped")).toBe(true);
    expect((await runStatus(box, runId)).status).toBe("stopped");
  });
});
