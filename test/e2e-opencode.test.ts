// End to end: the built `orch` binary drives the real OpenCode CLI (node_modules/.bin/opencode) against the
// scripted Chat Completions server through the shared scenarios; here only what is OpenCode's own.
import { expect } from "vitest";
import { z } from "zod";
import { inWorktree, requestsFor, sumLine } from "./support/e2e.js";
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
  // No rate-limit or hang scenario through orch (as before): OpenCode retries a 429 itself and its provider
  // timeout cuts a hung request; model-server-opencode.test.ts proves both against the CLI directly.
  contextTooLong: { loops: true },
});
