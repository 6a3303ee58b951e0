// End to end: the built `orch` binary drives the real Gemini CLI (node_modules/.bin/gemini) against the
// scripted Gemini server through the shared scenarios; here only what is Gemini's own (its model router).
import { expect } from "vitest";
import { z } from "zod";
import { eventData, SUM, sumLine, TaskWaitedData } from "./support/e2e.js";
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
