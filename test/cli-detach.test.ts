// Runs that outlive the command that started them, and runs ended from outside: `orch run --detach`, then
// `status`, `logs -f`, `abort` and `stop` from other processes; and Ctrl-C (SIGINT) on a foreground run.
// Every process is real; afterEach fails the test if one of them (the run's own process, an agent) is left.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { isRunning, parseRunResult } from "./support/cli.js";
import { agentPid, detach as detachRun, FILES, GOAL, untilEnded, untilGone, VERIFY } from "./support/detached.js";
import { fixtureAgent as agent, useSandboxes, type OrchSandbox } from "./support/e2e.js";

// A detached run's own process may need a moment to exit after it has written the run's end.
const sandboxes = useSandboxes({ prefix: "orch-cli-detach-", graceMs: 3_000 });
const sandbox = (agentEnv: Record<string, string> = {}): OrchSandbox => sandboxes.orchRepo(FILES, agentEnv);

/** `orch run ... --detach`: back as soon as the run's own process has taken over, with the next commands named. */
async function detach(box: OrchSandbox, args: readonly string[]): Promise<string> {
  const { runId, result } = await detachRun(box, args);
  expect(result.ms).toBeLessThan(10_000);
  expect(result.stdout).toContain(`orch logs ${runId} -f`);
  return runId;
}

describe("orch run --detach", () => {
  it("returns at once with the run id; status shows it running with a live pid; logs -f follows it to the end", async () => {
    const box = sandbox({ AGENT_SLEEP: "1", FIX_ON_ATTEMPT: "2" });
    const runId = await detach(box, ["--agent-command", agent("fix-on-attempt.sh")]);

    const view = await box.status(runId);
    expect(view.status).toBe("running");
    expect(view.processAlive).toBe(true);
    const driver = view.pid;
    if (driver === null || driver === undefined) throw new Error("a running run without a pid");
    expect(isRunning(driver)).toBe(true);
    expect(driver).not.toBe(process.pid);

    const follow = box.start(["logs", runId, "-f"]);
    const followed = await follow.done;
    expect(followed.code, followed.stderr).toBe(0);
    expect(followed.timedOut).toBe(false);
    const lines = followed.stdout.trimEnd().split("\n");
    expect(lines[0]).toContain(`── run ${runId} created: ${GOAL}`);
    expect(followed.stdout).toContain("#1 » attempt 1: still looking");
    expect(followed.stdout).toContain("#2 ✔ pass `node test.mjs`");
    expect(lines[lines.length - 1]).toMatch(/── run succeeded: all 1 criteria met on attempt 2$/);

    const ended = await box.status(runId);
    expect(ended).toMatchObject({ status: "succeeded", attempts: 2, processAlive: null });
    await untilGone("the detached run's process", driver);
  });

  it("orch abort ends it as aborted within seconds, and the agent's processes are gone", async () => {
    const box = sandbox();
    const runId = await detach(box, ["--agent-command", agent("hang.sh")]);
    const pid = await agentPid(box, 1);
    expect(isRunning(pid)).toBe(true);
    const driver = (await box.status(runId)).pid;

    const aborted = await box.orch(["abort", runId]);
    expect(aborted.code, aborted.stderr).toBe(0);
    expect(aborted.ms).toBeLessThan(8_000);
    expect(aborted.stdout).toContain(`Run ${runId} aborted. Report: `);

    const view = await box.status(runId);
    expect(view).toMatchObject({ status: "aborted", reason: "aborted on request (orch abort)", attempts: 1 });
    expect(isRunning(pid)).toBe(false);
    if (typeof driver === "number") await untilGone("the detached run's process", driver);
  });

  it("orch stop lets the current attempt finish, then ends the run as stopped with a report", async () => {
    // Three seconds per attempt: time enough for the stop request to arrive while attempt 1 runs.
    const box = sandbox({ AGENT_SLEEP: "3", FIX_ON_ATTEMPT: "99" });
    const runId = await detach(box, ["--agent-command", agent("fix-on-attempt.sh"), "--max-attempts", "5"]);
    const pid = await agentPid(box, 1);
    const driver = (await box.status(runId)).pid;

    const stopped = await box.orch(["stop", runId, "--wait", "20"]);
    expect(stopped.code, stopped.stderr).toBe(0);
    expect(stopped.stdout).toContain(`Run ${runId} stopped. Report: `);

    const view = await untilEnded(box, runId);
    expect(view).toMatchObject({ status: "stopped", attempts: 1 });
    expect(view.reason).toMatch(/stopped on request after 1 attempt/);
    // The attempt ran to its end: the agent finished its turn and was verified.
    expect(view.lastResult).toMatch(/^attempt 1 failed \(verify_failed: /);
    expect(isRunning(pid)).toBe(false);
    const report = view.report ?? "";
    expect(readFileSync(report, "utf8")).toContain("**Outcome:** stopped — stopped on request after 1 attempt(s)");
    if (typeof driver === "number") await untilGone("the detached run's process", driver);
  });
});

describe("stop, pause and abort without a run named", () => {
  it("act on the only live run and name it; with two live, list them and ask for one (exit 2); with none, say so", async () => {
    const box = sandbox();
    const first = await detach(box, ["--agent-command", agent("hang.sh")]);
    const second = await detach(box, ["--agent-command", agent("hang.sh")]);

    const two = await box.orch(["stop"]);
    expect(two.code, two.stderr).toBe(2);
    expect(two.stdout).toBe("");
    expect(two.stderr).toMatch(/^orch: 2 runs are live; say which one to stop:$/m);
    for (const runId of [first, second]) expect(two.stderr).toContain(`\n  ${runId}  running  ${GOAL}\n`);
    expect(two.stderr).toMatch(/^ {2}orch stop RUN$/m);
    expect((await box.status(first)).status).toBe("running");

    const byId = await box.orch(["abort", second]);
    expect(byId.code, byId.stderr).toBe(0);
    const only = await box.orch(["abort"]);
    expect(only.code, only.stderr).toBe(0);
    expect(only.stderr).toBe(`orch: abort run ${first}, the only live run: ${GOAL}\n`);
    expect(only.stdout).toContain(`Run ${first} aborted. Report: `);

    const none = await box.orch(["pause"]);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/^orch: no run is live, so there is none to pause\n {2}name one: orch pause RUN \(`orch list` shows the runs\)\n$/);
    for (const runId of [first, second]) expect((await untilEnded(box, runId)).status).toBe("aborted");
  });
});

