// End to end: the built `orch` binary drives the real OpenCode CLI (node_modules/.bin/opencode) against the
// scripted Chat Completions server through the shared scenarios and the fault matrix; here only what is
// OpenCode's own.
import { expect } from "vitest";
import { z } from "zod";
import { inWorktree, requestsFor, sumLine } from "./support/e2e.js";
import { describeFaultMatrix, gapsMs } from "./support/e2e-faults.js";
import { describeRealCli, type RealCli } from "./support/e2e-scenarios.js";
import { chatLastUserText, OPENCODE_FAKE_MODEL, openaiChatProtocol, opencodeEnv } from "./support/model-server/openai-chat.js";
import type { Usage } from "./support/model-server/server.js";

/** USD per million tokens, so that OpenCode reports a cost. */
const PRICE = { input: 3, output: 15 };
const costOf = (usage: Usage, steps: number) => (steps * (usage.input_tokens * PRICE.input + usage.output_tokens * PRICE.output)) / 1e6;

const opencode: RealCli = {
  agent: "opencode",
  name: "OpenCode CLI",
  protocols: [openaiChatProtocol],
  args: ["--model", OPENCODE_FAKE_MODEL],
  // OpenCode takes seconds to start (more on a busy machine), and the converging run starts it twice.
  orchTimeoutMs: 150_000,
  env: ({ url, repo, path }) => ({
    ...opencodeEnv({ url, home: repo.home, tmp: repo.tmp, path, modelCost: PRICE }),
    // What a shell would set: OpenCode prefers $PWD to its real working directory, so the adapter must point
    // it at the worktree, or it would work in the user's checkout.
    PWD: repo.dir,
  }),
  lastUserText: chatLastUserText,
  // OpenCode names the session on every line.
  transcriptSession: z.looseObject({ sessionID: z.string() }).transform((l) => l.sessionID),
  sessionId: /^ses_/,
  // OpenCode's file tools take absolute paths, known only once orch has made the worktree, and it refuses to
  // overwrite a file this process has not read: every attempt reads before it writes.
  fix: ({ repo, before, after, match, usage }) => [
    { match, usage, text: "Let me look at the implementation.", tools: [{ name: "read", input: inWorktree(repo, "filePath", "src/sum.js") }] },
    { match: sumLine(before), usage, tools: [{ name: "write", input: inWorktree(repo, "filePath", "src/sum.js", { content: after }) }] },
  ],
  fixedMatch: "Wrote file successfully",
  runTests: (match, usage) => ({ match, usage, tools: [{ name: "bash", input: { command: "node --test", description: "run the tests" } }] }),
};

const ChatBody = z.looseObject({ messages: z.array(z.unknown()) });

describeRealCli(opencode, {
  converge: {
    check: ({ server, journal, first, second, turns, u1, u2, handoff, worktree }) => {
      // orch names each new session itself (--title), so OpenCode asks the model for no title: every request is a turn.
      expect(server.requests.map((r) => r.outcome)).toEqual(Array<string>(2 * turns).fill("reply"));
      expect(journal.attempts.map((a) => a.model)).toEqual([OPENCODE_FAKE_MODEL, OPENCODE_FAKE_MODEL]);
      // Cost: OpenCode prices each step; the adapter sums the steps of each process.
      expect(first.cost_usd).toBeCloseTo(costOf(u1, turns), 9);
      expect(second.cost_usd).toBeCloseTo(costOf(u2, turns), 9);
      expect(journal.run.cost_usd).toBeCloseTo(costOf(u1, turns) + costOf(u2, turns), 9);
      expect(JSON.stringify(ChatBody.parse(handoff?.body).messages)).toContain("return a * b");
      // OpenCode worked in the task's worktree although orch's own $PWD is the user's checkout.
      expect(JSON.stringify(requestsFor(server, 0, 0)[0]?.body)).toContain(`Working directory: ${worktree}`);
    },
  },
  unauthorized: { message: "Incorrect API key provided" },
  // The rate limit through orch is in the fault matrix below, where OpenCode's own retries show. No hang
  // scenario: its provider timeout cuts a hung request, as model-server-opencode.test.ts proves.
  contextTooLong: { loops: true },
});

