// The command line the codex adapter builds for new and resumed threads, the thread totals it reads for a
// resumed one, and how `orch doctor` finds Codex credentials.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { UsageError } from "../../core/errors.js";
import { ORCH_IDS, testInvocation, USER_ENV } from "../../../test/support/agent-fixtures.js";
import { permissionArgs } from "./command.js";
import { checkCodex, codexHomeCredentials } from "./detect.js";
import { createCodexAdapter } from "./index.js";
import { isCustomProvider, retryBoundArgs, selectedProvider } from "./retry-bounds.js";
import { codexHome, threadUsage } from "./rollout.js";

const invocation = testInvocation({ prompt: "--help me: fix the failing tests in src/" });

/** orch's bound when the provider is built-in (Codex cannot change those): no endless connection retries. */
const BOUNDS = ["-c", "features.unbounded_connection_retries=false"];

const WORKSPACE_WRITE = ["-c", 'sandbox_mode="workspace-write"', "-c", "sandbox_workspace_write.network_access=true", "-c", 'approval_policy="never"'];

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "orch-codex-"));
  dirs.push(dir);
  return dir;
}

describe("codex build()", () => {
  it("a new thread: exec --json, the sandbox as config, the prompt on stdin after --", () => {
    const command = createCodexAdapter().build(invocation);
    expect(command.file).toBe("codex");
    expect(command.args).toEqual(["exec", "--json", "--skip-git-repo-check", ...WORKSPACE_WRITE, ...BOUNDS, "--", "-"]);
    expect(command.stdin).toBe(invocation.prompt);
    expect(command.env).toMatchObject({ ...ORCH_IDS, HOME: "/home/me" });
  });

  it("a resumed thread with a model, bin and extra args: exec resume <id> -", () => {
    const adapter = createCodexAdapter({ bin: "/opt/codex", extraArgs: ["-c", 'model_reasoning_effort="high"'] });
    const command = adapter.build({ ...invocation, model: "gpt-5.5", resumeSessionId: "01a1fce6-19cd-7d83-a3ba-131da34e7c65" });
    expect(command.file).toBe("/opt/codex");
    expect(command.args).toEqual([
      "exec",
      "resume",
      "--json",
      "--skip-git-repo-check",
      ...WORKSPACE_WRITE,
      "--model",
      "gpt-5.5",
      ...BOUNDS,
      "-c",
      'model_reasoning_effort="high"',
      "--",
      "01a1fce6-19cd-7d83-a3ba-131da34e7c65",
      "-",
    ]);
    expect(command.stdin).toBe(invocation.prompt);
  });

  it("maps each permission level", () => {
    expect(permissionArgs("read-only")).toEqual(["-c", 'sandbox_mode="read-only"', "-c", 'approval_policy="never"']);
    expect(permissionArgs("workspace-write")).toEqual(WORKSPACE_WRITE);
    expect(permissionArgs("full")).toEqual(["--dangerously-bypass-approvals-and-sandbox"]);
    const full = createCodexAdapter().build({ ...invocation, permission: "full", resumeSessionId: "t" });
    expect(full.args).toEqual(["exec", "resume", "--json", "--skip-git-repo-check", "--dangerously-bypass-approvals-and-sandbox", ...BOUNDS, "--", "t", "-"]);
  });

  it("refuses an empty bin, and keeps its own copy of the options", () => {
    expect(() => createCodexAdapter({ bin: " " })).toThrow(UsageError);
    const extraArgs = ["--oss"];
    const adapter = createCodexAdapter({ extraArgs });
    extraArgs.push("--later");
    expect(adapter.build(invocation).args).not.toContain("--later");
    expect(adapter.name).toBe("codex");
  });
});

describe("codex retry bounds", () => {
  const CUSTOM = ["-c", "model_providers.corp.request_max_retries=2", "-c", "model_providers.corp.stream_max_retries=0", "-c", "model_providers.corp.stream_idle_timeout_ms=300000"];
  const CONFIG = ['model_provider = "corp"', 'profile = "fast"', "", "[profiles.fast]", 'model_provider = "corp-fast"', "", "[model_providers.corp]", 'name = "Corp"', "", "[model_providers.corp-fast]", 'name = "Fast"', ""].join("\n");

  it("bounds the retries of the custom provider config.toml selects, before the user's own args (which win)", () => {
    const home = tempDir();
    writeFileSync(join(home, "config.toml"), CONFIG.replace('profile = "fast"\n', ""));
    const env = { ...USER_ENV, CODEX_HOME: home };
    const user = ["-c", "model_providers.corp.request_max_retries=0"];
    const command = createCodexAdapter({ extraArgs: user }).build({ ...invocation, env });
    expect(command.args).toEqual(["exec", "--json", "--skip-git-repo-check", ...WORKSPACE_WRITE, ...BOUNDS, ...CUSTOM, ...user, "--", "-"]);
  });

  it("finds the provider through extra args, a profile, or the top level; built-in and unknown ones are left alone", () => {
    expect(selectedProvider([], CONFIG)).toBe("corp-fast");
    expect(selectedProvider(["--profile", "none"], CONFIG)).toBe("corp");
    expect(selectedProvider(["-c", 'model_provider="other"'], CONFIG)).toBe("other");
    expect(selectedProvider(["--config=model_provider=x"], undefined)).toBe("x");
    expect(selectedProvider([], undefined)).toBe("openai");
    expect(selectedProvider(["--oss"], CONFIG)).toBeUndefined();
    expect(isCustomProvider("corp-fast", [], CONFIG)).toBe(true);
    expect(isCustomProvider("openai", [], CONFIG)).toBe(false);
    expect(isCustomProvider("mine", ["-c", 'model_providers.mine.base_url="http://x"'], undefined)).toBe(true);
    expect(retryBoundArgs("openai", false)).toEqual(BOUNDS);
    expect(retryBoundArgs("odd.id", true)).toEqual(BOUNDS);
    expect(retryBoundArgs("corp", true)).toEqual([...BOUNDS, ...CUSTOM]);
  });
});

