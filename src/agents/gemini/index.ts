// The `gemini` agent adapter: Gemini CLI's headless stream-json mode behind the AgentAdapter port.
// Options are checked once here, so that a bad configuration fails at start-up rather than on an attempt.
import type { AgentAdapter } from "../agent.js";
import { UsageError } from "../../core/errors.js";
import { checkCliOptions } from "../cli-options.js";
import { classifyGeminiExit } from "./classify.js";
import { buildGeminiCommand, type GeminiOptions } from "./command.js";
import { createGeminiParser } from "./normalize.js";

export type { GeminiOptions } from "./command.js";

export function createGeminiAdapter(options: GeminiOptions = {}): AgentAdapter {
  const frozen = checkCliOptions("gemini", options);
  if (frozen.extraArgs?.some((arg) => arg.startsWith("--prompt") || arg === "-p")) {
    throw new UsageError("gemini: extraArgs must not carry a prompt; orch passes the prompt itself");
  }
  return {
    name: "gemini",
    build: (invocation) => buildGeminiCommand(invocation, frozen),
    createParser: createGeminiParser,
    classify: classifyGeminiExit,
  };
}
