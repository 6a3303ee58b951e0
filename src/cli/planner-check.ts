// Before a plan is asked for (`orch plan`, `orch run` on a goal it plans): can the planner agent start at all?
// A missing binary would otherwise cost three planner tries that each fail at spawn, and a run journaled for
// nothing; here it is a usage error that names the binary, and nothing is written.
import { isAbsolute } from "node:path";
import { findExecutable } from "../agents/detect.js";
import { createAdapter } from "../agents/registry.js";
import { UsageError } from "../core/errors.js";
import { binaryNotFound } from "../engine/planner.js";
import type { Fallback } from "../engine/run-service.js";

export async function assertPlannerStarts(planner: Fallback, env: NodeJS.ProcessEnv, cwd: string): Promise<void> {
  // Adapters are pure descriptions: building a command spawns nothing and tells the file that would be run.
  const { file } = (await createAdapter(planner.agent)).build({ prompt: "", cwd, runId: "plan", taskId: "plan", attempt: 1, env, permission: "read-only" });
  // A relative path with a slash is looked up where the agent runs, which is not known here.
  if (file.includes("/") && !isAbsolute(file)) return;
  if (findExecutable(file, env) !== undefined) return;
  const settings = planner.agent.name === "command" || planner.agent.name === "scripted" ? "" : `, set agents.${planner.agent.name}.bin in orch.config.yaml`;
  throw new UsageError(binaryNotFound(planner.agent.name, file), {
    hint: `\`orch doctor\` says how to install each agent CLI${settings}, or pass --planner AGENT[:MODEL] with an agent you have`,
  });
}
