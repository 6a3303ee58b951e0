// Is a CLI agent ready to run: one entry for `orch doctor` and a run's preflight, so that both judge an agent
// with the same lookups (its binary, its credentials) and say the same fix.
import { checkClaudeCode } from "./claude-code/detect.js";
import { checkCodex } from "./codex/detect.js";
import type { AgentCheck } from "./detect.js";
import { checkGemini } from "./gemini/detect.js";
import { checkOpenCode } from "./opencode/detect.js";

export type CliAgentName = "claude-code" | "codex" | "gemini" | "opencode";
export const CLI_AGENT_NAMES: readonly CliAgentName[] = ["claude-code", "codex", "gemini", "opencode"];

/** `probeVersion: false` skips running `BIN --version` (doctor runs it; a run's preflight must start at once). */
export function checkAgent(name: CliAgentName, env: NodeJS.ProcessEnv, bin: string, options: { probeVersion?: boolean } = {}): Promise<AgentCheck> {
  const probe = options.probeVersion ?? true;
  switch (name) {
    case "claude-code":
      return checkClaudeCode(env, bin, probe);
    case "codex":
      return checkCodex(env, bin, probe);
    case "gemini":
      return checkGemini(env, bin, probe);
    case "opencode":
      return checkOpenCode(env, bin, probe);
  }
}
