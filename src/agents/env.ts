// The environment every agent gets: the user's own (so ANTHROPIC_BASE_URL and credentials reach the CLI)
// plus the ids that tell it which run, task and attempt it serves.
import type { AgentInvocation } from "./agent.js";

export function orchEnv(invocation: AgentInvocation): NodeJS.ProcessEnv {
  return {
    ...invocation.env,
    ORCH_RUN_ID: invocation.runId,
    ORCH_TASK_ID: invocation.taskId,
    ORCH_ATTEMPT: String(invocation.attempt),
    ...(invocation.model !== undefined ? { ORCH_MODEL: invocation.model } : {}),
  };
}
