// The names of the agents orch knows, apart from their adapters, so that the command line and the config
// can name them without loading every adapter.
import { UsageError } from "../core/errors.js";

export const AGENT_NAMES = ["claude-code", "codex", "gemini", "opencode", "command", "scripted"] as const;
export type AgentName = (typeof AGENT_NAMES)[number];

export function parseAgentName(name: string): AgentName {
  const found = AGENT_NAMES.find((n) => n === name);
  if (found === undefined) {
    throw new UsageError(`unknown agent "${name}"`, { hint: `choose one of: ${AGENT_NAMES.join(", ")}` });
  }
  return found;
}
