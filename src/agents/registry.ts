// Which agents exist and how to make one from its settings. The settings are stored with the run, so a
// detached or resumed run builds exactly the same adapter as the command that started it.
import type { AgentSettings } from "../core/run-settings.js";
import type { AgentAdapter } from "./agent.js";
import { createClaudeCodeAdapter } from "./claude-code/index.js";
import { createCodexAdapter } from "./codex/index.js";
import { createCommandAdapter } from "./command/index.js";
import { createGeminiAdapter } from "./gemini/index.js";
import { createOpenCodeAdapter } from "./opencode/index.js";
import type { AgentName } from "./names.js";
import { createScriptedAdapter } from "./scripted/index.js";

export { AGENT_NAMES, parseAgentName, type AgentName } from "./names.js";

export { AgentSettings } from "../core/run-settings.js";

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
