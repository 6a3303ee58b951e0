// Builds the headless `gemini` command line for one attempt: stream-json output, the worktree trusted for
// this run, approval modes that work as root, and the prompt on stdin (headless when stdin is not a terminal;
// up to 8 MB), so that it is never an option and never too long for the command line (Linux: 128 KiB an argument).
import type { AgentCommand, AgentInvocation } from "../agent.js";
import { orchEnv } from "../env.js";
import type { Permission } from "../permission.js";

export interface GeminiOptions {
  /** The executable; `gemini` on the PATH by default. */
  bin?: string;
  /** Extra options, placed before the prompt (e.g. `["--include-directories", "../shared"]`). */
  extraArgs?: string[];
}

/**
 * Headless mode offers only the tools the approval mode lets run without asking, so the mode decides what
 * the model can even try. None of them is refused as root.
 * - read-only: `default`, which headless leaves with the tools that only look (read, list, grep, glob, search);
 * - workspace-write: `auto_edit` (write_file, replace) plus the shell tool allowed by name, enough to edit the
 *   worktree and run the verify commands, without yolo's everything-approved (background processes, skills);
 * - full: `yolo`, every tool approved.
 */
export function permissionArgs(permission: Permission): string[] {
  switch (permission) {
    case "read-only":
      return ["--approval-mode", "default"];
    case "workspace-write":
      // `=` keeps the array option from taking any later argument as a second tool name.
      return ["--approval-mode", "auto_edit", "--allowed-tools=run_shell_command"];
    case "full":
      return ["--approval-mode", "yolo"];
  }
}

/**
 * Retries stay Gemini's own: `general.maxAttempts` (default 10, about 3.5 minutes of backoff on a persistent
 * 429) lives only in settings files, and no flag or environment variable sets it for one run. The system
 * settings and system defaults files (GEMINI_CLI_SYSTEM_SETTINGS_PATH, GEMINI_CLI_SYSTEM_DEFAULTS_PATH) are
 * read only when they and every directory above them are owned by root and writable by nobody else, which a
 * per-run file cannot be; the workspace file would be written into the worktree. So orch leaves the user's
 * settings alone, recommends `general.maxAttempts: 2` (RETRY_BOUNDS.gemini) and bounds the rest with its own
 * stall and attempt timers.
 */
export function buildGeminiCommand(invocation: AgentInvocation, options: GeminiOptions = {}): AgentCommand {
  // orch made the worktree, so trusting it is right; without trust the CLI exits 55 in headless mode.
  const args = ["--output-format", "stream-json", "--skip-trust", ...permissionArgs(invocation.permission)];
  if (invocation.model !== undefined && invocation.model !== "") args.push("--model", invocation.model);
  if (invocation.resumeSessionId !== undefined && invocation.resumeSessionId !== "") {
    args.push("--resume", invocation.resumeSessionId);
  }
  args.push(...(options.extraArgs ?? []));
  return { file: options.bin ?? "gemini", args, env: orchEnv(invocation), stdin: invocation.prompt };
}
