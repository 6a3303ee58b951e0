// The `opencode` agent adapter: OpenCode's headless `run --format json` behind the AgentAdapter port.
// Options are checked once here, so that a bad configuration fails at start-up rather than on an attempt.
import type { AgentAdapter } from "../agent.js";
import { checkCliOptions } from "../cli-options.js";
import { classifyOpenCodeExit } from "./classify.js";
import { buildOpenCodeCommand, type OpenCodeOptions } from "./command.js";
import { createOpenCodeParser } from "./normalize.js";

export { permissionRules, type OpenCodeOptions } from "./command.js";

export function createOpenCodeAdapter(options: OpenCodeOptions = {}): AgentAdapter {
  const frozen = checkCliOptions("opencode", options);
  return {
    name: "opencode",
    build: (invocation) => buildOpenCodeCommand(invocation, frozen),
    createParser: createOpenCodeParser,
    classify: classifyOpenCodeExit,
  };
}
