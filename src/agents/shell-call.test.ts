// The shell commands of each CLI's recorded tool calls, through its own parser: what the risk rules read.
import { describe, expect, it } from "vitest";
import type { AgentEvent } from "../core/agent-event.js";
import { fixturesIn } from "../../test/support/agent-fixtures.js";
import { createClaudeParser } from "./claude-code/normalize.js";
import { createCodexParser } from "./codex/normalize.js";
import { createGeminiParser } from "./gemini/normalize.js";
import { createOpenCodeParser } from "./opencode/normalize.js";
import type { AgentParser } from "./agent.js";
import { shellCommandOf } from "./shell-call.js";

const commandsIn = (folder: string, name: string, parser: AgentParser): string[] =>
  fixturesIn(new URL(`./${folder}/fixtures/`, import.meta.url))
    .replay(name, parser)
    .flatMap((event) => shellCommandOf(event) ?? []);

describe("the shell commands an agent ran", () => {
  it("come from each CLI's shell tool, and from no other tool", () => {
    const found = {
      claude: commandsIn("claude-code", "claude-tools.jsonl", createClaudeParser()),
      codex: commandsIn("codex", "codex-tools.jsonl", createCodexParser()),
      gemini: commandsIn("gemini", "gemini-tools.jsonl", createGeminiParser()),
      opencode: commandsIn("opencode", "opencode-tools.jsonl", createOpenCodeParser()),
    };
    for (const [cli, commands] of Object.entries(found)) expect(commands.length, cli).toBeGreaterThan(0);
    expect(found).toMatchInlineSnapshot(`
      {
        "claude": [
          "echo hi > out.txt",
        ],
        "codex": [
          "echo hi > out.txt",
        ],
        "gemini": [
          "echo hi > out.txt",
        ],
        "opencode": [
          "echo hi > out.txt",
        ],
      }
    `);
  });

  it("reads the input's command, or the summary where the input was not kept; other tools are none", () => {
    const call = (name: string, input: unknown, summary = ""): AgentEvent => ({ type: "tool.called", name, summary, input });
    expect(shellCommandOf(call("Bash", { command: "git push" }))).toBe("git push");
    expect(shellCommandOf(call("bash", undefined, "npm publish"))).toBe("npm publish");
    expect(shellCommandOf(call("Write", { command: "git push" }, "git push"))).toBeUndefined();
    expect(shellCommandOf(call("toString", {}, "x"))).toBeUndefined();
    expect(shellCommandOf({ type: "text", text: "git push" })).toBeUndefined();
  });
});
