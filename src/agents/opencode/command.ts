// Builds the headless `opencode run` command for one attempt: JSON events, the prompt on stdin (verbatim;
// arguments get re-quoted by the CLI), and orch's settings in the environment only (OPENCODE_PERMISSION,
// OPENCODE_CONFIG_CONTENT), which OpenCode merges over the user's config files without touching them.
import type { AgentCommand, AgentInvocation } from "../agent.js";
import { orchEnv } from "../env.js";
import { isRecord, parseJson } from "../parse-line.js";
import type { Permission } from "../permission.js";
import { RETRY_BOUNDS, type OpenCodeRetryBounds } from "../retry-bounds.js";

export interface OpenCodeOptions {
  /** The executable; `opencode` on the PATH by default. */
  bin?: string;
  /** Extra options, placed after orch's own (e.g. `["--agent", "build"]` or `["--variant", "high"]`). */
  extraArgs?: string[];
  /** orch's request and chunk timeouts for the run's provider; RETRY_BOUNDS by default (tests shorten them). */
  retryBounds?: Bounds;
}

type Bounds = { [K in keyof OpenCodeRetryBounds]: number };

type Action = "allow" | "deny";
/** OpenCode's permission config: an action for a whole permission, or per pattern (last match wins). */
export type PermissionRules = Record<string, Action | Record<string, Action>>;

/** Reading stays open except secrets: OpenCode's own default asks for `.env` files, and asking means no in `run`. */
const READ: Record<string, Action> = { "*": "allow", "*.env": "deny", "*.env.*": "deny", "*.env.example": "allow" };
const LOOK: PermissionRules = { read: READ, glob: "allow", grep: "allow", list: "allow", todowrite: "allow" };

/**
 * OpenCode permission rules for one level. Only the permissions named here are set: a blanket `"*"` would
 * also override OpenCode's own allowances for its temp and truncated-tool-output directories. In `run`
 * mode anything left at "ask" is rejected, so a denial costs the model one failed call, never a hang.
 */
export function permissionRules(permission: Permission): PermissionRules {
  switch (permission) {
    case "read-only":
      return { ...LOOK, edit: "deny", bash: "deny", task: "deny", webfetch: "deny", websearch: "deny" };
    case "workspace-write":
      // Outside the worktree stays at OpenCode's default (ask, so rejected); the web is not needed to fix code.
      return { ...LOOK, edit: "allow", bash: "allow", task: "allow", skill: "allow", webfetch: "deny", websearch: "deny" };
    case "full":
      return {
        "*": "allow",
        ...LOOK,
        read: "allow",
        edit: "allow",
        bash: "allow",
        task: "allow",
        skill: "allow",
        webfetch: "allow",
        websearch: "allow",
        external_directory: "allow",
        doom_loop: "allow",
      };
  }
}

/**
 * The user's own OPENCODE_PERMISSION (if it is a JSON object) with orch's rules on top: OpenCode reads only
 * one such variable, so replacing it would silently drop the user's rules for tools orch does not name.
 */
export function mergePermission(existing: string | undefined, rules: PermissionRules): string {
  // Content that is not a JSON object OpenCode would skip with a warning, so nothing is lost by dropping it.
  const base = existing === undefined ? undefined : parseObject(existing);
  return JSON.stringify({ ...base, ...rules });
}

/**
 * In `run` mode a rejected permission ends the whole session by default, so one denied call would silently
 * end an attempt mid-work. With this the model gets the denial as a tool error and carries on, as with Claude.
 */
const RUN_CONFIG = { experimental: { continue_loop_on_deny: true } } as const;

/**
 * The user's own OPENCODE_CONFIG_CONTENT with orch's run settings merged in, and, for `provider` (the one the
 * run's model names), orch's request and chunk timeouts (retry-bounds.ts) where that content sets none: the
 * user's content wins, orch's bound wins over opencode.json (the content is merged over the config files).
 * Content that is not a JSON object (OpenCode also takes JSONC) is passed on untouched: the user's config
 * matters more than the settings.
 */
export function mergeConfigContent(existing: string | undefined, provider?: string, bounds: Bounds = RETRY_BOUNDS.opencode): string {
  if (existing === undefined || existing.trim() === "") return JSON.stringify(withBounds(RUN_CONFIG, provider, bounds));
  const parsed = parseObject(existing);
  if (parsed === undefined) return existing;
  const current = parsed["experimental"];
  const experimental = isRecord(current) ? current : {};
  return JSON.stringify(withBounds({ ...parsed, experimental: { ...experimental, ...RUN_CONFIG.experimental } }, provider, bounds));
}

/** `config` with `provider.<id>.options.timeout` and `chunkTimeout` filled in where it has none. */
function withBounds(config: Record<string, unknown>, provider: string | undefined, bounds: Bounds): Record<string, unknown> {
  if (provider === undefined || provider === "") return config;
  const providers = record(config["provider"]);
  const entry = record(providers[provider]);
  const options = record(entry["options"]);
  const bounded = { timeout: bounds.timeoutMs, chunkTimeout: bounds.chunkTimeoutMs, ...options };
  return { ...config, provider: { ...providers, [provider]: { ...entry, options: bounded } } };
}

function record(value: unknown): Record<string, unknown> {
  return isRecord(value) ? value : {};
}

/** The provider of a `provider/model` id. */
export function providerOf(model: string | undefined): string | undefined {
  const slash = model?.indexOf("/") ?? -1;
  return model === undefined || slash <= 0 ? undefined : model.slice(0, slash);
}

function parseObject(text: string): Record<string, unknown> | undefined {
  const json = parseJson(text);
  return json !== undefined && isRecord(json.value) ? json.value : undefined;
}

export function buildOpenCodeCommand(invocation: AgentInvocation, options: OpenCodeOptions = {}): AgentCommand {
  const args = ["run", "--format", "json"];
  if (invocation.model !== undefined && invocation.model !== "") args.push("--model", invocation.model);
  if (invocation.resumeSessionId !== undefined && invocation.resumeSessionId !== "") {
    args.push("--session", invocation.resumeSessionId);
  } else {
    // A title of its own spares a new session the model call OpenCode otherwise makes to name it.
    args.push("--title", `orch ${invocation.runId}/${invocation.taskId} attempt ${invocation.attempt}`);
  }
  // Rules cover the named tools; --auto also approves what a user's own rules leave at "ask" (MCP tools…).
  if (invocation.permission === "full") args.push("--auto");
  args.push(...(options.extraArgs ?? []));
  const base = orchEnv(invocation);
  const env: NodeJS.ProcessEnv = {
    ...base,
    // OpenCode takes its directory from $PWD before process.cwd(); an inherited PWD would point it at the
    // directory orch was started in instead of the task's worktree.
    PWD: invocation.cwd,
    OPENCODE_PERMISSION: mergePermission(base["OPENCODE_PERMISSION"], permissionRules(invocation.permission)),
    OPENCODE_CONFIG_CONTENT: mergeConfigContent(base["OPENCODE_CONFIG_CONTENT"], providerOf(invocation.model), options.retryBounds),
  };
  return { file: options.bin ?? "opencode", args, env, stdin: invocation.prompt };
}
