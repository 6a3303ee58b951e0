// The `claude-code` agent adapter: Claude Code's headless print mode behind the AgentAdapter port.
// Options are checked once here, so that a bad configuration fails at start-up rather than on an attempt.
import type { AgentAdapter } from "../agent.js";
import { UsageError } from "../../core/errors.js";
import { checkCliOptions } from "../cli-options.js";
import { classifyClaudeExit } from "./classify.js";
import { buildClaudeCommand, type ClaudeCodeOptions } from "./command.js";
import { createClaudeParser } from "./normalize.js";

export { DEFAULT_ALLOWED_TOOLS, type ClaudeCodeOptions } from "./command.js";

export function createClaudeCodeAdapter(options: ClaudeCodeOptions = {}): AgentAdapter {
  const { maxTurns, allowedTools } = options;
  if (maxTurns !== undefined && !(Number.isInteger(maxTurns) && maxTurns > 0)) {
    throw new UsageError(`claude-code: maxTurns must be a positive whole number, got ${String(maxTurns)}`);
  }
  const checked = checkCliOptions("claude-code", options);
  if (allowedTools?.some((tool) => tool.trim() === "" || tool.includes(","))) {
    throw new UsageError("claude-code: each allowed tool must be one non-empty name without commas", {
      hint: 'give a list such as ["Read", "Bash(npm test:*)"]',
    });
  }
  const frozen: ClaudeCodeOptions = { ...checked, allowedTools: allowedTools === undefined ? undefined : [...allowedTools] };
  return {
    name: "claude-code",
    build: (invocation) => buildClaudeCommand(invocation, frozen),
    createParser: createClaudeParser,
    classify: classifyClaudeExit,
  };
}
