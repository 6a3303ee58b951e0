// Chaos: a long run of real agent processes whose detached supervisor is SIGKILLed at seeded random moments —
// during the agent's work, its journal writes, verification or a commit — and resumed each time with
// `orch resume`. At the end the run has converged with exactly the expected commit, no attempt was recorded
// twice, nothing was left running, and the journal passes an integrity check. ORCH_CHAOS_SEED replays a run.
import Database from "better-sqlite3";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { leftoverProcesses } from "./support/cli.js";
import { killAndResume, runEnd, seeded } from "./support/chaos.js";
import { fixtureAgent as agent, useSandboxes } from "./support/e2e.js";

const SEED = Number(process.env.ORCH_CHAOS_SEED ?? 20261121);
const KILLS = 22;
/** Steps the task needs, one per attempt: enough that the run outlives every kill. */
const STEPS = 100;

const EXPECTED = Array.from({ length: STEPS }, (_, i) => `${i + 1}\n`).join("");
// The verify command takes a moment, so that some kills land in it; it passes once steps.txt is complete.
const CHECK = `import { existsSync, readFileSync } from "node:fs";
await new Promise((r) => setTimeout(r, 120));
const text = existsSync("steps.txt") ? readFileSync("steps.txt", "utf8") : "";
const expected = ${JSON.stringify(EXPECTED)};
if (text !== expected) { console.log("steps.txt has " + text.split("\\n").filter(Boolean).length + " of ${STEPS} steps"); process.exit(1); }
console.log("all ${STEPS} steps done");
`;

const sandboxes = useSandboxes({ prefix: "orch-chaos-", graceMs: 3_000 });

describe("chaos: the supervisor SIGKILLed again and again", () => {
  it(`converges after ${KILLS} SIGKILLs at seeded random moments (seed ${SEED}), with a journal that passes the integrity check`, { timeout: 300_000 }, async () => {
    const box = sandboxes.orchRepo({ "check.mjs": CHECK }, { STEPS: String(STEPS), CHATTER: "60", STEP_SLEEP: "0.1" });
    const started = await box.orch([
      "run",
      "complete every step",
      "--verify",
      "node check.mjs",
      "--agent-command",
      agent("one-step.sh"),
      "--max-attempts",
      "500",
      "--stall-attempts",
      "500",
      "--detach",
    ]);
    expect(started.code, started.stderr).toBe(0);
    const runId = /^Run (\S+) is running in the background/m.exec(started.stdout)?.[1] ?? "";
    const kills = await killAndResume(box, runId, { kills: KILLS, random: seeded(SEED), pauseMs: [50, 1_000] });
    expect(kills, "the run converged before every kill was made; raise STEPS").toBe(KILLS);
    expect((await runEnd(box, runId, 180_000)).status).toBe("succeeded");

    // Git: exactly one commit on the task branch, holding every step once.
    const db = new Database(join(box.repo.dir, ".orch", "orch.db"), { readonly: true, fileMustExist: true });
    const task = z.object({ id: z.string(), branch: z.string(), status: z.string(), commit_sha: z.string() }).parse(db.prepare("SELECT * FROM tasks WHERE run_id = ?").get(runId));
    expect(box.repo.git(["rev-list", `${box.repo.headSha}..${task.branch}`])).toBe(task.commit_sha);
    expect(`${box.repo.git(["show", `${task.branch}:steps.txt`])}\n`).toBe(EXPECTED);

    // The journal: every attempt ended once, numbered 1..n without a repeat; only the last succeeded.
    const attempts = z
      .array(z.object({ id: z.string(), number: z.number(), status: z.string(), exit_reason: z.string().nullable() }))
      .parse(db.prepare("SELECT id, number, status, exit_reason FROM attempts WHERE run_id = ? ORDER BY number").all(runId));
    expect(attempts.map((a) => a.number)).toEqual(attempts.map((_, i) => i + 1));
    expect(attempts.slice(0, -1).every((a) => a.status === "failed")).toBe(true);
    expect(attempts.at(-1)?.status).toBe("succeeded");
    expect(attempts.filter((a) => a.exit_reason === "orphaned").length).toBeLessThanOrEqual(KILLS);
    const events = z
      .array(z.object({ seq: z.number(), type: z.string(), attempt_id: z.string().nullable() }))
      .parse(db.prepare("SELECT seq, type, attempt_id FROM events WHERE run_id = ? ORDER BY seq").all(runId));
    db.close();
    // Gap-free: a kill during a write leaves the whole batch or none of it.
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    for (const attempt of attempts) {
      const lifecycle = events.filter((e) => e.attempt_id === attempt.id && e.type !== "agent.emitted").map((e) => e.type);
      const withoutVerify = lifecycle.filter((t) => t !== "verify.completed");
      expect(withoutVerify, attempt.id).toSatisfy((types: string[]) =>
        ["attempt.started,attempt.spawned,attempt.exited,attempt.finished", "attempt.started,attempt.exited,attempt.finished"].includes(types.join(",")),
      );
      expect(lifecycle.filter((t) => t === "verify.completed").length, attempt.id).toBeLessThanOrEqual(1);
    }
    expect(events.filter((e) => e.type === "run.resumed")).toHaveLength(KILLS);
    expect(events.filter((e) => e.type === "run.started")).toHaveLength(1);
    expect(events.filter((e) => e.type === "run.finished")).toHaveLength(1);

    // Nothing left running: no supervisor, no agent.
    expect(await leftoverProcesses(box.repo.root)).toEqual([]);
  });
});
