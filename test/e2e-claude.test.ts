// End to end: the built `orch` binary drives the real Claude Code CLI (node_modules/.bin/claude) against the
// scripted Anthropic server through the shared scenarios and the fault matrix; here only what is Claude's own.
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { eventData, inWorktree, SUM, sumLine, TaskWaitedData, useSandboxes } from "./support/e2e.js";
import { describeFaultMatrix, gapsMs } from "./support/e2e-faults.js";
import { describeRealCli, orchRun, type RealCli } from "./support/e2e-scenarios.js";
import { anthropicLastUserText } from "./support/model-server/anthropic.js";
import { claudeEnv } from "./support/model-server/server.js";

const claude: RealCli = {
  agent: "claude-code",
  name: "Claude Code CLI",
  orchTimeoutMs: 50_000,
  // No retries inside Claude, so a scripted fault reaches orch at once; a request timeout far beyond the stall
  // timeout, so that orch's stall timer, not Claude, ends a hung request.
  env: ({ url, repo, path }) => claudeEnv({ url, home: repo.home, tmp: repo.tmp, path, maxRetries: 0, timeoutMs: 600_000 }),
  lastUserText: anthropicLastUserText,
  // Claude's own `system/init` line, which the raw transcript keeps.
  transcriptSession: z.object({ type: z.literal("system"), subtype: z.literal("init"), session_id: z.string() }).transform((l) => l.session_id),
  sessionId: /^[0-9a-f-]{36}$/,
  // Claude's file tools take absolute paths, known only once orch has made the worktree.
  fix: ({ repo, before, after, match, usage }) => [
    { match, usage, text: "Let me look at the implementation.", tools: [{ name: "Read", input: inWorktree(repo, "file_path", "src/sum.js") }] },
    { match: sumLine(before), usage, tools: [{ name: "Write", input: inWorktree(repo, "file_path", "src/sum.js", { content: after }) }] },
  ],
  fixedMatch: "src/sum.js",
  runTests: (match, usage) => ({ match, usage, tools: [{ name: "Bash", input: { command: "node --test", description: "run the tests" } }] }),
};

describeRealCli(claude, {
  converge: {
    check: ({ first, second, prompt, worktree, handoff }) => {
      // Tokens and cost from the result line: Claude sums its turns' usage per process, and prices them.
      expect(first.cost_usd).toBeGreaterThan(0);
      expect(second.cost_usd).toBeGreaterThan(0);
      // The handoff names what attempt 1 did, with the paths it used; the resumed request carries its write.
      expect(prompt).toContain(`Write ${worktree}/src/sum.js`);
      expect(prompt).toContain("Bash node --test");
      expect(JSON.stringify(handoff?.body)).toContain(JSON.stringify(SUM.stillWrong).slice(1, -1));
    },
  },
  rateLimit: {
    retryAfterSeconds: 1,
    // Claude made one request (CLAUDE_CODE_MAX_RETRIES=0) and printed no reset time, so orch backed off by its
    // own first step: 1–2 s with jitter.
    check: ({ journal }) => {
      const [wait] = eventData(journal, "task.waited", TaskWaitedData);
      expect(wait?.delayMs).toBeGreaterThanOrEqual(1_000);
      expect(wait?.delayMs).toBeLessThanOrEqual(2_000);
    },
  },
  unauthorized: { message: "Invalid API key" },
  // 4 s rather than 2 s: Claude takes ~1.5 s on a busy two-core machine to print its first line and send the
  // request, and a stall timer that fires before the request reaches the server would test nothing.
  hang: {
    stallSeconds: 4,
    // Claude prints its session (system/init) before it sends the request.
    check: ({ journal }) => expect(journal.attempts[0]?.session_id).not.toBeNull(),
  },
  contextTooLong: {},
});

// ---- denied tools (Claude names them in result.permission_denials) -----------------------------------------

