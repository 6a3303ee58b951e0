// The reviewer a run gets when it names none: another agent CLI that is ready on this machine (found on PATH, with
// credentials: the same lookup as `orch doctor` and the preflight, without starting it), never the implementer's
// own, in a fixed order. With none ready the run's tasks go unreviewed, and the run says why and how to name one.
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
  const others = CLI_AGENT_NAMES.filter((name) => name !== request.agent.name).join(", ");
  return {
    ...request,
    review: { on: false, why: `no reviewer was named and no other agent CLI (${others}) is ready here; name one with --reviewer AGENT[:MODEL] (a MODEL alone is another model of the run's agent)` },
  };
}
