// Runs that survive the death of their supervisor, and runs paused and resumed: `orch resume` after a SIGKILL
// of a detached supervisor (status first tells the truth about it), `orch pause` then `orch resume`, two
// resumes racing for one run, and SIGTERM's drain. Every process is real; afterEach fails the test if one of
// them (a supervisor, an agent) is left.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { isRunning, parseJsonOutput, ListJson, parseRunResult, waitFor } from "./support/cli.js";
import { agentPid, detach as detachRun, FILES, GOAL, untilEnded, untilGone, VERIFY } from "./support/detached.js";
import { AttemptStartedData, eventData, fixtureAgent as agent, readJournal, useSandboxes, type OrchSandbox } from "./support/e2e.js";
import { z } from "zod";

const sandboxes = useSandboxes({ prefix: "orch-cli-resume-", graceMs: 3_000 });
const sandbox = (agentEnv: Record<string, string> = {}): OrchSandbox => sandboxes.orchRepo(FILES, agentEnv);

const RunResumedData = z.object({ pid: z.number(), from: z.enum(["paused", "waiting", "crashed"]), reconciled: z.array(z.string()) });

const detach = async (box: OrchSandbox, args: readonly string[]): Promise<string> => (await detachRun(box, args)).runId;

describe("orch resume after the supervisor was killed", () => {
  it("status calls the run stale and names its orphan agent; resume stops the orphan, stays detached, and converges", async () => {
    const box = sandbox();
    const runId = await detach(box, ["--agent-command", agent("hang-once.sh")]);
    // The agent's own process (the fixture execs `sleep`); the journal has the leader of its group, the shell orch started.
    const sleeper = await agentPid(box, 1);
    const live = await box.status(runId);
    const orphan = readJournal(box.repo, runId).attempts[0]?.pid ?? 0;
    expect(live).toMatchObject({ status: "running", processAlive: true, stale: false, orphans: [] });
    const supervisor = live.pid ?? 0;
    process.kill(supervisor, "SIGKILL");
    await untilGone("the supervisor", supervisor);

    // The journal still says running; status says what is true.
    const stale = await box.status(runId);
    expect(stale).toMatchObject({ status: "running", processAlive: false, stale: true });
    expect(stale.orphans).toEqual([{ attemptId: `${runId}.${stale.tasks[0]?.id ?? ""}.1`, pid: orphan }]);
    expect(stale.next).toBe(`its supervisor (pid ${supervisor}) is gone; its agent pid ${orphan} (attempt 1) still runs unwatched; \`orch resume ${runId}\` continues the run`);
    const text = await box.orch(["status", runId]);
    expect(text.stdout).toContain(`run ${runId}: running — STALE: its supervisor is gone`);
    const list = await box.orch(["list", "--json"]);
    expect(parseJsonOutput(ListJson, list.stdout)).toEqual([expect.objectContaining({ runId, status: "running", stale: true })]);
    expect((await box.orch(["list"])).stdout).toContain("running (stale: supervisor gone)");

    // Started detached, resumed detached: the command returns once the new supervisor holds the run.
    const resumed = await box.orch(["resume", runId]);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stdout).toMatch(new RegExp(`^Run ${runId} resumed in the background \\(pid \\d+\\)\\.`));
    const ended = await untilEnded(box, runId);
    expect(ended).toMatchObject({ status: "succeeded", attempts: 2, stale: false });
    expect(isRunning(orphan)).toBe(false);
    expect(isRunning(sleeper)).toBe(false);

    const journal = readJournal(box.repo, runId);
    expect(journal.attempts.map((a) => [a.number, a.status, a.exit_reason, a.failure?.kind ?? null])).toEqual([
      [1, "failed", "orphaned", "crashed"],
      [2, "succeeded", "exited", null],
    ]);
    expect(journal.attempts[0]?.failure?.detail).toBe("the supervisor died while the agent worked; the attempt was cut short");
    const [resumedEvent, ...more] = eventData(journal, "run.resumed", RunResumedData);
    expect(more).toEqual([]);
    expect(resumedEvent?.from).toBe("crashed");
    expect(resumedEvent?.reconciled).toEqual([
      `stopped 1 agent process group(s) left running by the dead supervisor (pids ${orphan})`,
      `attempt ${journal.attempts[0]?.id ?? ""}: ended as crashed (the supervisor died while the agent worked; the attempt was cut short)`,
    ]);
    expect(eventData(journal, "attempt.started", AttemptStartedData).map((a) => a.number)).toEqual([1, 2]);
    // The transcript view tells the story too.
    const logs = await box.orch(["logs", runId]);
    expect(logs.stdout).toMatch(/── run resumed after its supervisor died \(pid \d+, detached\)\n\s+· stopped 1 agent process group/);
  });

  it("a commit cut short: the index.lock a killed git left is removed on resume, and the run commits its work", async () => {
    const box = sandbox();
    const runId = await detach(box, ["--agent-command", agent("hang-once.sh")]);
    await agentPid(box, 1);
    const view = await box.status(runId);
    const worktree = join(box.repo.runWorktrees, runId, view.tasks[0]?.id ?? "");
    process.kill(view.pid ?? 0, "SIGKILL");
    await untilGone("the supervisor", view.pid ?? 0);
    // What a supervisor killed in the middle of `git add`/`git commit` leaves behind.
    const lock = box.repo.git(["rev-parse", "--path-format=absolute", "--git-path", "index.lock"], worktree);
    writeFileSync(lock, "");

    const resumed = await box.orch(["resume", runId]);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(await untilEnded(box, runId)).toMatchObject({ status: "succeeded", attempts: 2 });
    expect(existsSync(lock)).toBe(false);
    const journal = readJournal(box.repo, runId);
    expect(eventData(journal, "run.resumed", RunResumedData)[0]?.reconciled).toContain(
      `task ${view.tasks[0]?.id ?? ""}: removed a stale git index.lock left by the crash`,
    );
    expect(box.repo.git(["show", `${journal.tasks[0]?.branch ?? ""}:sum.mjs`])).toContain("return a + b;");
  });

  it("killed between verifying and committing: the verdict in the journal stands, the criteria do not run again", async () => {
    const box = sandbox();
    // A git that holds orch's first commit until the test has killed the supervisor.
    const bin = join(box.repo.root, "bin");
    mkdirSync(bin);
    const realGit = execFileSync("sh", ["-c", "command -v git"], { encoding: "utf8" }).trim();
    writeFileSync(join(bin, "git"), `#!/bin/sh\ncase " $* " in *" commit "*) [ -e "$AGENT_OUT/held" ] || { echo $$ > "$AGENT_OUT/held"; exec sleep 60; } ;; esac\nexec ${realGit} "$@"\n`, { mode: 0o755 });
    const env = { ...box.env, PATH: `${bin}:${box.env.PATH ?? process.env.PATH ?? ""}` };
    const fix = `printf 'export function sum(a, b) {\\n  return a + b;\\n}\\n' > sum.mjs`;
    const started = await box.orch(["run", GOAL, "--verify", VERIFY, "--verify", `echo once >> "$AGENT_OUT/verified"`, "--agent-command", fix, "--detach"], { env });
    expect(started.code, started.stderr).toBe(0);
    const runId = /^Run (\S+) is running/m.exec(started.stdout)?.[1] ?? "";
    const marker = join(box.out, "held");
    const held = Number(await waitFor("orch's commit", () => (existsSync(marker) ? readFileSync(marker, "utf8").trim() || undefined : undefined)));
    const view = await box.status(runId);
    process.kill(view.pid ?? 0, "SIGKILL");
    await untilGone("the supervisor", view.pid ?? 0);
    process.kill(held, "SIGKILL");

    const resumed = await box.orch(["resume", runId], { env });
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(await untilEnded(box, runId)).toMatchObject({ status: "succeeded", attempts: 1 });
    expect(readFileSync(join(box.out, "verified"), "utf8")).toBe("once\n");
    const journal = readJournal(box.repo, runId);
    expect(journal.events.filter((e) => e.type === "verify.completed")).toHaveLength(1);
    expect(eventData(journal, "run.resumed", RunResumedData)[0]?.reconciled).toEqual([
      `attempt ${runId}.${view.tasks[0]?.id ?? ""}.1: the agent had finished; its verification is in the journal, so it is finished from there`,
    ]);
    expect(box.repo.git(["show", `${journal.tasks[0]?.branch ?? ""}:sum.mjs`])).toContain("return a + b;");
  });

  it("two resumes at once: one takes the run, the other says who drives it (exit 2) and starts nothing", async () => {
    const box = sandbox({ AGENT_SLEEP: "2", FIX_ON_ATTEMPT: "2" });
    const runId = await detach(box, ["--agent-command", agent("fix-on-attempt.sh")]);
    await agentPid(box, 1);
    const supervisor = (await box.status(runId)).pid ?? 0;
    process.kill(supervisor, "SIGKILL");
    await untilGone("the supervisor", supervisor);

    const [a, b] = await Promise.all([box.orch(["resume", runId]), box.orch(["resume", runId])]);
    const codes = [a.code, b.code].sort();
    expect(codes, `${a.stderr}\n${b.stderr}`).toEqual([0, 2]);
    const loser = a.code === 2 ? a : b;
    expect(loser.stderr).toMatch(new RegExp(`run ${runId} (was not resumed: )?.*already driven by process \\d+ on `));
    const ended = await untilEnded(box, runId);
    expect(ended).toMatchObject({ status: "succeeded" });
    const journal = readJournal(box.repo, runId);
    expect(eventData(journal, "run.resumed", RunResumedData)).toHaveLength(1);
    // No attempt was recorded twice: numbers run 1, 2, … without a repeat.
    expect(journal.attempts.map((x) => x.number)).toEqual(journal.attempts.map((_, i) => i + 1));
  });
});

