// Big inputs (issue 13): a plan whose goal is 1 MB reaches its agent whole (no `spawn E2BIG`: the prompt goes on
// stdin and in a file, ORCH_PROMPT only when small); `orch status` of a run of many tasks prints bounded lines on a
// terminal, while `--json` lists everything.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseRunResult } from "./support/cli.js";
import { useSandboxes } from "./support/e2e.js";

const sandboxes = useSandboxes({ prefix: "orch-cli-big-" });

/** Words and lines, 1 MiB and a little, ending in a marker the agent looks for. */
const BIG_GOAL = `${"Rename every helper listed here and keep each call site working.\n".repeat(17_000)}END-OF-THE-BIG-GOAL`;

describe("a 1 MB goal in a plan file", () => {
  it("reaches the command agent whole on stdin and in ORCH_PROMPT_FILE (0600), not in ORCH_PROMPT; the run succeeds", { timeout: 60_000 }, async () => {
    expect(BIG_GOAL.length).toBeGreaterThan(1024 * 1024);
    const box = sandboxes.orchRepo({ "README.md": "# big\n" });
    const plan = join(box.repo.root, "plan.json");
    writeFileSync(plan, JSON.stringify({ tasks: [{ id: "rename", title: "Rename the helpers", goal: BIG_GOAL }] }));
    // The agent checks what it was given and says so in a file the verify command reads.
    const agent = [
      'cat > "$AGENT_OUT/stdin.txt"',
      'cmp -s "$AGENT_OUT/stdin.txt" "$ORCH_PROMPT_FILE" || { echo "stdin and the file differ"; exit 1; }',
      'grep -q END-OF-THE-BIG-GOAL "$ORCH_PROMPT_FILE" || { echo "the goal is cut"; exit 1; }',
      '[ "$(stat -c %a "$ORCH_PROMPT_FILE")" = 600 ] || { echo "the file is readable by others"; exit 1; }',
      '[ -z "${ORCH_PROMPT+set}" ] || { echo "ORCH_PROMPT is set"; exit 1; }',
      "echo done > renamed.txt",
    ].join("\n");
    const result = await box.orch(["run", "rename the helpers", "--plan-file", plan, "--verify", "test -f renamed.txt", "--agent-command", agent, "--max-attempts", "1", "--json"], { timeoutMs: 50_000 });
    expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(0);
    expect(parseRunResult(result)).toMatchObject({ status: "succeeded" });
  });
});
