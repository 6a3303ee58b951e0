// Tools an agent's CLI denied during an attempt that did not succeed, and what the loop does about them.
import type { Permission } from "../agents/permission.js";

/**
 * What to do about tools the CLI denied in an attempt that did not succeed. At `full`, the level allows any tool:
 * grant the denied ones to the next attempts (Claude as root allows tools one by one). Below it, the agent is
 * told in the handoff to do without them; denied again in the next attempt, the task is escalated with the
 * tools named, since only a human can widen the permission level.
 */
export async function recoverPermissions(
  permission: Permission,
  denied: readonly string[],
  deniedAgain: readonly string[] | undefined,
  granted: Set<string>,
  note: (message: string) => Promise<unknown>,
): Promise<{ status: "blocked"; reason: string } | undefined> {
  if (denied.length === 0) return undefined;
  if (permission === "full") {
    const fresh = denied.filter((tool) => !granted.has(tool));
    if (fresh.length === 0) {
      return { status: "blocked", reason: `permission_denied: ${denied.join(", ")} refused again although allowed; the CLI's own settings deny them` };
    }
    for (const tool of fresh) granted.add(tool);
    await note(`allowing ${fresh.join(", ")} from the next attempt on: the agent was denied them and the permission level is full`);
    return undefined;
  }
  if (deniedAgain !== undefined && deniedAgain.length > 0) {
    return {
      status: "blocked",
      reason: `permission_denied: the agent keeps needing ${deniedAgain.join(", ")}, which the ${permission} permission level does not allow; run again with --permission full, or allow them in the agent's own settings`,
    };
  }
  return undefined;
}
