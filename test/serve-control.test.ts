// Steering live detached runs through `orch serve`'s API: pause lets the current attempt finish and pauses the
// run, resume starts a detached supervisor that carries it to its end, stop and abort end a run — the same
// functions as `orch pause|resume|stop|abort` (app/control.ts, app/resume.ts). Every process is real.
import { existsSync, rmSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { waitFor } from "./support/cli.js";
import { agentPid, detach, FILES, untilEnded } from "./support/detached.js";
import { fixtureAgent, useSandboxes } from "./support/e2e.js";
import { getJson, startServe } from "./support/serve.js";

const sandboxes = useSandboxes({ prefix: "orch-serve-control-", graceMs: 3_000 });

const post = (url: string) => getJson(url, { method: "POST", headers: { origin: new URL(url).origin } });

describe("orch serve: controls", () => {
  it("pauses a live detached run and resumes it to its end", { timeout: 120_000 }, async () => {
    // Three seconds per attempt: time for the request to arrive while attempt 1 runs.
    const box = sandboxes.orchRepo(FILES, { AGENT_SLEEP: "3", FIX_ON_ATTEMPT: "2" });
    const served = await startServe(sandboxes, box);
    try {
      const { runId } = await detach(box, ["--agent-command", fixtureAgent("fix-on-attempt.sh"), "--no-review"]);
      await agentPid(box, 1);
      const paused = await post(`${served.url}api/runs/${runId}/pause`);
      expect(paused.status).toBe(200);
      expect(paused.body).toEqual({ ok: true, status: "running", message: `Pause requested: run ${runId} finishes its current attempt, then pauses. \`orch resume ${runId}\` continues it.` });
      const view = await waitFor("the run to pause", async () => {
        const reply = await getJson(`${served.url}api/runs/${runId}`);
        const body = reply.body as { status: string; attempts: number; reason: string };
        return body.status === "paused" ? body : undefined;
      }, 30_000);
      expect(view).toMatchObject({ status: "paused", attempts: 1, reason: `paused on request after 1 attempt(s); \`orch resume ${runId}\` continues it` });
      expect(existsSync(join(box.out, "pid.2"))).toBe(false);
      // Nothing drives a paused run: a second pause is a conflict.
      const again = await post(`${served.url}api/runs/${runId}/pause`);
      expect(again.status).toBe(409);
      expect((again.body as { error: { message: string } }).error.message).toBe(`run ${runId} is paused; nothing drives it, so there is nothing to pause`);

      const resumed = await post(`${served.url}api/runs/${runId}/resume`);
      expect(resumed.status, JSON.stringify(resumed.body)).toBe(200);
      expect(resumed.body).toMatchObject({ ok: true, status: "running", message: expect.stringMatching(new RegExp(`^Run ${runId} resumed in the background \\(pid \\d+\\)\\.$`)) });
      // A second resume while its new supervisor drives it: a conflict.
      const twice = await post(`${served.url}api/runs/${runId}/resume`);
      expect(twice.status).toBe(409);
      expect(await untilEnded(box, runId, 60_000)).toMatchObject({ status: "succeeded", attempts: 2 });
    } finally {
      await served.stop();
    }
  });

  it("stops one live run and aborts another", { timeout: 120_000 }, async () => {
    const box = sandboxes.orchRepo(FILES, { AGENT_SLEEP: "3", FIX_ON_ATTEMPT: "3" });
    const served = await startServe(sandboxes, box);
    try {
      const { runId } = await detach(box, ["--agent-command", fixtureAgent("fix-on-attempt.sh"), "--no-review"]);
      await agentPid(box, 1);
      const stopped = await post(`${served.url}api/runs/${runId}/stop`);
      expect(stopped.status).toBe(200);
      expect(stopped.body).toMatchObject({ ok: true, message: expect.stringMatching(/^Stop requested: /) });
      expect(await untilEnded(box, runId, 60_000)).toMatchObject({ status: "stopped", attempts: 1 });

      rmSync(join(box.out, "pid.1"));
      const other = await detach(box, ["--agent-command", fixtureAgent("hang.sh"), "--no-review"]);
      await waitFor("the hanging agent to start", () => (existsSync(join(box.out, "pid.1")) ? true : undefined));
      const aborted = await post(`${served.url}api/runs/${other.runId}/abort`);
      expect(aborted.status).toBe(200);
      expect(aborted.body).toMatchObject({ ok: true, message: `Abort requested for run ${other.runId}; it has not ended yet. \`orch status ${other.runId}\` shows when.` });
      expect(await untilEnded(box, other.runId, 60_000)).toMatchObject({ status: "aborted" });
    } finally {
      await served.stop();
    }
  });
});
