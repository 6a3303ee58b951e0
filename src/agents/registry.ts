// Which agents exist and how to make one from its settings. The settings are stored with the run, so a
// detached or resumed run builds exactly the same adapter as the command that started it.
// Each adapter's module (its output schemas above all) loads only when an adapter of its kind is made: a run
// of the command agent does not pay for building the four CLIs' schemas.
import type { AgentSettings } from "../core/run-settings.js";
import type { AgentAdapter } from "./agent.js";
import type { AgentName } from "./names.js";

export { AGENT_NAMES, parseAgentName, type AgentName } from "./names.js";

export { AgentSettings } from "../core/run-settings.js";

export async function createAdapter(settings: AgentSettings): Promise<AgentAdapter> {
  switch (settings.name) {
    case "claude-code":
      return (await import("./claude-code/index.js")).createClaudeCodeAdapter(options(settings));
    case "opencode":
      return (await import("./opencode/index.js")).createOpenCodeAdapter(options(settings));
    case "gemini":
      return (await import("./gemini/index.js")).createGeminiAdapter(options(settings));
    case "codex":
      return (await import("./codex/index.js")).createCodexAdapter(options(settings));
    case "command":
      return (await import("./command/index.js")).createCommandAdapter(settings.command);
    case "scripted":
      return (await import("./scripted/index.js")).createScriptedAdapter(settings.script);
  }
}

/** A CLI adapter's options are its settings without the name. */
function options<S extends { name: AgentName }>({ name: _name, ...rest }: S): Omit<S, "name"> {
  return rest;
}
