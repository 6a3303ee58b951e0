// Which agents exist and how to make one from its settings. The settings are stored with the run, so a
// detached or resumed run builds exactly the same adapter as the command that started it.
import { z } from "zod";
import type { AgentAdapter } from "./agent.js";
import { createClaudeCodeAdapter } from "./claude-code/index.js";
import { createCodexAdapter } from "./codex/index.js";
import { createCommandAdapter } from "./command/index.js";
import { createGeminiAdapter } from "./gemini/index.js";
import { createOpenCodeAdapter } from "./opencode/index.js";
import type { AgentName } from "./names.js";
import { createScriptedAdapter } from "./scripted/index.js";

export { AGENT_NAMES, parseAgentName, type AgentName } from "./names.js";

// The settings every CLI adapter takes (its CliOptions).
const bin = z.string().optional();
const extraArgs = z.array(z.string()).optional();

export const AgentSettings = z.discriminatedUnion("name", [
  z.object({ name: z.literal("claude-code"), bin, maxTurns: z.number().int().positive().optional(), extraArgs }),
  z.object({ name: z.literal("opencode"), bin, extraArgs }),
  z.object({ name: z.literal("gemini"), bin, extraArgs }),
  z.object({ name: z.literal("codex"), bin, extraArgs }),
  z.object({ name: z.literal("command"), command: z.string().min(1) }),
  z.object({ name: z.literal("scripted"), script: z.string().min(1) }),
]);
export type AgentSettings = z.infer<typeof AgentSettings>;

export function createAdapter(settings: AgentSettings): AgentAdapter {
  switch (settings.name) {
    case "claude-code":
      return createClaudeCodeAdapter(options(settings));
    case "opencode":
      return createOpenCodeAdapter(options(settings));
    case "gemini":
      return createGeminiAdapter(options(settings));
    case "codex":
      return createCodexAdapter(options(settings));
    case "command":
      return createCommandAdapter(settings.command);
    case "scripted":
      return createScriptedAdapter(settings.script);
  }
}

/** A CLI adapter's options are its settings without the name. */
function options<S extends { name: AgentName }>({ name: _name, ...rest }: S): Omit<S, "name"> {
  return rest;
}
