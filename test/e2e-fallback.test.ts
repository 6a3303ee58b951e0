// End to end: a fallback to another agent. Claude Code is the run's agent and its API is overloaded; the chain
// goes on to Codex (`--fallback-model codex:gpt-5.5`), which fixes the repository. Both real CLIs, one scripted
// server speaking both protocols.
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { SUM, useSandboxes } from "./support/e2e.js";
import { orchRun, type RealCli } from "./support/e2e-scenarios.js";
import { anthropicLastUserText, anthropicProtocol } from "./support/model-server/anthropic.js";
import {
  CODEX_MODEL,
  codexEnv,
  codexPatch,
  openaiResponsesProtocol,
  replaceFilePatch,
  writeCodexHome,
} from "./support/model-server/openai-responses.js";
import { claudeEnv } from "./support/model-server/server.js";
import { z } from "zod";

const sandboxes = useSandboxes({ prefix: "orch-e2e-fallback-" });

/** `orch run --agent claude-code` with both CLIs set up against one server. */
const claudeThenCodex: RealCli = {
  agent: "claude-code",
  name: "Claude Code, then Codex",
  protocols: [anthropicProtocol, openaiResponsesProtocol],
  // Both CLIs are ready here: the run would pick codex to review by default; this test is about the fallback.
  args: ["--model", "claude-primary", "--fallback-model", `codex:${CODEX_MODEL}`, "--no-review"],
  orchTimeoutMs: 60_000,
  env: ({ url, repo, path }) => {
    const codexHome = join(repo.root, "codex-home");
    writeCodexHome(codexHome, { url, requestMaxRetries: 0, streamMaxRetries: 0 });
    return {
      ...claudeEnv({ url, home: repo.home, tmp: repo.tmp, path, maxRetries: 0, timeoutMs: 600_000 }),
      ...codexEnv({ home: repo.home, codexHome, tmp: repo.tmp, path }),
    };
  },
  lastUserText: anthropicLastUserText,
  transcriptSession: z.string(),
  sessionId: /./,
  fix: () => [],
  fixedMatch: "",
  runTests: () => ({}),
};

describe("orch run × a fallback to another agent", () => {
  it("Claude's API is overloaded: the chain falls back to Codex at once, which converges", { timeout: 90_000 }, async () => {
    const run = await orchRun(
      claudeThenCodex,
      sandboxes,
      [
        { fault: "overloaded" },
        { ...codexPatch(replaceFilePatch("src/sum.js", SUM.buggy, SUM.fixed), "Patching src/sum.js."), match: "# Goal" },
        { text: "Fixed sum." },
      ],
      ["--max-attempts", "3"],
    );
    expect(run.result.code, run.result.stderr).toBe(0);
    expect(run.out).toMatchObject({ status: "succeeded", attempts: 2 });
    expect(run.journal.attempts.map((a) => [a.agent, a.failure?.kind ?? null])).toEqual([
      ["claude-code", "overloaded"],
      ["codex", null],
    ]);
    const notes = run.journal.events.filter((e) => e.type === "run.noted").map((e) => JSON.stringify(e.data));
    expect(notes.join("\n")).toContain(`switching to model codex:${CODEX_MODEL} from claude-primary: its circuit is open after overloaded`);
    // A fallback is no wait, and the model server saw one Claude request and Codex's two.
    expect(run.journal.events.some((e) => e.type === "task.waited")).toBe(false);
    expect(run.server.remaining()).toEqual([]);
  });
});
