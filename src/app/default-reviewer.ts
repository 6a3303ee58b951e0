// The reviewer a run gets when it names none: another agent CLI that is ready on this machine (found on PATH, with
// credentials: the same lookup as `orch doctor` and the preflight, without starting it), never the implementer's
// own, in a fixed order; without one, another model of the implementer's CLI where orch knows one (Claude Code's
// aliases). With neither the run's tasks go unreviewed, and the run says why and how to name one.
import { checkAgent, CLI_AGENT_NAMES } from "../agents/check.js";
import type { Config } from "../config/schema.js";
import type { RunRequest } from "../engine/run-service.js";
import { cliAgentSettings, configuredModel, NO_REVIEWER_NAMED, reviewRounds } from "./run-request.js";

export async function withDefaultReviewer(request: RunRequest, config: Config, env: NodeJS.ProcessEnv): Promise<RunRequest> {
  const review = request.review;
  if (review === undefined || review.on || review.why !== NO_REVIEWER_NAMED) return request;
  for (const name of CLI_AGENT_NAMES) {
    if (name === request.agent.name) continue;
    const agent = cliAgentSettings(name, config);
    const check = await checkAgent(name, env, "bin" in agent && agent.bin !== undefined ? agent.bin : name, { probeVersion: false });
    if (!check.ready) continue;
    const model = configuredModel(config, name);
    return { ...request, review: { on: true, reviewer: { agent, ...(model !== undefined ? { model } : {}) }, ...reviewRounds(config) } };
  }
  // No other CLI: another model of the implementer's own, where orch knows one that every account has and the
  // implementer's model is named (a CLI's default model differs by account, so no other can be told from it).
  const own = request.agent.name;
  const model = request.model ?? configuredModel(config, own);
  const other = model !== undefined ? anotherModel(own, model) : undefined;
  if (other !== undefined) return { ...request, review: { on: true, reviewer: { agent: request.agent, model: other }, ...reviewRounds(config) } };
  const others = CLI_AGENT_NAMES.filter((name) => name !== own).join(", ");
  return {
    ...request,
    review: { on: false, why: `no reviewer was named and no other agent CLI (${others}) is ready here; name one with --reviewer AGENT[:MODEL] (a MODEL alone is another model of the run's agent)` },
  };
}

/**
 * Another model of the same CLI, for a reviewer: Claude Code's aliases (opus, sonnet, haiku) name a model on every
 * account, so an implementer on one of them is reviewed on another. Other CLIs' model names differ by account and
 * release: none is guessed.
 */
export function anotherModel(agent: RunRequest["agent"]["name"], model: string): string | undefined {
  if (agent !== "claude-code") return undefined;
  if (/opus/i.test(model)) return "sonnet";
  if (/sonnet|haiku/i.test(model)) return "opus";
  return undefined;
}
