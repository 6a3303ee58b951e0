// Proves orch's bounds on each real agent CLI's own retries (src/agents/retry-bounds.ts): each CLI is started
// exactly as orch starts it, against a scripted server that keeps failing, and the test counts the model
// requests one persistent fault costs and how long the CLI takes to hand it to orch. Every run is bounded.
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { AgentAdapter, AgentInvocation } from "../src/agents/agent.js";
import { createClaudeCodeAdapter } from "../src/agents/claude-code/index.js";
import { createCodexAdapter } from "../src/agents/codex/index.js";
import { createGeminiAdapter } from "../src/agents/gemini/index.js";
import { createOpenCodeAdapter } from "../src/agents/opencode/index.js";
import { BIN, runAdapter, useSandboxes, type AdapterRun, type Protocols } from "./support/e2e.js";
import { claudeEnv } from "./support/model-server/anthropic.js";
import { geminiEnv, geminiProtocol } from "./support/model-server/gemini.js";
import { OPENCODE_FAKE_MODEL, openaiChatProtocol, opencodeEnv } from "./support/model-server/openai-chat.js";
import { CODEX_MODEL, CODEX_PROVIDER, codexEnv, openaiResponsesProtocol, writeCodexHome } from "./support/model-server/openai-responses.js";
import type { ModelServer, Script } from "./support/model-server/server.js";

const RUN_TIMEOUT_MS = 60_000;
// Codex leaves its shell snapshot (`bash -lc …`, in a session of its own) to end by itself just after it exits: a
// process that still runs after a grace of 3 s has outlived its test (as in model-server-codex.test.ts).
const sandboxes = useSandboxes({ prefix: "orch-retry-bounds-", graceMs: 3_000 });

interface Measured {
  run: AdapterRun;
  server: ModelServer;
  /** Model requests the fault answered. */
  requests: number;
  ms: number;
}

/** One CLI run as orch builds it for an invocation whose environment `env` makes (in a fresh sandbox). */
async function measure(
  adapter: AgentAdapter,
  script: Script,
  protocols: Protocols,
  env: (at: { url: string; home: string; tmp: string; root: string }) => NodeJS.ProcessEnv,
  model: string,
): Promise<Measured> {
  const box = sandboxes.dir();
  const server = await sandboxes.server(script, protocols);
  const invocation: AgentInvocation = {
    prompt: "say hi",
    cwd: box.work,
    model,
    runId: "r1",
    taskId: "t1",
    attempt: 1,
    permission: "workspace-write",
    env: env({ url: server.url, home: box.home, tmp: box.tmp, root: box.root }),
  };
  const started = Date.now();
  const run = await runAdapter(sandboxes, adapter, invocation, { timeoutMs: RUN_TIMEOUT_MS });
  const ms = Date.now() - started;
  const requests = server.modelRequests().filter((r) => r.outcome === "fault").length;
  return { run, server, requests, ms };
}

/** `env` without `names`: the variables a user who never set them would not have. */
function without(env: Record<string, string>, ...names: string[]): Record<string, string> {
  return Object.fromEntries(Object.entries(env).filter(([name]) => !names.includes(name)));
}

const persistent = (fault: "overloaded" | "server_error" | "rate_limit"): Script => [{ fault, repeat: 50 }];

describe("Claude Code: one quick retry, then the fault is orch's", () => {
  const adapter = createClaudeCodeAdapter({ bin: join(BIN, "claude") });
  // What a user who never set Claude's retry variables has (claudeEnv sets them for the other tests).
  const userEnv = (at: { url: string; home: string; tmp: string }) =>
    without(claudeEnv({ url: at.url, home: at.home, tmp: at.tmp }), "CLAUDE_CODE_MAX_RETRIES", "API_TIMEOUT_MS");

  it("a persistent 529 costs 2 requests and a few seconds (Claude's default: 11 requests, about 3 minutes)", { timeout: 90_000 }, async () => {
    const { run, requests, ms } = await measure(adapter, persistent("overloaded"), undefined, userEnv, "claude-sonnet-4-5");
    expect(requests).toBe(2);
    expect(ms).toBeLessThan(20_000);
    expect(run.failure?.kind).toBe("overloaded");
  });

  it("a persistent 429 costs 2 requests, then reaches orch as rate_limited", { timeout: 90_000 }, async () => {
    const { run, requests, ms } = await measure(adapter, [{ fault: "rate_limit", retryAfterSeconds: 1, repeat: 50 }], undefined, userEnv, "claude-sonnet-4-5");
    expect(requests).toBe(2);
    expect(ms).toBeLessThan(20_000);
    expect(run.failure?.kind).toBe("rate_limited");
  });

  it("the user's own CLAUDE_CODE_MAX_RETRIES wins over orch's bound", { timeout: 90_000 }, async () => {
    const env = (at: { url: string; home: string; tmp: string }) => ({ ...userEnv(at), CLAUDE_CODE_MAX_RETRIES: "0" });
    const { requests } = await measure(adapter, persistent("overloaded"), undefined, env, "claude-sonnet-4-5");
    expect(requests).toBe(1);
  });

  it("the request timeout cuts a hung request (orch's 300 s, shortened here to 3 s)", { timeout: 90_000 }, async () => {
    const short = createClaudeCodeAdapter({ bin: join(BIN, "claude"), retryBounds: { maxRetries: 0, requestTimeoutMs: 3_000 } });
    const { run, requests, ms } = await measure(short, [{ fault: "hang" }], undefined, userEnv, "claude-sonnet-4-5");
    expect(requests).toBe(1);
    expect(ms).toBeLessThan(20_000);
    expect(run.code).not.toBe(0);
  });
});

