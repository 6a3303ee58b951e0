// The command line and environment the opencode adapter builds: new and resumed sessions, the model, the
// prompt on stdin, and each permission level as OPENCODE_PERMISSION merged over the user's own.
import { describe, expect, it } from "vitest";
import { z } from "zod";
import type { AgentInvocation } from "../agent.js";
import { UsageError } from "../../core/errors.js";
import { ORCH_IDS, testInvocation, USER_ENV } from "../../../test/support/agent-fixtures.js";
import { mergeConfigContent, providerOf, mergePermission, permissionRules } from "./command.js";
import { createOpenCodeAdapter } from "./index.js";

const invocation = testInvocation({ env: { ...USER_ENV, PWD: "/repo" } });

const Rules = z.record(z.string(), z.union([z.string(), z.record(z.string(), z.string())]));
const rulesOf = (env: NodeJS.ProcessEnv) => Rules.parse(JSON.parse(env["OPENCODE_PERMISSION"] ?? "null"));

describe("opencode build()", () => {
  it("a new session: run --format json, a title of its own, the prompt on stdin and nowhere in the arguments", () => {
    const command = createOpenCodeAdapter().build(invocation);
    expect(command.file).toBe("opencode");
    expect(command.args).toEqual(["run", "--format", "json", "--title", "orch r1/fix-tests attempt 2"]);
    expect(command.stdin).toBe("Fix the failing tests in src/");
  });

  it("a resumed session with a model, bin and extra args: --session instead of a title", () => {
    const adapter = createOpenCodeAdapter({ bin: "/opt/opencode", extraArgs: ["--variant", "high"] });
    const command = adapter.build({ ...invocation, model: "anthropic/claude-sonnet-4-5", resumeSessionId: "ses_abc" });
    expect(command.file).toBe("/opt/opencode");
    expect(command.args).toEqual(["run", "--format", "json", "--model", "anthropic/claude-sonnet-4-5", "--session", "ses_abc", "--variant", "high"]);
  });

  it("a prompt that looks like an option is never parsed as one", () => {
    const command = createOpenCodeAdapter().build({ ...invocation, prompt: "--help me\n\"quoted\"" });
    expect(command.args.join(" ")).not.toContain("--help me");
    expect(command.stdin).toBe("--help me\n\"quoted\"");
  });

  it("the environment: the invocation's, ORCH_ ids, PWD set to the worktree, orch's permissions and run config", () => {
    const command = createOpenCodeAdapter().build(invocation);
    expect(command.env).toEqual({
      ...USER_ENV,
      PWD: "/repo/.orch/worktrees/r1/t1",
      ...ORCH_IDS,
      OPENCODE_PERMISSION: JSON.stringify(permissionRules("workspace-write")),
      OPENCODE_CONFIG_CONTENT: '{"experimental":{"continue_loop_on_deny":true}}',
    });
    expect(invocation.env["PWD"]).toBe("/repo");
  });

  it("options are copied, and a blank bin is refused", () => {
    const extraArgs = ["--agent", "build"];
    const adapter = createOpenCodeAdapter({ extraArgs });
    extraArgs.push("--oops");
    expect(adapter.build(invocation).args).not.toContain("--oops");
    expect(() => createOpenCodeAdapter({ bin: " " })).toThrow(UsageError);
    expect(adapter.name).toBe("opencode");
  });
});

describe("opencode permissions", () => {
  const rules = (permission: AgentInvocation["permission"], env: NodeJS.ProcessEnv = {}) =>
    rulesOf(createOpenCodeAdapter().build({ ...invocation, permission, env }).env);
  const argsFor = (permission: AgentInvocation["permission"]) => createOpenCodeAdapter().build({ ...invocation, permission }).args;

  it("read-only: looking only; edits, shell, subagents and the web denied; .env files never read", () => {
    const r = rules("read-only");
    expect(r).toMatchObject({ edit: "deny", bash: "deny", task: "deny", webfetch: "deny", websearch: "deny", glob: "allow", grep: "allow" });
    expect(r["read"]).toEqual({ "*": "allow", "*.env": "deny", "*.env.*": "deny", "*.env.example": "allow" });
    expect(argsFor("read-only")).not.toContain("--auto");
  });

  it("workspace-write: edits, shell and subagents allowed; the web denied; outside the worktree left at OpenCode's default", () => {
    const r = rules("workspace-write");
    expect(r).toMatchObject({ edit: "allow", bash: "allow", task: "allow", webfetch: "deny" });
    expect(r["external_directory"]).toBeUndefined();
    expect(r["*"]).toBeUndefined();
    expect(argsFor("workspace-write")).not.toContain("--auto");
  });

  it("full: everything allowed, and --auto for whatever the user's own rules leave at ask (works as root)", () => {
    const r = rules("full");
    expect(Object.values(r).every((action) => action === "allow")).toBe(true);
    expect(r).toMatchObject({ "*": "allow", external_directory: "allow", doom_loop: "allow", webfetch: "allow" });
    expect(argsFor("full")).toContain("--auto");
  });

  it("the user's own OPENCODE_PERMISSION keeps what orch does not name and loses what it does", () => {
    const user = JSON.stringify({ bash: { "git *": "allow" }, mymcp_query: "allow" });
    expect(rules("read-only", { OPENCODE_PERMISSION: user })).toMatchObject({ bash: "deny", mymcp_query: "allow" });
    expect(JSON.parse(mergePermission("not json", { bash: "deny" }))).toEqual({ bash: "deny" });
    expect(JSON.parse(mergePermission("[1]", { bash: "deny" }))).toEqual({ bash: "deny" });
  });

  it("the user's own OPENCODE_CONFIG_CONTENT is kept, with continue_loop_on_deny merged in; JSONC is left alone", () => {
    const user = JSON.stringify({ model: "x/y", experimental: { batch_tool: true } });
    expect(JSON.parse(mergeConfigContent(user))).toEqual({ model: "x/y", experimental: { batch_tool: true, continue_loop_on_deny: true } });
    expect(JSON.parse(mergeConfigContent('{"experimental":3}'))).toEqual({ experimental: { continue_loop_on_deny: true } });
    const jsonc = '{ // mine\n "model": "x/y" }';
    expect(mergeConfigContent(jsonc)).toBe(jsonc);
    expect(mergeConfigContent("  ")).toBe('{"experimental":{"continue_loop_on_deny":true}}');
  });

  it("bounds the request and chunk timeouts of the run's provider, unless the user's content sets them", () => {
    const command = createOpenCodeAdapter().build({ ...invocation, model: "corp/big" });
    expect(JSON.parse(command.env["OPENCODE_CONFIG_CONTENT"] ?? "")).toEqual({
      experimental: { continue_loop_on_deny: true },
      provider: { corp: { options: { timeout: 300_000, chunkTimeout: 120_000 } } },
    });
    const user = JSON.stringify({ provider: { corp: { name: "Corp", options: { baseURL: "http://x", timeout: 9_000 } } } });
    expect(JSON.parse(mergeConfigContent(user, "corp"))).toEqual({
      provider: { corp: { name: "Corp", options: { baseURL: "http://x", timeout: 9_000, chunkTimeout: 120_000 } } },
      experimental: { continue_loop_on_deny: true },
    });
    expect(JSON.parse(mergeConfigContent(undefined, "corp", { timeoutMs: 1, chunkTimeoutMs: 2 }))).toMatchObject({
      provider: { corp: { options: { timeout: 1, chunkTimeout: 2 } } },
    });
    expect(providerOf("corp/big/v2")).toBe("corp");
    expect(providerOf("plain")).toBeUndefined();
  });
});
