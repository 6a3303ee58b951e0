// Nothing an agent or a verify command starts outlives its attempt: a process that leaves its group with
// `setsid nohup sleep 300 &` is found by the mark in its environment and stopped when its agent or verify command
// ends, and the journal says so. One that got away anyway (here: started by the test with the ids of a finished
// run's attempt in its environment, as if its supervisor had been SIGKILLed) is named by `orch status` and
// `orch doctor`.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { isRunning, waitFor, parseEventLines, parseJsonOutput, parseRunResult, leftoverProcesses } from "./support/cli.js";
import { agentPid, detach, untilEnded } from "./support/detached.js";
import { fixtureAgent, useSandboxes } from "./support/e2e.js";

const sandboxes = useSandboxes({ prefix: "orch-cli-leftovers-", graceMs: 3_000 });

const FILES = {
  "sum.mjs": "export function sum(a, b) {\n  return a - b;\n}\n",
  "test.mjs": 'import { sum } from "./sum.mjs";\nif (sum(2, 3) !== 5) process.exit(1);\nconsole.log("ok");\n',
};
/** A verify command that leaves a process in a session of its own, then runs the test. */
/** It runs the test only once that process has left its session: before, it is still in the command's group, which orch stops with it. */
const VERIFY =
  'setsid nohup sleep 300 > /dev/null 2>&1 & e=$!; echo "$e" > "$AGENT_OUT/verify-escapee"; ' +
  'while [ "$(cut -d" " -f6 /proc/$e/stat)" = "$(cut -d" " -f6 /proc/$$/stat)" ]; do sleep 0.01; done; node test.mjs';
const Noted = z.object({ message: z.string(), level: z.string().optional() });
const Leftover = z.object({ pid: z.number(), command: z.string(), runId: z.string(), taskId: z.string().nullable(), attempt: z.number().nullable(), verify: z.boolean(), why: z.string() });
const StatusEscaped = z.object({ escaped: z.array(Leftover) });
const Doctor = z.object({ checks: z.array(z.object({ name: z.string(), ok: z.boolean(), detail: z.string(), fix: z.string().nullable().optional() })) });

/** Without the agent CLIs of node_modules/.bin on PATH: doctor would start each for its version (seconds apiece). */
function withoutAgentClis(env: Record<string, string>): Record<string, string> {
  return { ...env, PATH: (env["PATH"] ?? "").split(":").filter((dir) => !dir.endsWith("node_modules/.bin")).join(":") };
}

