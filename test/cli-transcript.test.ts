// An attempt whose transcript cannot be written, through the built CLI: the run goes on (the agent's events
// still reach the journal), and the loss is a warning in the run's log and in `orch status`, journaled once.
import { describe, expect, it } from "vitest";
import { parseEventLines, parseRunResult } from "./support/cli.js";
import { FILES, GOAL, VERIFY } from "./support/detached.js";
import { fixtureAgent, useSandboxes } from "./support/e2e.js";

const sandboxes = useSandboxes({ prefix: "orch-cli-transcript-", graceMs: 3_000 });

describe("a transcript that cannot be written", () => {
  it("is a warning in status and in the run's log, once for the attempt; the run still converges", async () => {
    const box = sandboxes.orchRepo(FILES);
    const result = await box.orch(["run", GOAL, "--verify", VERIFY, "--agent-command", fixtureAgent("spoil-next-transcript.sh"), "--json"]);
    expect(result.code, result.stderr).toBe(0);
    const { runId, status, attempts } = parseRunResult(result);
    expect({ status, attempts }).toEqual({ status: "succeeded", attempts: 2 });

    const warning = new RegExp(`^attempt 2: its transcript \\S+/${runId}\\.[^/]+\\.2\\.jsonl cannot be written \\(ENOSPC: no space left on device, write\\); the agent's raw output from here on is lost, its events are still journaled$`);
    const view = await box.status(runId);
    expect(view.warnings).toEqual([expect.stringMatching(warning)]);
    const human = await box.orch(["status", runId]);
    expect(human.stdout).toMatch(/^ {2}warning {3}attempt 2: its transcript .* cannot be written \(ENOSPC/m);

    const logs = await box.orch(["logs", runId, "--json"]);
    expect(logs.code, logs.stderr).toBe(0);
    const notes = parseEventLines(logs.stdout).filter((e) => e.type === "run.noted");
    expect(notes).toEqual([expect.objectContaining({ attemptId: `${runId}.${view.tasks[0]?.id ?? ""}.2`, data: { message: expect.stringMatching(warning), level: "warning" } })]);
    // The agent's events of that attempt are in the journal all the same.
    expect(parseEventLines(logs.stdout).some((e) => e.type === "agent.emitted" && JSON.stringify(e.data).includes("attempt 2: sum now adds"))).toBe(true);
  });
});
