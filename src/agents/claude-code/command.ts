// Builds the headless `claude` command line for one attempt: stream-json output, permissions that work as
// root, the prompt on stdin (`-p` with no prompt argument reads it there), so that no prompt text can be read as
// an option and no prompt is too long for the command line (Linux: 128 KiB an argument).
import type { AgentCommand, AgentInvocation } from "../agent.js";
import { orchEnv } from "../env.js";
import { runningAsRoot, type Permission } from "../permission.js";
import { RETRY_BOUNDS, type ClaudeRetryBounds } from "../retry-bounds.js";

export interface ClaudeCodeOptions {
  /** The executable; `claude` on the PATH by default. */
  bin?: string;
  /** Extra options, placed before the prompt (e.g. `["--fallback-model", "claude-haiku-4-5"]`). */
  extraArgs?: string[];
  /** Passed as `--max-turns`; running out is not a failure, verification judges the work. */
  maxTurns?: number;
  /** Tools the agent may use without asking; DEFAULT_ALLOWED_TOOLS when not given. */
  allowedTools?: string[];
  /** orch's bounds on Claude's own retries; RETRY_BOUNDS by default (tests shorten them). */
  retryBounds?: { [K in keyof ClaudeRetryBounds]: number };
}

/**
 * Enough to read, edit and run commands in the worktree. Root refuses `--dangerously-skip-permissions` and
 * `bypassPermissions`, so the tools are allowed one by one; anything else is denied (and counted in the
 * result's permission denials) instead of waiting for an answer nobody will give.
 */
export const DEFAULT_ALLOWED_TOOLS: readonly string[] = [
  "Read",
  "Write",
  "Edit",
  "MultiEdit",
  "Glob",
  "Grep",
  "Bash",
  "TodoWrite",
];

/** Tools that only look. */
export const READ_ONLY_TOOLS: readonly string[] = ["Read", "Glob", "Grep", "TodoWrite"];

/** Everything Claude Code offers that root may allow one by one (root refuses the bypass flags). */
export const FULL_TOOLS: readonly string[] = [...DEFAULT_ALLOWED_TOOLS, "NotebookEdit", "WebFetch", "WebSearch", "Task"];

/** The permission flags for one level; `asRoot` because root refuses `--dangerously-skip-permissions`. */
export function permissionArgs(
  permission: Permission,
  allowedTools: readonly string[] | undefined,
  asRoot: boolean,
  granted: readonly string[] = [],
): string[] {
  switch (permission) {
    case "read-only":
      return ["--permission-mode", "default", "--allowedTools", (allowedTools ?? READ_ONLY_TOOLS).join(",")];
    case "workspace-write":
      return ["--permission-mode", "acceptEdits", "--allowedTools", (allowedTools ?? DEFAULT_ALLOWED_TOOLS).join(",")];
    case "full":
      return asRoot
        ? ["--permission-mode", "acceptEdits", "--allowedTools", [...(allowedTools ?? FULL_TOOLS), ...granted].join(",")]
        : ["--dangerously-skip-permissions"];
  }
}

export function buildClaudeCommand(invocation: AgentInvocation, options: ClaudeCodeOptions = {}, asRoot = runningAsRoot()): AgentCommand {
  const args = ["-p", "--output-format", "stream-json", "--verbose"];
  args.push(...permissionArgs(invocation.permission, options.allowedTools, asRoot, invocation.grantedTools));
  if (invocation.model !== undefined && invocation.model !== "") args.push("--model", invocation.model);
  if (invocation.resumeSessionId !== undefined && invocation.resumeSessionId !== "") {
    args.push("--resume", invocation.resumeSessionId);
  }
  if (options.maxTurns !== undefined) args.push("--max-turns", String(options.maxTurns));
  args.push(...(options.extraArgs ?? []));
  return { file: options.bin ?? "claude", args, env: retryBoundEnv(orchEnv(invocation), options.retryBounds), stdin: invocation.prompt };
}

/**
 * orch's bounds on Claude's own retries and request timeout (see retry-bounds.ts), as defaults: a value the
 * environment already holds was set by the user on purpose and wins, and so does the `env` of Claude's own
 * settings (`--settings` in extraArgs, settings.json), which Claude applies over its environment.
 */
export function retryBoundEnv(env: NodeJS.ProcessEnv, bounds: { [K in keyof ClaudeRetryBounds]: number } = RETRY_BOUNDS["claude-code"]): NodeJS.ProcessEnv {
  return {
    CLAUDE_CODE_MAX_RETRIES: String(bounds.maxRetries),
    API_TIMEOUT_MS: String(bounds.requestTimeoutMs),
    ...withoutBlank(env, ["CLAUDE_CODE_MAX_RETRIES", "API_TIMEOUT_MS"]),
  };
}

/** `env` without those of `names` that hold nothing (undefined or blank): Claude would read them as unset. */
function withoutBlank(env: NodeJS.ProcessEnv, names: readonly string[]): NodeJS.ProcessEnv {
  const copy = { ...env };
  for (const name of names) if ((copy[name] ?? "").trim() === "") delete copy[name];
  return copy;
}
