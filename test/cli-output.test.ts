// A closed output never ends a command badly: a foreground run whose reader goes away (`orch run … | head -1`)
// drives on to its end and exits with the run's code; a command that only prints (`orch logs RUN | head -1`)
// ends quietly. Through the built CLI, with real pipes whose reading end closes.
import { describe, expect, it } from "vitest";
import { ORCH_MAIN, parseJsonOutput, StatusJson } from "./support/cli.js";
import { fixtureAgent, useSandboxes, type OrchSandbox } from "./support/e2e.js";

const FILES = {
  "sum.mjs": "export function sum(a, b) {\n  return a - b;\n}\n",
  "test.mjs": 'import { sum } from "./sum.mjs";\nprocess.exit(sum(2, 3) === 5 ? 0 : 1);\n',
};
// Fixes it on attempt 1, a second into it: orch prints its next line after `head` has gone.
const AGENT = fixtureAgent("fix-on-attempt.sh");
const RUN = ["run", "fix it", "--verify", "node test.mjs", "--agent-command", AGENT];

const sandboxes = useSandboxes({ prefix: "orch-cli-output-", graceMs: 3_000 });
const newBox = (): OrchSandbox => sandboxes.orchRepo(FILES, { FIX_ON_ATTEMPT: "1", AGENT_SLEEP: "1" });

/**
 * `orch ARGS REDIRECT | READER` in bash; returns what the reader let through, orch's exit code (PIPESTATUS) and
 * what orch wrote to stderr when it is not part of the pipe.
 */
async function piped(box: OrchSandbox, args: readonly string[], redirect: string, reader: string) {
  const script = `"$@" ${redirect} | ${reader}; echo "exit \${PIPESTATUS[0]}"`;
  const result = await sandboxes.run("bash", ["-c", script, "bash", process.execPath, ORCH_MAIN, ...args], { cwd: box.repo.dir, env: box.env, timeoutMs: 30_000 });
  expect(result.code, result.stderr).toBe(0);
  const lines = result.stdout.trimEnd().split("\n");
  const code = Number(/^exit (\d+)$/.exec(lines.pop() ?? "")?.[1]);
  return { lines, code, stderr: result.stderr };
}

describe("a closed output", () => {
  it("a foreground run whose reader closes after the first line drives on to success and exits 0", async () => {
    const box = newBox();
    const { lines, code } = await piped(box, RUN, "2>&1", "head -1");
    expect(lines).toEqual([expect.stringMatching(/^orch: run \S+ on orch\/\S+ — fix it$/)]);
    expect(code).toBe(0);
    const status = await box.orch(["status", "--json"]);
    expect(status.code, status.stderr).toBe(0);
    const view = parseJsonOutput(StatusJson, status.stdout);
    expect(view.status, view.reason ?? "").toBe("succeeded");
    expect(view.stale).toBe(false);
  });

  it("a run whose stdout is closed from the start: no stack trace, exit 0; `orch logs` into a closed pipe ends quietly", async () => {
    const box = newBox();
    const run = await piped(box, [...RUN, "--json"], "", "head -c 0");
    expect(run.code).toBe(0);
    expect(run.stderr).not.toMatch(/EPIPE|^\s+at /m);
    expect(run.stderr).toMatch(/^orch: attempt 1: criteria 1\/1 passed · progress 100%$/m);
    for (const args of [["logs", "latest"], ["logs", "latest", "-f"], ["status"], ["report"]]) {
      const logs = await piped(box, args, "", "head -c 0");
      expect({ args, code: logs.code, stderr: logs.stderr }).toEqual({ args, code: 0, stderr: "" });
    }
  });
});