describe("first use from several processes", () => {
  it("three orch run --detach started together in a repository without .orch/: every one starts and succeeds", async () => {
    for (let round = 0; round < 3; round++) {
      const box = sandbox({ FIX_ON_ATTEMPT: "1" });
      const started = await Promise.all(
        [1, 2, 3].map(() => box.orch(["run", GOAL, "--verify", VERIFY, "--agent-command", agent("fix-on-attempt.sh"), "--detach"])),
      );
      const runIds = started.map((result) => {
        expect(result.code, `round ${round}: ${result.stderr}`).toBe(0);
        expect(result.stderr).not.toMatch(/internal error|MigrationError|^\s+at /m);
        const runId = /^Run (\S+) is running in the background/m.exec(result.stdout)?.[1];
        if (runId === undefined) throw new Error(`no run id in:\n${result.stdout}`);
        return runId;
      });
      expect(new Set(runIds).size).toBe(3);
      for (const runId of runIds) expect(await untilEnded(box, runId)).toMatchObject({ status: "succeeded", attempts: 1 });
    }
  });
});

describe("Ctrl-C on a foreground run", () => {
  it("SIGINT: exit 130, the agent stopped at once, the run paused; orch resume continues it in the foreground to success", async () => {
    const box = sandbox();
    const cli = box.start(["run", GOAL, "--verify", VERIFY, "--agent-command", agent("hang-once.sh"), "--json"]);
    const pid = await agentPid(box, 1);
    expect(isRunning(pid)).toBe(true);

    const interruptedAt = performance.now();
    cli.signal("SIGINT");
    const result = await cli.done;
    expect(result.code, result.stderr).toBe(130);
    expect(performance.now() - interruptedAt).toBeLessThan(8_000);
    expect(isRunning(pid)).toBe(false);

    const json = parseRunResult(result);
    expect(json).toMatchObject({ status: "paused", attempts: 1 });
    const view = await box.status(json.runId);
    expect(view.status).toBe("paused");
    expect(view.reason).toMatch(/^interrupted \(Ctrl-C.*`orch resume /);
    expect(view.lastResult).toMatch(/^attempt 1 failed \(crashed: interrupted/);
    expect(view.next).toBe(`nothing until \`orch resume ${json.runId}\``);
    // Stopped by a person: no failure of the agent's, nothing recovered.
    expect(view.figures).toMatchObject({ failuresByKind: {}, interrupted: 1, recovered: 0, escalated: 0 });

    // Started in the foreground, resumed in the foreground: the command runs the run to its end.
    const resumed = await box.orch(["resume", json.runId, "--json"]);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(parseRunResult(resumed)).toMatchObject({ runId: json.runId, status: "succeeded", attempts: 2 });
    const again = await box.orch(["resume", json.runId]);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain(`run ${json.runId} has already ended (succeeded); there is nothing to resume`);
  });
});
