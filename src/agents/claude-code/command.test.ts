// The command line and environment the claude-code adapter builds for new and resumed sessions.
import { describe, expect, it } from "vitest";
import type { AgentInvocation } from "../agent.js";
import { UsageError } from "../../core/errors.js";
import { ORCH_IDS, testInvocation, USER_ENV } from "../../../test/support/agent-fixtures.js";
import { createClaudeCodeAdapter, DEFAULT_ALLOWED_TOOLS } from "./index.js";
import { buildClaudeCommand, retryBoundEnv } from "./command.js";

const invocation = testInvocation({ env: { ...USER_ENV, ANTHROPIC_BASE_URL: "http://127.0.0.1:9999" } });

/** What orch sets for Claude when the environment does not (src/agents/retry-bounds.ts). */
const CLAUDE_BOUNDS = { CLAUDE_CODE_MAX_RETRIES: "1", API_TIMEOUT_MS: "300000" };

const BASE = [
  "-p",
  "--output-format",
  "stream-json",
  "--verbose",
  "--permission-mode",
  "acceptEdits",
  "--allowedTools",
  "Read,Write,Edit,MultiEdit,Glob,Grep,Bash,TodoWrite",
];

describe("claude-code build()", () => {
  it("a new session: print mode, stream-json, root-safe permissions, the prompt on stdin", () => {
    const command = createClaudeCodeAdapter().build(invocation);
    expect(command.file).toBe("claude");
    expect(command.args).toEqual(BASE);
    expect(command.stdin).toBe("Fix the failing tests in src/");
    expect(command.args).not.toContain("--dangerously-skip-permissions");
    expect(DEFAULT_ALLOWED_TOOLS).toEqual(["Read", "Write", "Edit", "MultiEdit", "Glob", "Grep", "Bash", "TodoWrite"]);
  });

  it("a resumed session with a model, max turns, own tools, bin and extra args", () => {
    const adapter = createClaudeCodeAdapter({
      bin: "/opt/claude/bin/claude",
      maxTurns: 40,
      allowedTools: ["Read", "Bash(npm test:*)"],
      extraArgs: ["--fallback-model", "claude-haiku-4-5"],
    });
    const command = adapter.build({ ...invocation, model: "claude-sonnet-4-5", resumeSessionId: "8ffdbdfd-0e4b" });
    expect(command.file).toBe("/opt/claude/bin/claude");
    expect(command.args).toEqual([
      "-p",
      "--output-format",
      "stream-json",
      "--verbose",
      "--permission-mode",
      "acceptEdits",
      "--allowedTools",
      "Read,Bash(npm test:*)",
      "--model",
      "claude-sonnet-4-5",
      "--resume",
      "8ffdbdfd-0e4b",
      "--max-turns",
      "40",
      "--fallback-model",
      "claude-haiku-4-5",
    ]);
    expect(command.stdin).toBe("Fix the failing tests in src/");
  });

  it("a prompt that looks like an option stays the prompt: it is never an argument", () => {
    const command = createClaudeCodeAdapter().build({ ...invocation, prompt: "--help me\nplease" });
    expect(command.args).toEqual(BASE);
    expect(command.stdin).toBe("--help me\nplease");
  });

  it("the environment is the invocation's plus the ORCH_ variables, without touching the original", () => {
    const command = createClaudeCodeAdapter().build(invocation);
    expect(command.env).toEqual({ ...USER_ENV, ANTHROPIC_BASE_URL: "http://127.0.0.1:9999", ...ORCH_IDS, ...CLAUDE_BOUNDS });
    expect(invocation.env.ORCH_RUN_ID).toBeUndefined();
    expect(createClaudeCodeAdapter().build({ ...invocation, model: "m1" }).env).toMatchObject({ ORCH_ATTEMPT: "2" });
  });

  it("bounds Claude's own retries and request timeout (retry-bounds.ts) unless the environment sets them", () => {
    expect(createClaudeCodeAdapter().build(invocation).env).toMatchObject({ CLAUDE_CODE_MAX_RETRIES: "1", API_TIMEOUT_MS: "300000" });
    const own = { ...invocation, env: { ...invocation.env, CLAUDE_CODE_MAX_RETRIES: "0", API_TIMEOUT_MS: "" } };
    expect(createClaudeCodeAdapter().build(own).env).toMatchObject({ CLAUDE_CODE_MAX_RETRIES: "0", API_TIMEOUT_MS: "300000" });
    const shorter = createClaudeCodeAdapter({ retryBounds: { maxRetries: 0, requestTimeoutMs: 5_000 } }).build(invocation);
    expect(shorter.env).toMatchObject({ CLAUDE_CODE_MAX_RETRIES: "0", API_TIMEOUT_MS: "5000" });
    expect(retryBoundEnv({ CLAUDE_CODE_MAX_RETRIES: undefined })).toEqual(CLAUDE_BOUNDS);
  });

  it("options are copied: changing the caller's arrays later changes nothing", () => {
    const extraArgs = ["--fallback-model", "a"];
    const adapter = createClaudeCodeAdapter({ extraArgs });
    extraArgs.push("--oops");
    expect(adapter.build(invocation).args).not.toContain("--oops");
  });

  it("rejects options that cannot work", () => {
    expect(() => createClaudeCodeAdapter({ maxTurns: 0 })).toThrow(UsageError);
    expect(() => createClaudeCodeAdapter({ maxTurns: 2.5 })).toThrow(UsageError);
    expect(() => createClaudeCodeAdapter({ bin: " " })).toThrow(UsageError);
    expect(() => createClaudeCodeAdapter({ allowedTools: ["Read,Write"] })).toThrow(UsageError);
  });

  it("is named claude-code", () => {
    expect(createClaudeCodeAdapter().name).toBe("claude-code");
  });
});

describe("claude-code permissions", () => {
  const argsFor = (permission: AgentInvocation["permission"], asRoot: boolean) =>
    buildClaudeCommand({ ...invocation, permission }, {}, asRoot).args;
  it("read-only allows only tools that look", () => {
    const args = argsFor("read-only", false);
    expect(args.slice(4, 8)).toEqual(["--permission-mode", "default", "--allowedTools", "Read,Glob,Grep,TodoWrite"]);
    expect(args.join(" ")).not.toMatch(/Write,|Bash|Edit/);
  });
  it("full bypasses permissions, except as root where the tools are allowed one by one", () => {
    expect(argsFor("full", false)).toContain("--dangerously-skip-permissions");
    const root = argsFor("full", true);
    expect(root).not.toContain("--dangerously-skip-permissions");
    expect(root).not.toContain("bypassPermissions");
    expect(root[root.indexOf("--allowedTools") + 1]).toContain("WebFetch");
  });
  it("grants tools denied earlier only at full as root, where tools are allowed one by one", () => {
    const granted = (permission: AgentInvocation["permission"], asRoot: boolean) =>
      buildClaudeCommand({ ...invocation, permission, grantedTools: ["CronCreate"] }, {}, asRoot).args;
    const root = granted("full", true);
    expect(root[root.indexOf("--allowedTools") + 1]?.split(",").at(-1)).toBe("CronCreate");
    expect(granted("full", false)).not.toContain("CronCreate");
    expect(granted("workspace-write", true).join(" ")).not.toContain("CronCreate");
  });
  it("workspace-write is the same as root or not", () => {
    expect(argsFor("workspace-write", true)).toEqual(argsFor("workspace-write", false));
  });
});
