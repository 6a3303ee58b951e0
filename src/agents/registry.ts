// Which agents exist and how to make one from its settings. The settings are stored with the run, so a
// detached or resumed run builds exactly the same adapter as the command that started it.
import { z } from "zod";
import { UsageError } from "../core/errors.js";
import type { AgentAdapter } from "./agent.js";
import { createClaudeCodeAdapter } from "./claude-code/index.js";
import { createCodexAdapter } from "./codex/index.js";
import { createCommandAdapter } from "./command/index.js";
import { createGeminiAdapter } from "./gemini/index.js";
import { createOpenCodeAdapter } from "./opencode/index.js";
import { createScriptedAdapter } from "./scripted/index.js";

export const AGENT_NAMES = ["claude-code", "codex", "gemini", "opencode", "command", "scripted"] as const;
export type AgentName = (typeof AGENT_NAMES)[number];

export const AgentSettings = z.discriminatedUnion("name", [
  z.object({
    name: z.literal("claude-code"),
    bin: z.string().optional(),
    maxTurns: z.number().int().positive().optional(),
    extraArgs: z.array(z.string()).optional(),
  }),
  z.object({ name: z.literal("opencode"), bin: z.string().optional(), extraArgs: z.array(z.string()).optional() }),
  z.object({ name: z.literal("gemini"), bin: z.string().optional(), extraArgs: z.array(z.string()).optional() }),
  z.object({ name: z.literal("codex"), bin: z.string().optional(), extraArgs: z.array(z.string()).optional() }),
  z.object({ name: z.literal("command"), command: z.string().min(1) }),
  z.object({ name: z.literal("scripted"), script: z.string().min(1) }),
]);
export type AgentSettings = z.infer<typeof AgentSettings>;

export function createAdapter(settings: AgentSettings): AgentAdapter {
  switch (settings.name) {
    case "claude-code":
      return createClaudeCodeAdapter({
        ...(settings.bin !== undefined ? { bin: settings.bin } : {}),
        ...(settings.maxTurns !== undefined ? { maxTurns: settings.maxTurns } : {}),
        ...(settings.extraArgs !== undefined ? { extraArgs: settings.extraArgs } : {}),
      });
    case "opencode":
      return createOpenCodeAdapter({
        ...(settings.bin !== undefined ? { bin: settings.bin } : {}),
        ...(settings.extraArgs !== undefined ? { extraArgs: settings.extraArgs } : {}),
      });
    case "gemini":
      return createGeminiAdapter({
        ...(settings.bin !== undefined ? { bin: settings.bin } : {}),
        ...(settings.extraArgs !== undefined ? { extraArgs: settings.extraArgs } : {}),
      });
    case "codex":
      return createCodexAdapter({
        ...(settings.bin !== undefined ? { bin: settings.bin } : {}),
        ...(settings.extraArgs !== undefined ? { extraArgs: settings.extraArgs } : {}),
      });
    case "command":
      return createCommandAdapter(settings.command);
    case "scripted":
      return createScriptedAdapter(settings.script);
  }
}

export function parseAgentName(name: string): AgentName {
  const found = AGENT_NAMES.find((n) => n === name);
  if (found === undefined) {
    throw new UsageError(`unknown agent "${name}"`, { hint: `choose one of: ${AGENT_NAMES.join(", ")}` });
  }
  return found;
}