describe("processes that leave their group", () => {
  it("are stopped when the agent and the verify command end, and journaled as warnings", { timeout: 60_000 }, async () => {
    const box = sandboxes.orchRepo(FILES);
    const ran = await box.orch(["run", "fix sum", "--verify", VERIFY, "--agent-command", fixtureAgent("leave-behind.sh"), "--json"]);
    expect(ran.code, ran.stderr).toBe(0);
    const { runId } = parseRunResult(ran);
    const agentEscapee = Number(readFileSync(join(box.out, "agent-escapee"), "utf8"));
    const verifyEscapee = Number(readFileSync(join(box.out, "verify-escapee"), "utf8"));
    expect(isRunning(agentEscapee), "the agent's sleep 300").toBe(false);
    expect(isRunning(verifyEscapee), "the verify command's sleep 300").toBe(false);
    expect(await leftoverProcesses(box.repo.root)).toEqual([]);

    const logs = await box.orch(["logs", runId, "--json"]);
    expect(logs.code, logs.stderr).toBe(0);
    const notes = parseEventLines(logs.stdout).flatMap((e) => (e.type === "run.noted" ? [Noted.parse(e.data)] : []));
    const agentNote = notes.find((n) => n.message.includes(`pid ${agentEscapee} `));
    const verifyNote = notes.find((n) => n.message.includes(`pid ${verifyEscapee} `));
    // Named by its command line when it was found: often `sleep 300`, but the scan can meet it between its execs.
    const named = String.raw`\((?:setsid )?(?:nohup )?sleep 300\)`;
    expect(agentNote, JSON.stringify(notes)).toMatchObject({ level: "warning", message: expect.stringMatching(new RegExp(String.raw`^attempt 1's agent left 1 process running .*orch stopped it: pid \d+ ${named}$`)) as unknown });
    expect(verifyNote?.message, JSON.stringify(notes)).toMatch(new RegExp(String.raw`^the verify command \`setsid nohup sleep 300 .*\` left 1 process running .*${named}$`));
    const status = await box.status(runId);
    expect(status.warnings).toEqual(expect.arrayContaining([agentNote?.message, verifyNote?.message]));
  });

  it("are named by status and doctor when one got away from a run that has ended", { timeout: 60_000 }, async () => {
    const box = sandboxes.orchRepo(FILES);
    const ran = await box.orch(["run", "fix sum", "--verify", "node test.mjs", "--agent-command", fixtureAgent("leave-behind.sh"), "--json"]);
    expect(ran.code, ran.stderr).toBe(0);
    const { runId } = parseRunResult(ran);
    const task = (await box.status(runId)).tasks[0]?.id ?? "";
    // A process with the ids of the run's finished attempt, and a control character in its command line.
    const escapee = sandboxes.start("bash", ["-c", "exec -a $'escaped\\e[2J' sleep 300"], {
      cwd: box.repo.dir,
      env: { ...box.env, ORCH_RUN_ID: runId, ORCH_TASK_ID: task, ORCH_ATTEMPT: "1" },
      timeoutMs: 60_000,
    });
    try {
      await waitFor("the escapee's exec", () => (readFileSync(`/proc/${escapee.pid}/cmdline`, "utf8").startsWith("escaped") ? true : undefined));
      const json = await box.orch(["status", runId, "--json"]);
      expect(json.code, json.stderr).toBe(0);
      const { escaped } = parseJsonOutput(StatusEscaped, json.stdout);
      expect(escaped).toEqual([
        { pid: escapee.pid, command: "escaped\\u001b[2J 300", runId, taskId: task, attempt: 1, verify: false, why: "its run has ended (succeeded)" },
      ]);
      const text = await box.orch(["status", runId]);
      expect(text.code, text.stderr).toBe(0);
      expect(text.stdout).toContain(`escaped   pid ${escapee.pid} (attempt 1 of ${task}; its run has ended (succeeded)): escaped\\u001b[2J 300`);
      expect(text.stdout).toContain(`kill ${escapee.pid}`);

      const doctor = await box.orch(["doctor", "--json"], { env: withoutAgentClis(box.env) });
      const check = parseJsonOutput(Doctor, doctor.stdout).checks.find((c) => c.name === "processes");
      expect(check).toMatchObject({ ok: false, fix: `stop it: kill ${escapee.pid}` });
      expect(check?.detail).toContain(`pid ${escapee.pid} (run ${runId}, attempt 1 of ${task}; its run has ended (succeeded)): escaped\\u001b[2J 300`);
      expect(doctor.code).toBe(1);
    } finally {
      escapee.kill();
      await escapee.done;
    }
    const doctor = await box.orch(["doctor", "--json"], { env: withoutAgentClis(box.env) });
    expect(parseJsonOutput(Doctor, doctor.stdout).checks.find((c) => c.name === "processes")).toMatchObject({ ok: true });
  });

  it("are named while the run goes on when they left its supervisor's tree; the agent is not", { timeout: 60_000 }, async () => {
    const box = sandboxes.orchRepo(FILES);
    const { runId } = await detach(box, ["--agent-command", fixtureAgent("hang.sh")]);
    const agent = await agentPid(box, 1);
    const task = (await box.status(runId)).tasks[0]?.id ?? "";
    // The ids a verify command of the live run has, on a process the supervisor did not start.
    const stray = sandboxes.start("sleep", ["300"], { cwd: box.repo.dir, env: { ...box.env, ORCH_RUN_ID: runId, ORCH_TASK_ID: task, ORCH_VERIFY: "1" }, timeoutMs: 60_000 });
    try {
      await waitFor("the stray's exec", () => (readFileSync(`/proc/${stray.pid}/cmdline`, "utf8").startsWith("sleep") ? true : undefined));
      const view = parseJsonOutput(StatusEscaped.extend({ status: z.string() }), (await box.orch(["status", runId, "--json"])).stdout);
      expect(view.status).toBe("running");
      expect(isRunning(agent)).toBe(true);
      expect(view.escaped).toEqual([
        { pid: stray.pid, command: "sleep 300", runId, taskId: task, attempt: null, verify: true, why: "it left the process tree of its run's supervisor" },
      ]);
    } finally {
      stray.kill();
      await stray.done;
    }
    const aborted = await box.orch(["abort", runId]);
    expect(aborted.code, aborted.stderr).toBe(0);
    await untilEnded(box, runId);
  });
});
