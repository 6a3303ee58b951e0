// End to end: the built `orch` binary drives the real Codex CLI (node_modules/.bin/codex) against the scripted
// Responses server through the shared scenarios, in a linked git worktree under Codex's workspace-write sandbox
// (orch's default permission); here only what is Codex's own.
import { join } from "node:path";
import { expect } from "vitest";
import { z } from "zod";
import { agentEvents, ofType } from "./support/e2e.js";
import { describeRealCli, type RealCli } from "./support/e2e-scenarios.js";
import {
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
