// Agent output never steers the user's terminal: an agent that prints a window-title sequence, an OSC 52
// clipboard write, a clear-screen and a carriage return followed by a fake passing line has all of it shown as
// escapes by `orch logs`, `orch logs -f`, `orch status` (its "now" line, while the agent runs) and the report;
// `--json` keeps the agent's text exact.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { jsonLines, parseRunResult, waitFor } from "./support/cli.js";
import { useSandboxes } from "./support/e2e.js";

const sandboxes = useSandboxes({ prefix: "orch-cli-escapes-", graceMs: 3_000 });

const HOSTILE = ["\u001b]0;pwned\u0007", "\u001b]52;c;ZXZpbA==\u0007", "\u001b[2J", "FAIL\r✔ pass"];
/** printf's own escapes for the same bytes, so that the agent prints them raw. */
const AGENT = `printf '\\033]0;pwned\\007 \\033]52;c;ZXZpbA==\\007 \\033[2J FAIL\\r✔ pass\\n'`;
const RAW = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;

const Emitted = z.object({ type: z.literal("agent.emitted"), data: z.object({ type: z.string(), text: z.string().optional() }) });

describe("agent output on the terminal", () => {
  it("is shown as escapes by logs, logs -f, status and the report; --json keeps it exact", { timeout: 60_000 }, async () => {
    const box = sandboxes.orchRepo({ "README.md": "x\n" });
    const ran = await box.orch(["run", "print things", "--verify", "true", "--agent-command", AGENT, "--json"]);
    expect(ran.code, ran.stderr).toBe(0);
    const { runId, report } = parseRunResult(ran);
    for (const args of [["logs", runId], ["logs", runId, "-f"], ["status", runId], ["report", runId]]) {
      const shown = await box.orch(args);
      expect(shown.code, shown.stderr).toBe(0);
      expect(shown.stdout, args.join(" ")).not.toMatch(RAW);
      expect(shown.stderr, args.join(" ")).not.toMatch(RAW);
    }
    const logs = (await box.orch(["logs", runId])).stdout;
    expect(logs).toContain("\\u001b]0;pwned\\u0007");
    expect(logs).toContain("FAIL\\u000d✔ pass");
    expect(readFileSync(report ?? "", "utf8")).not.toMatch(RAW);

    // --json: the same text, exactly as the agent printed it.
    const json = (await box.orch(["logs", runId, "--json"])).stdout;
    const texts = jsonLines(json).flatMap((line) => {
      const event = Emitted.safeParse(line);
      return event.success && event.data.data.text !== undefined ? [event.data.data.text] : [];
    });
    expect(texts.join("\n")).toContain(HOSTILE.join(" "));
  });

  it("is shown as escapes in status's now line while the agent runs", { timeout: 60_000 }, async () => {
    const box = sandboxes.orchRepo({ "README.md": "x\n" });
    const started = await box.orch(["run", "print and wait", "--verify", "true", "--agent-command", `${AGENT}; sleep 30`, "--detach", "--json"]);
    expect(started.code, started.stderr).toBe(0);
    const { runId } = parseRunResult(started);
    const status = await waitFor("the agent's line in status", async () => {
      const shown = await box.orch(["status", runId]);
      return /now\s+attempt 1: .*pwned/.test(shown.stdout) ? shown : undefined;
    });
    expect(status.stdout).not.toMatch(RAW);
    expect(status.stdout).toContain("\\u001b[2J");
    expect((await box.orch(["abort", runId])).code).toBe(0);
  });
});