describe("codex thread totals for a resumed thread", () => {
  const THREAD = "01a1fcf3-052a-7ad2-8181-dc9a9257b74d";
  const rollout = readFileSync(new URL("./fixtures/codex-rollout.jsonl", import.meta.url), "utf8");

  function homeWith(text: string): string {
    const home = tempDir();
    const day = join(home, "sessions", "2026", "11", "21");
    mkdirSync(day, { recursive: true });
    writeFileSync(join(day, `rollout-2026-11-21T07-12-27-${THREAD}.jsonl`), text);
    writeFileSync(join(day, "rollout-2026-11-21T07-00-00-01a1ffff-0000-7000-8000-000000000000.jsonl"), "");
    return home;
  }

  it("reads the last token_count of the thread's rollout file", () => {
    const home = homeWith(rollout);
    expect(threadUsage({ CODEX_HOME: home }, THREAD)).toEqual({ inputTokens: 600, outputTokens: 60, cacheReadTokens: 0, cacheWriteTokens: 0 });
    // As it was when the first turn had ended: the baseline a resume of it starts from.
    const firstTurn = rollout.split("\n").slice(0, rollout.split("\n").findIndex((l) => l.includes('"task_complete"')) + 1).join("\n");
    expect(threadUsage({ CODEX_HOME: homeWith(firstTurn) }, THREAD)).toMatchObject({ inputTokens: 100, outputTokens: 10 });
  });

  it("gives undefined for an unknown thread or a record without totals", () => {
    const home = homeWith("not json\n{}\n");
    expect(threadUsage({ CODEX_HOME: home }, THREAD)).toBeUndefined();
    expect(threadUsage({ CODEX_HOME: home }, "no-such-thread")).toBeUndefined();
    expect(threadUsage({ CODEX_HOME: join(home, "missing") }, THREAD)).toBeUndefined();
  });

  it("the adapter's parser for a resumed attempt subtracts the totals", () => {
    const home = homeWith(rollout);
    const parser = createCodexAdapter().createParser({ ...invocation, env: { CODEX_HOME: home }, resumeSessionId: THREAD });
    const line = JSON.stringify({ type: "turn.completed", usage: { input_tokens: 700, cached_input_tokens: 0, output_tokens: 70 } });
    expect(parser.parseLine(line)[0]).toEqual({ type: "usage", usage: { inputTokens: 100, outputTokens: 10, cacheReadTokens: 0 } });
  });

  it("CODEX_HOME, else ~/.codex", () => {
    expect(codexHome({ CODEX_HOME: "/x/codex", HOME: "/home/me" })).toBe("/x/codex");
    expect(codexHome({ HOME: "/home/me" })).toBe("/home/me/.codex");
  });
});

describe("codex credentials in CODEX_HOME", () => {
  it("a login file, or a provider whose env_key is set", () => {
    const home = tempDir();
    expect(codexHomeCredentials({ CODEX_HOME: home })).toBeUndefined();
    writeFileSync(join(home, "config.toml"), '[model_providers.mine]\nbase_url = "http://127.0.0.1:1/v1"\nenv_key = "MY_KEY"\n');
    expect(codexHomeCredentials({ CODEX_HOME: home })).toBeUndefined();
    expect(codexHomeCredentials({ CODEX_HOME: home, MY_KEY: "sk-1" })).toBe(`$MY_KEY (env_key in ${join(home, "config.toml")})`);
    writeFileSync(join(home, "auth.json"), "{}");
    expect(codexHomeCredentials({ CODEX_HOME: home })).toBe(join(home, "auth.json"));
  });

  it("orch doctor: the real CLI's version (past the temp-dir warning) and a provider key count as ready", async () => {
    const home = tempDir();
    writeFileSync(join(home, "config.toml"), 'model_provider = "mine"\n[model_providers.mine]\nenv_key = "MY_KEY"\n');
    const bin = resolve(import.meta.dirname, "../../../node_modules/.bin/codex");
    const env = { PATH: process.env["PATH"] ?? "/usr/bin:/bin", HOME: join(home, "home"), CODEX_HOME: home };
    expect(await checkCodex({ ...env, MY_KEY: "sk-1" }, bin)).toMatchObject({
      agent: "codex",
      found: true,
      version: expect.stringMatching(/^codex-cli \d+\.\d+\.\d+$/),
      credentials: { present: true },
      ready: true,
      fix: undefined,
    });
    expect(await checkCodex(env, bin)).toMatchObject({ ready: false, fix: expect.stringContaining("codex login") });
  });
});
