// End to end: the built `orch` binary drives the real Codex CLI (node_modules/.bin/codex) against the scripted
// Responses server through the shared scenarios and the fault matrix, in a linked git worktree under Codex's
// workspace-write sandbox (orch's default permission); here only what is Codex's own.
import { join } from "node:path";
import { expect } from "vitest";
import { z } from "zod";
import { agentEvents, ofType } from "./support/e2e.js";
import { describeFaultMatrix } from "./support/e2e-faults.js";
import { describeRealCli, type RealCli } from "./support/e2e-scenarios.js";
import {
  CODEX_MODEL,
  codexEnv,
  codexExec,
  codexPatch,
  openaiResponsesProtocol,
  replaceFilePatch,
  responsesLastUserText,
  writeCodexHome,
} from "./support/model-server/openai-responses.js";

const codex: RealCli = {
  agent: "codex",
  name: "Codex CLI",
  protocols: [openaiResponsesProtocol],
  orchTimeoutMs: 50_000,
  env: ({ url, repo, path }) => {
    const codexHome = join(repo.root, "codex-home");
    // config.toml asks for no retries; orch's own bound (-c …request_max_retries=2) overrides it, but Codex does not
    // retry a 401 or a 429 without retry-after at the request level, so the scripted faults still reach orch at once.
    writeCodexHome(codexHome, { url, requestMaxRetries: 0, streamMaxRetries: 0 });
    return codexEnv({ home: repo.home, codexHome, tmp: repo.tmp, path });
  },
  lastUserText: responsesLastUserText,
  // The session is Codex's thread.
  transcriptSession: z.object({ type: z.literal("thread.started"), thread_id: z.string() }).transform((l) => l.thread_id),
  sessionId: /^[0-9a-f-]{36}$/,
  // Codex's tools take paths relative to the worktree, and apply_patch needs no read first.
  fix: ({ before, after, match, usage }) => [{ ...codexPatch(replaceFilePatch("src/sum.js", before, after), "Patching src/sum.js."), match, usage }],
  fixedMatch: "Success. Updated the following files",
  runTests: (match, usage) => ({ ...codexExec("node --test"), match, usage }),
};

describeRealCli(codex, {
  converge: {
    // Codex reports the thread's totals, so a resumed attempt's figures include the earlier ones; the shared
    // scenario checks that each attempt is charged its own three requests only.
    check: ({ journal, first, second, prompt, handoff }) => {
      // Codex reports no cost.
      expect(first.cost_usd ?? 0).toBe(0);
      expect(journal.run.cost_usd).toBe(0);
      // The tests failed under attempt 1 and passed under attempt 2, as the exec_command results say.
      expect(ofType(agentEvents(journal, first.id), "tool.returned")).toEqual([
        expect.objectContaining({ isError: false }),
        expect.objectContaining({ isError: true, exitCode: 1 }),
      ]);
      expect(ofType(agentEvents(journal, second.id), "tool.returned")).toEqual([
        expect.objectContaining({ isError: false }),
        expect.objectContaining({ isError: false, exitCode: 0 }),
      ]);
      expect(prompt).toContain("apply_patch update");
      expect(JSON.stringify(handoff?.body)).toContain("+  return a * b;");
    },
  },
  rateLimit: {
    check: ({ journal }) => expect(journal.attempts[0]?.failure?.detail).toContain("last status: 429 Too Many Requests"),
  },
  unauthorized: { message: "Incorrect API key provided" },
  // Codex is a node launcher of a native binary: the shared scenario checks neither is left running.
  hang: { stallSeconds: 2 },
  contextTooLong: {},
});

// ---- the fault matrix, with orch's own bounds on Codex's retries -----------------------------------------------

describeFaultMatrix({
  cli: {
    ...codex,
    // config.toml keeps Codex's own defaults (4 request and 5 stream retries), as a user's would: orch's `-c`
    // overrides (2 request retries, no stream retries) must win over them.
    env: ({ url, repo, path }) => {
      const codexHome = join(repo.root, "codex-home");
      writeCodexHome(codexHome, { url, requestMaxRetries: 4, streamMaxRetries: 5 });
      return codexEnv({ home: repo.home, codexHome, tmp: repo.tmp, path });
    },
  },
  cases: [
    {
      // Codex retries a 429 only as a stream retry, which orch turns off: one call. The header goes unheard and
      // Codex names no time ("last status: 429 Too Many Requests"), so orch backs off on its own.
      title: "429 with retry-after",
      faults: [{ fault: "rate_limit", retryAfterSeconds: 1 }],
      attempts: [{ failed: "rate_limited", status: 429, calls: 1, then: "wait" }, { succeeded: true, calls: 2 }],
    },
    {
      // The same row: under orch's bounds Codex treats a 429 alike with and without retry-after.
      title: "429 without retry-after",
      faults: [{ fault: "rate_limit" }],
      attempts: [{ failed: "rate_limited", status: 429, calls: 1, then: "wait" }, { succeeded: true, calls: 2 }],
    },
    {
      // Two request retries (orch's bound), then orch backs off.
      title: "529",
      faults: [{ fault: "server_error", status: 529, repeat: 3 }],
      attempts: [{ failed: "overloaded", status: 529, calls: 3, then: "wait" }, { succeeded: true, calls: 2 }],
    },
    {
      // Three calls in attempt 1; attempt 2's first request fails too and Codex's own retry gets the answer.
      title: "503 four times, then answers",
      faults: [{ fault: "overloaded", repeat: 4 }],
      attempts: [{ failed: "overloaded", status: 503, calls: 3, then: "wait" }, { succeeded: true, calls: 3 }],
    },
    {
      // No stream retries: the cut-off stream ends the attempt. Codex says only "stream disconnected before
      // completion", as it would for a dropped connection, so orch counts it as the API failing (no status).
      title: "malformed stream",
      faults: [{ fault: "malformed" }],
      attempts: [{ failed: "overloaded", calls: 1, then: "wait" }, { succeeded: true, calls: 2 }],
    },
    {
      // Codex's stream_idle_timeout is orch's 5 minutes: orch's stall timer ends the attempt.
      title: "stream stalls after the headers",
      faults: [{ fault: "stall" }],
      args: ["--stall-timeout", "4s"],
      attempts: [{ failed: "hung", calls: 1, then: "wait" }, { succeeded: true, calls: 2 }],
    },
    {
      // The fallback must be a catalogued model too, or Codex offers no apply_patch.
      title: "overloaded for one model only: orch falls back to the other at once",
      faults: [{ fault: "overloaded", repeat: 3 }],
      fallback: { from: CODEX_MODEL, to: "gpt-5.6-terra" },
      attempts: [{ failed: "overloaded", status: 503, calls: 3, then: "fallback" }, { succeeded: true, calls: 2 }],
    },
  ],
});
