// Chaos in a planned run: the detached supervisor of a 9-task graph is SIGKILLed at seeded random moments — in
// agents' work, their verification and commits, the merge queue's merges, the run branch's verification and a
// revert, an integrator's conflict resolution — and resumed each time. At the end every task is on the run branch
// once, every merge that counts was verified on the run branch (the run's criterion logs each verdict with the
// tree it judged), the one task whose first work breaks the run was reverted and sent back as often as git's
// history says, the conflict was resolved keeping both sides, and nothing is left running. ORCH_CHAOS_SEED
// replays a run.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { leftoverProcesses } from "./support/cli.js";
import { killAndResume, runEnd, seeded } from "./support/chaos.js";
import { fixtureAgent as agent, readJournal, useSandboxes } from "./support/e2e.js";
import { task } from "./support/plans.js";

const SEED = Number(process.env.ORCH_CHAOS_SEED ?? 20261121);
const KILLS = 12;

// The run's criterion (verified on every merge: it judges the run branch differently, by its name). It takes a
// moment, so that kills land in it; on the run branch it logs its verdict with the
// tree it judged (the files as they are, so that an integrator's merge, committed after its verify, is judged
// too), written just before it exits; it fails while r's first work is there.
const GATE = `import { execFileSync } from "node:child_process";
import { appendFileSync, existsSync, readFileSync, rmSync } from "node:fs";
await new Promise((r) => setTimeout(r, 100));
const git = (args, env = process.env) => execFileSync("git", args, { encoding: "utf8", env }).trim();
const broken = existsSync("out/r.txt") && readFileSync("out/r.txt", "utf8").trim() === "first";
if (git(["rev-parse", "--abbrev-ref", "HEAD"]).endsWith("/_run")) {
  const index = { ...process.env, GIT_INDEX_FILE: git(["rev-parse", "--absolute-git-dir"]) + "/gate-index-" + process.pid };
  git(["read-tree", "HEAD"], index);
  git(["add", "--all"], index);
  const tree = git(["write-tree"], index);
  rmSync(index.GIT_INDEX_FILE);
  appendFileSync(process.env.AGENT_OUT + "/verified", tree + (broken ? " fail" : " pass") + "\\n");
  if (broken) { console.log("r's first work breaks the run branch"); process.exit(1); }
}
`;

/** s → a, b, r; a → c; b → d; r → e; c, d, e → f; g alone. a and b conflict in CHANGELOG.md. */
const PLAN = {
  tasks: [task("s", []), task("a", ["s"]), task("b", ["s"]), task("r", ["s"]), task("c", ["a"]), task("d", ["b"]), task("e", ["r"]), task("f", ["c", "d", "e"]), task("g", [])],
};
const IDS = PLAN.tasks.map((t) => t.id);

const sandboxes = useSandboxes({ prefix: "orch-chaos-plan-", graceMs: 3_000 });

const Integrated = z.object({ merge: z.string() });

describe("chaos in a planned run: the supervisor SIGKILLed in the middle of the merge queue", () => {
  it(`converges after ${KILLS} SIGKILLs (seed ${SEED}); every merge that counts was verified on the run branch`, { timeout: 240_000 }, async () => {
    const box = sandboxes.orchRepo({ "gate.mjs": GATE, "CHANGELOG.md": "# Changelog\n", "orch.config.yaml": "integration:\n  verifyEveryMerge: true\n" }, { TASK_SLEEP: "0.6" });
    const plan = join(box.repo.root, "plan.json");
    writeFileSync(plan, JSON.stringify(PLAN));
    const started = await box.orch(["run", "nine tasks", "--verify", "node gate.mjs", "--plan-file", plan, "--concurrency", "3", "--agent-command", agent("chaos-task.sh"), "--max-attempts", "100", "--stall-attempts", "100", "--detach"]);
    expect(started.code, started.stderr).toBe(0);
    const runId = /^Run (\S+) is running in the background/m.exec(started.stdout)?.[1] ?? "";
    const kills = await killAndResume(box, runId, { kills: KILLS, random: seeded(SEED), pauseMs: [100, 700] });
    expect(kills, "the run ended before half the kills were made").toBeGreaterThanOrEqual(KILLS / 2);
    const ended = await runEnd(box, runId, 120_000);
    const journal = readJournal(box.repo, runId);
    expect(ended.status, `${ended.reason ?? ""}\n${journal.events.filter((e) => e.type !== "agent.emitted").map((e) => `${e.seq} ${e.type} ${JSON.stringify(e.data).slice(0, 300)}`).join("\n")}`).toBe("succeeded");
    for (const id of IDS) expect(journal.tasks.find((t) => t.id === id)?.status, id).toBe("succeeded");

    // Every merge the journal counts was verified on the run branch, and passed there.
    const verdicts = existsSync(join(box.out, "verified")) ? readFileSync(join(box.out, "verified"), "utf8").trim().split("\n") : [];
    const integrated = journal.events.filter((e) => e.type === "task.integrated").map((e) => Integrated.parse(e.data).merge);
    expect(integrated).toHaveLength(IDS.length);
    for (const merge of integrated) expect(verdicts, merge).toContain(`${box.repo.git(["rev-parse", `${merge}^{tree}`])} pass`);

    // The run branch: each task merged once for good (a merge and its revert cancel out); r reverted at least once,
    // as often as the journal says; what it holds is every task's final work.
    const branch = `orch/${runId}/_run`;
    const history = box.repo.git(["log", "--first-parent", "--format=%s", `${box.repo.headSha}..${branch}`]).split("\n");
    const count = (subject: string) => history.filter((s) => s === subject).length;
    for (const id of IDS) {
      const reverts = count(`orch: revert the integration of task ${id}`);
      expect(count(`orch: integrate task ${id} into the run`) - reverts, id).toBe(1);
      if (id !== "r") expect(reverts, id).toBe(0);
      expect(box.repo.git(["show", `${branch}:out/${id}.txt`])).toBe(`${id} done`);
    }
    expect(count("orch: revert the integration of task r")).toBeGreaterThanOrEqual(1);
    expect(journal.events.filter((e) => e.type === "task.reverted")).toHaveLength(count("orch: revert the integration of task r"));
    // a and b both added to CHANGELOG.md side by side: an integrator kept both lines, and no marker.
    expect(box.repo.git(["show", `${branch}:CHANGELOG.md`]).split("\n").sort()).toEqual(["# Changelog", "- a", "- b"]);
    // Usually an integrator resolved their conflict; when a kill left b to start again from the run branch after a's
    // merge, b's work already held a's line and there was nothing to resolve (seen once in eight runs).
    expect(journal.tasks.filter((t) => t.id.includes("--merge") && t.status === "succeeded").length).toBeLessThanOrEqual(1);

    // The journal: gap-free, one resume per kill; nothing left running.
    expect(journal.events.map((e) => e.seq)).toEqual(journal.events.map((_, i) => i + 1));
    expect(journal.events.filter((e) => e.type === "run.resumed")).toHaveLength(kills);
    expect(await leftoverProcesses(box.repo.root)).toEqual([]);
  });
});