describe("orch pause and orch resume", () => {
  it("pause lets the current attempt finish and pauses the run; resume continues it, detached as it started", async () => {
    // Three seconds per attempt, as for orch stop: time enough for `orch pause` (a CLI start on a busy machine) to
    // arrive while attempt 1 runs. With one second it lost the race on a loaded machine and attempt 2 began.
    const box = sandbox({ AGENT_SLEEP: "3", FIX_ON_ATTEMPT: "2" });
    const runId = await detach(box, ["--agent-command", agent("fix-on-attempt.sh")]);
    await agentPid(box, 1);
    const paused = await box.orch(["pause", runId, "--wait", "20"]);
    expect(paused.code, paused.stderr).toBe(0);
    const view = await box.status(runId);
    expect(view).toMatchObject({ status: "paused", attempts: 1, processAlive: null, stale: false });
    expect(view.lastResult).toMatch(/^attempt 1 failed \(verify_failed: /);
    expect(view.reason).toBe(`paused on request after 1 attempt(s); \`orch resume ${runId}\` continues it`);
    // Nothing runs while paused; a second pause has nothing to pause.
    expect(existsSync(join(box.out, "pid.2"))).toBe(false);
    const again = await box.orch(["pause", runId]);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain(`run ${runId} is paused; nothing drives it, so there is nothing to pause`);

    const resumed = await box.orch(["resume", runId, "--json"]);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(parseRunResult(resumed)).toMatchObject({ runId, status: "running" });
    expect(await untilEnded(box, runId)).toMatchObject({ status: "succeeded", attempts: 2 });
    const journal = readJournal(box.repo, runId);
    expect(eventData(journal, "run.resumed", RunResumedData).map((e) => [e.from, e.reconciled])).toEqual([["paused", []]]);
    // The resumed attempt knew the first one's failure: the handoff survived the pause.
    expect(readFileSync(join(box.out, "stdin.2"), "utf8")).toContain("Earlier attempts on this task: 1");
  });

  it("a run that waits for a human (refused credentials, exit 3) goes on with orch resume once they are fixed", async () => {
    const box = sandbox();
    const first = await box.orch(["run", GOAL, "--verify", VERIFY, "--agent-command", agent("auth-until-key.sh"), "--json"]);
    expect(first.code, first.stderr).toBe(3);
    const { runId } = parseRunResult(first);
    expect(await box.status(runId)).toMatchObject({ status: "waiting", attempts: 1, stale: false });
    writeFileSync(join(box.out, "key"), "fixed\n");
    const resumed = await box.orch(["resume", runId, "--json"]);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(parseRunResult(resumed)).toMatchObject({ runId, status: "succeeded", attempts: 2 });
    const journal = readJournal(box.repo, runId);
    expect(eventData(journal, "run.resumed", RunResumedData).map((e) => e.from)).toEqual(["waiting"]);
    expect(journal.attempts.map((a) => a.failure?.kind ?? null)).toEqual(["auth_failed", null]);
  });

  it("resume refuses a run that ended, and a run that a live supervisor drives", async () => {
    const box = sandbox({ AGENT_SLEEP: "3", FIX_ON_ATTEMPT: "1" });
    const runId = await detach(box, ["--agent-command", agent("fix-on-attempt.sh")]);
    const busy = await box.orch(["resume", runId]);
    expect(busy.code).toBe(2);
    expect(busy.stderr).toMatch(new RegExp(`run ${runId} is already driven by process \\d+ on `));
    expect(await untilEnded(box, runId)).toMatchObject({ status: "succeeded" });
    const done = await box.orch(["resume", runId]);
    expect(done.code).toBe(2);
    expect(done.stderr).toContain("there is nothing to resume");
    const unknown = await box.orch(["resume", "nope"]);
    expect(unknown.code).toBe(2);
  });
});

describe("SIGTERM drains a run", () => {
  it("no new attempt starts; the running one finishes within the grace; the run stops with a report", async () => {
    const box = sandbox({ AGENT_SLEEP: "1", FIX_ON_ATTEMPT: "3" });
    const cli = box.start(["run", GOAL, "--verify", VERIFY, "--agent-command", agent("fix-on-attempt.sh"), "--json"]);
    await agentPid(box, 1);
    cli.signal("SIGTERM");
    const result = await cli.done;
    expect(result.code, result.stderr).toBe(1);
    const out = parseRunResult(result);
    expect(out).toMatchObject({ status: "stopped", attempts: 1 });
    expect(out.reason).toBe("stopped on request after 1 attempt(s)");
    // The attempt ran to its end and was verified, not cut short.
    const journal = readJournal(box.repo, out.runId);
    expect(journal.attempts.map((a) => [a.status, a.exit_reason, a.failure?.kind])).toEqual([["failed", "exited", "verify_failed"]]);
    expect(existsSync(out.report ?? "")).toBe(true);
    expect(journal.events.find((e) => e.type === "run.stop-requested")?.data).toMatchObject({ mode: "stop", by: expect.stringContaining("SIGTERM") });
  });

  it("an attempt that outlasts the grace is stopped (and said so), and the run still ends cleanly", async () => {
    const box = sandbox();
    writeFileSync(join(box.repo.dir, "orch.config.yaml"), "limits:\n  drainGrace: 1s\n");
    const cli = box.start(["run", GOAL, "--verify", VERIFY, "--agent-command", agent("hang-once.sh"), "--json"]);
    const pid = await agentPid(box, 1);
    cli.signal("SIGTERM");
    const result = await cli.done;
    expect(result.code, result.stderr).toBe(1);
    expect(parseRunResult(result)).toMatchObject({ status: "stopped", attempts: 1 });
    expect(isRunning(pid)).toBe(false);
    const journal = readJournal(box.repo, parseRunResult(result).runId);
    expect(journal.attempts[0]?.failure).toEqual({ kind: "crashed", detail: "stopped to end the run (the grace period ran out)" });
  });
});