describe("Codex: two quick request retries, no stream retries", () => {
  const adapter = createCodexAdapter({ bin: join(BIN, "codex") });
  // The user's config.toml keeps Codex's own defaults (4 request and 5 stream retries): orch's -c overrides win.
  const userEnv = (at: { url: string; home: string; tmp: string; root: string }) => {
    const codexHome = join(at.root, "codex-home");
    writeCodexHome(codexHome, { url: at.url, requestMaxRetries: 4, streamMaxRetries: 5 });
    return codexEnv({ home: at.home, tmp: at.tmp, codexHome });
  };

  it("a persistent 503 costs 3 requests (Codex's defaults: 30), in seconds", { timeout: 90_000 }, async () => {
    const { run, requests, ms } = await measure(adapter, persistent("server_error"), [openaiResponsesProtocol], userEnv, CODEX_MODEL);
    expect(requests).toBe(3);
    expect(ms).toBeLessThan(20_000);
    expect(run.code).not.toBe(0);
  });

  it("a persistent 429 with retry-after costs 1 request (Codex's defaults: 6)", { timeout: 90_000 }, async () => {
    const script: Script = [{ fault: "rate_limit", retryAfterSeconds: 1, repeat: 50 }];
    const { run, requests, ms } = await measure(adapter, script, [openaiResponsesProtocol], userEnv, CODEX_MODEL);
    expect(requests).toBe(1);
    expect(ms).toBeLessThan(15_000);
    expect(run.failure?.kind).toBe("rate_limited");
  });

  it("the user's own -c in the adapter's extraArgs wins over orch's bound", { timeout: 90_000 }, async () => {
    const own = createCodexAdapter({ bin: join(BIN, "codex"), extraArgs: ["-c", `model_providers.${CODEX_PROVIDER}.request_max_retries=0`] });
    const { requests } = await measure(own, persistent("server_error"), [openaiResponsesProtocol], userEnv, CODEX_MODEL);
    expect(requests).toBe(1);
  });
});

describe("Gemini: no per-run setting exists; the user's general.maxAttempts decides", () => {
  const adapter = createGeminiAdapter({ bin: join(BIN, "gemini") });

  it("with general.maxAttempts 2 (what orch recommends), a persistent 503 costs 2 requests", { timeout: 90_000 }, async () => {
    const env = (at: { url: string; home: string; tmp: string }) => geminiEnv({ url: at.url, home: at.home, tmp: at.tmp, maxAttempts: 2 });
    const { run, requests, ms } = await measure(adapter, persistent("server_error"), [geminiProtocol], env, "gemini-2.5-flash");
    expect(requests).toBe(2);
    expect(ms).toBeLessThan(45_000);
    expect(run.code).not.toBe(0);
  });
});

describe("OpenCode: orch's provider timeout cuts a hang, over the user's opencode.json", () => {
  it("a request that never answers ends in seconds (orch's 300 s, shortened here to 3 s; the user's file says 10 min)", { timeout: 90_000 }, async () => {
    const adapter = createOpenCodeAdapter({ bin: join(BIN, "opencode"), retryBounds: { timeoutMs: 3_000, chunkTimeoutMs: 3_000 } });
    const env = (at: { url: string; home: string; tmp: string }) =>
      opencodeEnv({ url: at.url, home: at.home, tmp: at.tmp, timeoutMs: 600_000, chunkTimeoutMs: 600_000 });
    const { run, requests, ms } = await measure(adapter, [{ fault: "hang", repeat: 5 }], [openaiChatProtocol], env, OPENCODE_FAKE_MODEL);
    expect(requests).toBeGreaterThanOrEqual(1);
    expect(ms).toBeLessThan(30_000);
    expect(run.code).not.toBe(0);
  });
});