describe("orch run × the real Claude Code CLI: tools it was denied", () => {
  const sandboxes = useSandboxes({ prefix: "orch-e2e-claude-denied-" });
  const webFetch = { name: "WebFetch", input: { url: "http://127.0.0.1:9/docs", prompt: "read the docs" } };

  it("below full: told to do without it, then denied again, the task is escalated with the tool named", { timeout: 80_000 }, async () => {
    const run = await orchRun(
      claude,
      sandboxes,
      [
        { match: "# Goal", tools: [webFetch] },
        { text: "I could not read the docs." },
        { match: "Tools it was refused (not allowed in this run; do the work without them): WebFetch", tools: [webFetch] },
        { text: "I still need the docs." },
      ],
      ["--max-attempts", "4"],
    );
    expect(run.result.code, run.result.stderr).toBe(1);
    expect(run.out).toMatchObject({ status: "failed", attempts: 2 });
    expect(run.out.reason).toMatch(/^permission_denied: the agent keeps needing WebFetch, which the workspace-write permission level does not allow/);
    expect(run.server.remaining()).toEqual([]);
  });
});

// ---- the fault matrix, with orch's own bounds on Claude's retries --------------------------------------------

const Streaming = z.looseObject({ stream: z.boolean().optional() });

describeFaultMatrix({
  // CLAUDE_CODE_MAX_RETRIES and API_TIMEOUT_MS unset, so orch's bounds apply (retry-bounds.ts): one retry of a
  // request, for a 429 and a 5xx alike.
  cli: { ...claude, env: (at) => omit(claude.env(at), ["CLAUDE_CODE_MAX_RETRIES", "API_TIMEOUT_MS"]) },
  cases: [
    {
      // Claude retries once, after the header's second; orch sleeps until the time that retry named.
      title: "429 with retry-after",
      faults: [{ fault: "rate_limit", retryAfterSeconds: 1, repeat: 2 }],
      attempts: [{ failed: "rate_limited", status: 429, calls: 2, then: "wait" }, { succeeded: true, calls: 3 }],
      waitMs: [0, 1_000],
      check: ({ requestsByAttempt }) => expect(gapsMs(requestsByAttempt[0] ?? [])[0]).toBeGreaterThanOrEqual(950),
    },
    {
      // Claude retries once after its own backoff (0.5 s and some jitter), which orch takes as the reset time too.
      title: "429 without retry-after",
      faults: [{ fault: "rate_limit", repeat: 2 }],
      attempts: [{ failed: "rate_limited", status: 429, calls: 2, then: "wait" }, { succeeded: true, calls: 3 }],
      waitMs: [0, 700],
    },
    {
      // Retried once by Claude; with no model to fall back to, orch backs off and tries the same model again.
      title: "529 overloaded",
      faults: [{ fault: "overloaded", repeat: 2 }],
      attempts: [{ failed: "overloaded", status: 529, calls: 2, then: "wait" }, { succeeded: true, calls: 3 }],
    },
    {
      // Claude's retry in attempt 1, then attempt 2's first request; Claude's retry of that one gets the answer.
      title: "503 three times, then answers",
      faults: [{ fault: "server_error", status: 503, repeat: 3 }],
      attempts: [{ failed: "overloaded", status: 503, calls: 2, then: "wait" }, { succeeded: true, calls: 4 }],
    },
    {
      // Claude drops the broken stream and asks again without streaming, which the fix's first turn answers as
      // JSON: no failure reaches orch.
      title: "malformed stream",
      faults: [{ fault: "malformed" }],
      attempts: [{ succeeded: true, calls: 4 }],
      check: ({ server }) => expect(server.modelRequests().slice(0, 2).map((r) => Streaming.parse(r.body).stream)).toEqual([true, undefined]),
    },
    {
      // Claude's own idle watchdog waits 5 minutes at least: orch's stall timer ends the attempt.
      title: "stream stalls after the headers",
      faults: [{ fault: "stall" }],
      args: ["--stall-timeout", "4s"],
      attempts: [{ failed: "hung", calls: 1, then: "wait" }, { succeeded: true, calls: 3 }],
    },
    {
      title: "overloaded for one model only: orch falls back to the other at once",
      faults: [{ fault: "overloaded", repeat: 2 }],
      fallback: { from: "claude-primary", to: "claude-backup" },
      attempts: [{ failed: "overloaded", status: 529, calls: 2, then: "fallback" }, { succeeded: true, calls: 3 }],
    },
  ],
});

function omit(env: Record<string, string>, keys: readonly string[]): Record<string, string> {
  return Object.fromEntries(Object.entries(env).filter(([key]) => !keys.includes(key)));
}
