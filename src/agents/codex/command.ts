// Builds the headless `codex exec --json` command line for one attempt: a new thread, or `exec resume` of an
// earlier one; permissions as sandbox modes; the prompt on stdin (`-`), so no prompt text can be read as an
// option and no prompt is too long for the command line.
import type { AgentCommand, AgentInvocation } from "../agent.js";
import { orchEnv } from "../env.js";
import type { Permission } from "../permission.js";
import { isCustomProvider, readCodexConfig, retryBoundArgs, selectedProvider } from "./retry-bounds.js";

export interface CodexOptions {
  /** The executable; `codex` on the PATH by default. */
  bin?: string;
  /** Extra options, placed before the positional arguments (e.g. `["-c", 'model_reasoning_effort="high"']`). */
  extraArgs?: string[];
}

/**
 * Sandbox modes rather than `--sandbox`, because `exec resume` has no `--sandbox` flag; `-c` sets the same
 * setting for both. Approvals are never asked for: nobody would answer. Root may use every mode.
 *
 * - read-only: the agent reads and runs commands, the sandbox refuses writes (and the network).
 * - workspace-write: writes inside the worktree and the temp dirs. Git metadata stays read-only (for a linked
 *   worktree it lives in the main repository): orch commits, not the agent. The network is allowed, because
 *   a verify command that binds a loopback port (a test server) or installs packages fails without it.
 * - full: no sandbox at all.
 */
export function permissionArgs(permission: Permission): string[] {
  switch (permission) {
    case "read-only":
      return ["-c", 'sandbox_mode="read-only"', "-c", 'approval_policy="never"'];
    case "workspace-write":
      return [
        "-c",
        'sandbox_mode="workspace-write"',
        "-c",
        "sandbox_workspace_write.network_access=true",
        "-c",
        'approval_policy="never"',
      ];
    case "full":
      return ["--dangerously-bypass-approvals-and-sandbox"];
  }
}

export function buildCodexCommand(invocation: AgentInvocation, options: CodexOptions = {}): AgentCommand {
  const resume = invocation.resumeSessionId !== undefined && invocation.resumeSessionId !== "" ? invocation.resumeSessionId : undefined;
  const args = ["exec"];
  if (resume !== undefined) args.push("resume");
  // orch always runs the agent in a git worktree; the check would only fail on a repository Codex does not trust.
  args.push("--json", "--skip-git-repo-check", ...permissionArgs(invocation.permission));
  if (invocation.model !== undefined && invocation.model !== "") args.push("--model", invocation.model);
  const extra = options.extraArgs ?? [];
  const config = readCodexConfig(invocation.env);
  const provider = selectedProvider(extra, config);
  args.push(...retryBoundArgs(provider, provider !== undefined && isCustomProvider(provider, extra, config)));
  args.push(...extra, "--");
  if (resume !== undefined) args.push(resume);
  args.push("-");
  return { file: options.bin ?? "codex", args, env: orchEnv(invocation), stdin: invocation.prompt };
}
