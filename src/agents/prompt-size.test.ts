// A prompt of any size reaches every agent: never in one argument or environment string, which Linux limits to
// 128 KiB (MAX_ARG_STRLEN; spawn fails with E2BIG), and never making the whole command line too long.
import { describe, expect, it } from "vitest";
import { testInvocation } from "../../test/support/agent-fixtures.js";
import type { AgentAdapter, AgentCommand } from "./agent.js";
import { createClaudeCodeAdapter } from "./claude-code/index.js";
import { createCodexAdapter } from "./codex/index.js";
import { createCommandAdapter, MAX_ENV_PROMPT_BYTES } from "./command/index.js";
import { createGeminiAdapter } from "./gemini/index.js";
import { createOpenCodeAdapter } from "./opencode/index.js";

const MAX_ARG_STRLEN = 128 * 1024;
/** 1 MiB of prompt, in words and lines, with a character outside ASCII so that bytes and characters differ. */
const BIG = `# Goal\n\n${"Make the parser accept every case listed — each one.\n".repeat(20_000)}`.slice(0, 1024 * 1024);
const PROMPT_FILE = "/repo/.orch/logs/r1/r1.fix-tests.2.prompt.md";

const ADAPTERS: [string, AgentAdapter][] = [
  ["claude-code", createClaudeCodeAdapter()],
  ["codex", createCodexAdapter()],
  ["gemini", createGeminiAdapter()],
  ["opencode", createOpenCodeAdapter()],
  ["command", createCommandAdapter("./agent.sh")],
];

/** The longest single string the kernel would be handed: an argument, or a `NAME=value` of the environment. */
function longestString(command: AgentCommand): number {
  const env = Object.entries(command.env).map(([name, value]) => `${name}=${value ?? ""}`);
  return Math.max(...[command.file, ...command.args, ...env].map((s) => Buffer.byteLength(s, "utf8") + 1));
}

describe("a 1 MiB prompt", () => {
  expect(Buffer.byteLength(BIG, "utf8")).toBeGreaterThan(1024 * 1024);

  for (const [name, adapter] of ADAPTERS) {
    it(`${name}: goes on stdin, whole; no argument or environment string holds it`, () => {
      const command = adapter.build(testInvocation({ prompt: BIG, promptFile: PROMPT_FILE }));
      expect(command.stdin).toBe(BIG);
      expect(longestString(command)).toBeLessThan(MAX_ARG_STRLEN);
      for (const arg of command.args) expect(arg).not.toContain("Make the parser accept");
    });
  }
});

describe("the command agent's prompt variables", () => {
  const adapter = createCommandAdapter("./agent.sh");

  it("a small prompt is in ORCH_PROMPT too; the file is named in ORCH_PROMPT_FILE", () => {
    const env = adapter.build(testInvocation({ promptFile: PROMPT_FILE })).env;
    expect(env["ORCH_PROMPT"]).toBe("Fix the failing tests in src/");
    expect(env["ORCH_PROMPT_FILE"]).toBe(PROMPT_FILE);
  });

  it("a prompt over 64 KiB is not in ORCH_PROMPT, and an inherited one is dropped rather than passed on", () => {
    const justOver = "é".repeat(MAX_ENV_PROMPT_BYTES / 2 + 1);
    const env = adapter.build(testInvocation({ prompt: justOver, promptFile: PROMPT_FILE, env: { ORCH_PROMPT: "stale", ORCH_PROMPT_FILE: "/stale" } })).env;
    expect(env["ORCH_PROMPT"]).toBeUndefined();
    expect("ORCH_PROMPT" in env).toBe(false);
    expect(env["ORCH_PROMPT_FILE"]).toBe(PROMPT_FILE);
    const exact = adapter.build(testInvocation({ prompt: "é".repeat(MAX_ENV_PROMPT_BYTES / 2) })).env;
    expect(exact["ORCH_PROMPT"]).toHaveLength(MAX_ENV_PROMPT_BYTES / 2);
    expect("ORCH_PROMPT_FILE" in exact).toBe(false);
  });
});
