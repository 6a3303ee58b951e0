// The `codex` agent adapter: OpenAI's Codex CLI (`codex exec --json`) behind the AgentAdapter port.
// Options are checked once here, so that a bad configuration fails at start-up rather than on an attempt.
import type { AgentAdapter, AgentInvocation } from "../agent.js";
import { checkCliOptions } from "../cli-options.js";
import { classifyCodexExit } from "./classify.js";
import { buildCodexCommand, type CodexOptions } from "./command.js";
import { createCodexParser } from "./normalize.js";
import { threadUsage } from "./rollout.js";

export type { CodexOptions } from "./command.js";

export function createCodexAdapter(options: CodexOptions = {}): AgentAdapter {
  const frozen = checkCliOptions("codex", options);
  return {
    name: "codex",
    build: (invocation) => buildCodexCommand(invocation, frozen),
    createParser: (invocation?: AgentInvocation) => {
      const resumed = invocation?.resumeSessionId;
      const baseline = resumed === undefined || resumed === "" ? undefined : threadUsage(invocation?.env ?? {}, resumed);
      return createCodexParser({ baseline });
    },
    classify: classifyCodexExit,
  };
}
