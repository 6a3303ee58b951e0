// The command line and environment the gemini adapter builds for new and resumed sessions, per permission.
import { describe, expect, it } from "vitest";
import type { AgentInvocation } from "../agent.js";
import { UsageError } from "../../core/errors.js";
import { ORCH_IDS, testInvocation, USER_ENV } from "../../../test/support/agent-fixtures.js";
import { createGeminiAdapter } from "./index.js";

const invocation = testInvocation({ env: { ...USER_ENV, GOOGLE_GEMINI_BASE_URL: "http://127.0.0.1:9999" } });

const BASE = ["--output-format", "stream-json", "--skip-trust"];
const WORKSPACE_WRITE = ["--approval-mode", "auto_edit", "--allowed-tools=run_shell_command"];

describe("gemini build()", () => {
  it("a new session: stream-json, the worktree trusted, edits and the shell approved, the prompt on stdin", () => {
    const command = createGeminiAdapter().build(invocation);
    expect(command.file).toBe("gemini");
    expect(command.args).toEqual([...BASE, ...WORKSPACE_WRITE]);
    expect(command.stdin).toBe("Fix the failing tests in src/");
    expect(command.args).not.toContain("yolo");
  });

  it("a resumed session with a model, own bin and extra args", () => {
    const adapter = createGeminiAdapter({ bin: "/opt/gemini/bin/gemini", extraArgs: ["--include-directories", "../shared"] });
    const command = adapter.build({ ...invocation, model: "gemini-2.5-pro", resumeSessionId: "1bfe90d4-a3c7" });
    expect(command.file).toBe("/opt/gemini/bin/gemini");
    expect(command.args).toEqual([
      ...BASE,
      ...WORKSPACE_WRITE,
      "--model",
      "gemini-2.5-pro",
      "--resume",
      "1bfe90d4-a3c7",
      "--include-directories",
      "../shared",
    ]);
  });

  it("a prompt that looks like an option stays the prompt, newlines and all", () => {
    const command = createGeminiAdapter().build({ ...invocation, prompt: "--help me\n-m x" });
    expect(command.args).toEqual([...BASE, ...WORKSPACE_WRITE]);
    expect(command.stdin).toBe("--help me\n-m x");
  });

  it("the environment is the invocation's plus the ORCH_ variables; the user's own settings decide where it talks and how often it retries (no per-run setting exists)", () => {
    const command = createGeminiAdapter().build(invocation);
    expect(command.env).toEqual({ ...USER_ENV, GOOGLE_GEMINI_BASE_URL: "http://127.0.0.1:9999", ...ORCH_IDS });
    expect(invocation.env.ORCH_RUN_ID).toBeUndefined();
  });

  it("options are copied, and options that cannot work are refused", () => {
    const extraArgs = ["--debug"];
    const adapter = createGeminiAdapter({ extraArgs });
    extraArgs.push("--oops");
    expect(adapter.build(invocation).args).not.toContain("--oops");
    expect(() => createGeminiAdapter({ bin: " " })).toThrow(UsageError);
    expect(() => createGeminiAdapter({ extraArgs: ["-p", "x"] })).toThrow(UsageError);
    expect(() => createGeminiAdapter({ extraArgs: ["--prompt=x"] })).toThrow(UsageError);
  });

  it("is named gemini", () => {
    expect(createGeminiAdapter().name).toBe("gemini");
  });
});

describe("gemini permissions (none needs a flag root is refused)", () => {
  const argsFor = (permission: AgentInvocation["permission"]) => createGeminiAdapter().build({ ...invocation, permission }).args;
  it("read-only: the default approval mode, which headless leaves with the tools that only look", () => {
    expect(argsFor("read-only")).toEqual([...BASE, "--approval-mode", "default"]);
  });
  it("full: yolo", () => {
    expect(argsFor("full")).toEqual([...BASE, "--approval-mode", "yolo"]);
  });
});