// ---- the fault matrix, with orch's bounds (request and chunk timeouts; OpenCode has no retry count) ----------

/** The second model the matrix's provider offers, for the fallback. */
const BACKUP_MODEL = "fake/backup-model";
const UNBOUNDED = "OpenCode retries a 429 five times on its own and has no setting that bounds it";

describeFaultMatrix({
  cli: {
    ...opencode,
    env: ({ url, repo, path }) => ({ ...opencodeEnv({ url, home: repo.home, tmp: repo.tmp, path, moreModels: ["backup-model"] }), PWD: repo.dir }),
    orchTimeoutMs: 90_000,
  },
  // A request names the model without its provider.
  requestedModel: (model) => model.slice(model.indexOf("/") + 1),
  cases: [
    {
      // Six calls for one rate-limit signal, one a second as the header says, before orch hears of it: orch
      // cannot bound OpenCode's retries. Then orch waits until the "try again in 1s" the message names.
      title: "429 with retry-after",
      faults: [{ fault: "rate_limit", retryAfterSeconds: 1, repeat: 6 }],
      attempts: [{ failed: "rate_limited", status: 429, calls: 6, then: "wait" }, { succeeded: true, calls: 3 }],
      unboundedRetries: UNBOUNDED,
      waitMs: [0, 1_000],
      check: ({ requestsByAttempt }) => {
        for (const gap of gapsMs(requestsByAttempt[0] ?? [])) expect(gap).toBeGreaterThanOrEqual(950);
      },
    },
    {
      // Without a header OpenCode backs off 2 s, then 4 s, on its own, and the third request is answered: no
      // failure reaches orch. (A lasting one would cost six calls over about 75 s before orch heard of it.)
      title: "429 without retry-after, twice",
      faults: [{ fault: "rate_limit", repeat: 2 }],
      attempts: [{ succeeded: true, calls: 5 }],
      check: ({ requestsByAttempt }) => {
        const [first, second] = gapsMs(requestsByAttempt[0] ?? []);
        expect(first).toBeGreaterThanOrEqual(1_900);
        expect(second).toBeGreaterThanOrEqual(3_900);
      },
    },
    {
      // Retried by OpenCode after 2 s and answered.
      title: "529 once",
      faults: [{ fault: "server_error", status: 529 }],
      attempts: [{ succeeded: true, calls: 4 }],
    },
    {
      // With retry-after OpenCode retries a 503 five times a second apart, then gives up; attempt 2's first request
      // fails too and OpenCode's retry gets the answer.
      title: "503 with retry-after seven times, then answers",
      faults: [{ fault: "overloaded", retryAfterSeconds: 1, repeat: 7 }],
      attempts: [{ failed: "overloaded", status: 503, calls: 6, then: "wait" }, { succeeded: true, calls: 4 }],
    },
    {
      // Retried by OpenCode after a backoff: no failure reaches orch.
      title: "malformed stream",
      faults: [{ fault: "malformed" }],
      attempts: [{ succeeded: true, calls: 4 }],
    },
    {
      // OpenCode's chunk timeout is orch's 2 minutes: orch's stall timer ends the attempt first. 20 s: OpenCode
      // prints nothing before its first request, which on a busy two-core machine took more than 10 s.
      title: "stream stalls after the headers",
      faults: [{ fault: "stall" }],
      args: ["--stall-timeout", "20s"],
      attempts: [{ failed: "hung", calls: 1, then: "wait" }, { succeeded: true, calls: 3 }],
    },
    {
      // A 503 with retry-after makes OpenCode give up on the first model in about 5 s, not 75.
      title: "overloaded for one model only: orch falls back to the other at once",
      faults: [{ fault: "overloaded", retryAfterSeconds: 1, repeat: 6 }],
      fallback: { from: OPENCODE_FAKE_MODEL, to: BACKUP_MODEL },
      attempts: [{ failed: "overloaded", status: 503, calls: 6, then: "fallback" }, { succeeded: true, calls: 3 }],
    },
  ],
});
