// End to end: the built `orch` binary drives the real Gemini CLI (node_modules/.bin/gemini) against the
// scripted Gemini server through the shared scenarios and the fault matrix; here only what is Gemini's own (its
// model router, its answer to each fault).
import { expect } from "vitest";
import { z } from "zod";
import { RETRY_BOUNDS } from "../src/agents/retry-bounds.js";
import { eventData, SUM, sumLine, TaskWaitedData } from "./support/e2e.js";
import { describeFaultMatrix } from "./support/e2e-faults.js";
import { describeRealCli, type RealCli } from "./support/e2e-scenarios.js";
import { geminiEnv, geminiLastUserText, geminiProtocol, geminiRead, geminiShell, geminiWrite } from "./support/model-server/gemini.js";
import type { ModelServer, RecordedRequest } from "./support/model-server/server.js";

const gemini: RealCli = {
  agent: "gemini",
  name: "Gemini CLI",
  protocols: [geminiProtocol],
  orchTimeoutMs: 90_000,
  // Writes ~/.gemini/settings.json into the repository's own HOME; maxAttempts 1: no CLI-side retries.
  env: ({ url, repo, path }) => geminiEnv({ url, home: repo.home, tmp: repo.tmp, path, maxAttempts: 1 }),
  lastUserText: geminiLastUserText,
  // The CLI's own `init` line, which the raw transcript keeps.
  transcriptSession: z.object({ type: z.literal("init"), session_id: z.string() }).transform((l) => l.session_id),
  sessionId: /^[0-9a-f-]{36}$/,
  // Gemini's file tools take paths relative to the workspace (the task's worktree).
  fix: ({ before, after, match, usage }) => [
    { ...geminiRead("src/sum.js", "Let me look at the implementation."), match, usage },
    { ...geminiWrite("src/sum.js", after), match: sumLine(before), usage },
  ],
  fixedMatch: "src/sum.js",
  runTests: (match, usage) => ({ ...geminiShell("node --test", "run the tests"), match, usage }),
};

/** The server's default usage, which answers the router's side requests. */
const SIDE_USAGE = { input_tokens: 120, output_tokens: 24 };

/**
 * No --model: before the first turn the CLI asks its router (a non-streaming side request, answered without
 * using a turn). The router sees the prompt it routes, so attempt 2's carry the handoff.
 */
function routerRequests(server: ModelServer): { all: RecordedRequest[]; 1: number; 2: number } {
  const all = server.requests.filter((r) => r.outcome === "fixed");
  const second = all.filter((r) => geminiLastUserText(r.body).includes("Earlier attempts on this task")).length;
  return { all, 1: all.length - second, 2: second };
}

describeRealCli(gemini, {
  converge: {
    // The CLI sums every request of its process, the router's included; it reports no cost.
    sideUsage: (server, attempt) => {
      const count = routerRequests(server)[attempt];
      return { input_tokens: count * SIDE_USAGE.input_tokens, output_tokens: count * SIDE_USAGE.output_tokens };
    },
    check: ({ server, handoff }) => {
      const router = routerRequests(server);
      expect(router.all.every((r) => r.path.endsWith(":generateContent"))).toBe(true);
      expect(router[1]).toBeGreaterThanOrEqual(1);
      expect(JSON.stringify(handoff?.body)).toContain(JSON.stringify(SUM.stillWrong).slice(1, -1));
    },
  },
  rateLimit: {
    retryAfterSeconds: 1,
    // The CLI quoted Google's RetryInfo ("Suggested retry after 1s."), so orch waited that long, not its backoff.
    check: ({ journal }) => {
      expect(journal.attempts[0]?.failure?.resetAt).toBeDefined();
      expect(eventData(journal, "task.waited", TaskWaitedData)[0]?.delayMs).toBeLessThanOrEqual(1_000);
    },
  },
  unauthorized: { message: "API key not valid" },
  // Long enough for the CLI to start and send its request on a busy machine (it prints nothing before that);
  // the CLI relaunches itself as a child, which must be gone too.
  hang: { stallSeconds: 8 },
  contextTooLong: {},
});

// ---- the fault matrix, with the retry bound orch recommends (general.maxAttempts 2) --------------------------

describeFaultMatrix({
  // orch cannot set maxAttempts for one run (gemini/command.ts), so the settings file holds what it recommends.
  cli: { ...gemini, env: ({ url, repo, path }) => geminiEnv({ url, home: repo.home, tmp: repo.tmp, path, maxAttempts: RETRY_BOUNDS.gemini.maxAttempts }) },
  cases: [
    {
      // The CLI retries once (after seconds of its own backoff here, however short the RetryInfo), then quotes
      // Google's "Suggested retry after 1s.", which orch waits for.
      title: "429 with RetryInfo",
      faults: [{ fault: "rate_limit", retryAfterSeconds: 1, repeat: 2 }],
      attempts: [{ failed: "rate_limited", status: 429, calls: 2, then: "wait" }, { succeeded: true, calls: 3 }],
      waitMs: [0, 1_000],
    },
    {
      // No time quoted: orch backs off on its own.
      title: "429 without RetryInfo",
      faults: [{ fault: "rate_limit", repeat: 2 }],
      attempts: [{ failed: "rate_limited", status: 429, calls: 2, then: "wait" }, { succeeded: true, calls: 3 }],
    },
    {
      // Retried once by the CLI; with no model to fall back to, orch backs off and tries the same model again.
      title: "529",
      faults: [{ fault: "server_error", status: 529, repeat: 2 }],
      attempts: [{ failed: "overloaded", status: 529, calls: 2, then: "wait" }, { succeeded: true, calls: 3 }],
    },
    {
      // Two calls in attempt 1; attempt 2's first request fails too and the CLI's retry gets the answer.
      title: "503 three times, then answers",
      faults: [{ fault: "overloaded", repeat: 3 }],
      attempts: [{ failed: "overloaded", status: 503, calls: 2, then: "wait" }, { succeeded: true, calls: 4 }],
    },
    {
      // The CLI does not retry a stream it cannot parse: the attempt fails as bad output and orch tries again.
      title: "malformed stream",
      faults: [{ fault: "malformed" }],
      attempts: [{ failed: "bad_output", calls: 1, then: "wait" }, { succeeded: true, calls: 3 }],
    },
    {
      // The CLI waits on a stalled stream for minutes: orch's stall timer ends the attempt (12 s, as the CLI is
      // slow to start here and prints nothing before its first request).
      title: "stream stalls after the headers",
      faults: [{ fault: "stall" }],
      args: ["--stall-timeout", "12s"],
      attempts: [{ failed: "hung", calls: 1, then: "wait" }, { succeeded: true, calls: 3 }],
    },
    {
      title: "overloaded for one model only: orch falls back to the other at once",
      faults: [{ fault: "overloaded", repeat: 2 }],
      fallback: { from: "gemini-2.5-flash", to: "gemini-2.5-pro" },
      attempts: [{ failed: "overloaded", status: 503, calls: 2, then: "fallback" }, { succeeded: true, calls: 3 }],
    },
  ],
});
