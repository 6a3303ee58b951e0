// A run request from the options a user gives (`orch run` flags, or a request to the server) over the
// repository's orch.config.yaml: the agent and its fallbacks, the model, limits, budgets, recovery, planning.
// Every bad value is a UsageError that names the option; nothing is written here.
import { resolve } from "node:path";
import { parseAgentName } from "../agents/names.js";
import type { Config } from "../config/schema.js";
import { parseDuration } from "../core/duration.js";
import { UsageError } from "../core/errors.js";
import type { Limits } from "../core/journal.js";
import type { RecoverySettings } from "../core/recovery-policy.js";
import { PERMISSIONS, type AgentSettings, type DeliverySettings, type Fallback, type Permission, type ReviewSettings } from "../core/run-settings.js";
import { parseSize } from "../core/size.js";
import { worktreesRoot } from "../engine/paths.js";
import type { RunRequest } from "../engine/run-service.js";
import { loadPlanFile } from "../plan/load.js";
import { duration, hours, positiveInt, positiveNumber, size } from "./option-values.js";

/** The options of a run as a user gives them: typed on the command line, or sent to the server. */
export interface RunOptions {
  verify?: string[];
  agent?: string;
  permission?: string;
  agentCommand?: string;
  script?: string;
  model?: string;
  fallbackModel?: string[];
  base?: string;
  maxAttempts?: string;
  maxHours?: string;
  budgetUsd?: string;
  budgetTokens?: string;
  taskBudgetUsd?: string;
  taskBudgetTokens?: string;
  interval?: string;
  stallTimeout?: string;
  attemptTimeout?: string;
  verifyTimeout?: string;
  stallAttempts?: string;
  maxAgentMemory?: string;
  onLimit?: string;
  planFile?: string;
  plan?: boolean;
  planner?: string;
  /** `--reviewer AGENT[:MODEL]`; `review: false` is `--no-review`. */
  reviewer?: string;
  review?: boolean;
  concurrency?: string;
  detach?: boolean;
  json?: boolean;
  /** `--no-push`: false. Commander makes it true when the flag is absent, so only false means anything. */
  push?: boolean;
}

/** `env`: the environment the user runs orch in (ORCH_WORKTREES_DIR, XDG_CACHE_HOME and HOME choose the worktree folder). */
export function buildRunRequest(
  cwd: string,
  root: string,
  goal: string,
  flags: RunOptions,
  config: Config,
  env: Readonly<Record<string, string | undefined>>,
): RunRequest {
  const agent = agentSettings(cwd, root, flags, config);
  const agentModel = configuredModel(config, agent.name);
  const fallbackModels = flags.fallbackModel ?? config.fallbackModels;
  const limits: Limits = {
    maxAttempts: flags.maxAttempts === undefined ? config.limits.maxAttempts : positiveInt("--max-attempts", flags.maxAttempts),
    maxMs: flags.maxHours === undefined ? Math.round(config.limits.maxHours * 3_600_000) : hours("--max-hours", flags.maxHours),
    intervalMs: flags.interval === undefined ? configDuration(config.limits.interval) : durationOrZero("--interval", flags.interval),
    stallAttempts: flags.stallAttempts === undefined ? config.limits.stallAttempts : positiveInt("--stall-attempts", flags.stallAttempts),
    stallTimeoutMs: flags.stallTimeout === undefined ? configDuration(config.limits.stallTimeout) : duration("--stall-timeout", flags.stallTimeout),
    attemptTimeoutMs:
      flags.attemptTimeout === undefined ? configDuration(config.limits.attemptTimeout) : duration("--attempt-timeout", flags.attemptTimeout),
    verifyTimeoutMs:
      flags.verifyTimeout === undefined ? configDuration(config.limits.verifyTimeout) : duration("--verify-timeout", flags.verifyTimeout),
    drainGraceMs: configDuration(config.limits.drainGrace),
    transcriptMaxMb: config.limits.transcriptMaxMb,
    transcriptKeep: config.limits.transcriptKeep,
  };
  const agentMaxRssBytes =
    flags.maxAgentMemory === undefined ? configSize(config.limits.agentMaxRss) : size("--max-agent-memory", flags.maxAgentMemory);
  if (agentMaxRssBytes !== undefined) limits.agentMaxRssBytes = agentMaxRssBytes;
  const budgetUsd = flags.budgetUsd === undefined ? config.limits.budgetUsd : positiveNumber("--budget-usd", flags.budgetUsd);
  const budgetTokens = flags.budgetTokens === undefined ? config.limits.budgetTokens : positiveInt("--budget-tokens", flags.budgetTokens);
  if (budgetUsd !== undefined) limits.budgetUsd = budgetUsd;
  if (budgetTokens !== undefined) limits.budgetTokens = budgetTokens;
  const taskBudgetUsd = flags.taskBudgetUsd === undefined ? config.limits.taskBudgetUsd : positiveNumber("--task-budget-usd", flags.taskBudgetUsd);
  const taskBudgetTokens =
    flags.taskBudgetTokens === undefined ? config.limits.taskBudgetTokens : positiveInt("--task-budget-tokens", flags.taskBudgetTokens);
  if (taskBudgetUsd !== undefined) limits.taskBudgetUsd = taskBudgetUsd;
  if (taskBudgetTokens !== undefined) limits.taskBudgetTokens = taskBudgetTokens;
  return {
    cwd,
    goal,
    criteria: [...config.verify, ...(flags.verify ?? [])],
    agent,
    permission: permissionOf(flags.permission, config.permission),
    model: flags.model ?? config.model ?? agentModel,
    fallbackModels,
    fallbacks: fallbackModels.map((text) => parseFallback(text, agent, config)),
    review: reviewOf(flags, agent, flags.model ?? config.model ?? agentModel, config),
    approval: { rejectAfterMs: approvalTimeouts(config) },
    base: flags.base ?? config.base,
    limits,
    recovery: recoveryOf(flags.onLimit, config),
    source: "cli",
    gc: config.gc,
    verifyEveryMerge: config.integration.verifyEveryMerge,
    worktrees: worktreesRoot(root, env, config.worktrees.dir).dir,
    delivery: deliveryOf(flags, config),
    ...(flags.planFile !== undefined ? { plan: loadPlanFile(resolve(cwd, flags.planFile)) } : {}),
    ...(flags.planFile === undefined && wantsPlan(flags, goal) ? { planner: plannerOf(flags.planner, agent, config) } : {}),
    ...(flags.concurrency !== undefined ? { concurrency: positiveInt("--concurrency", flags.concurrency) } : {}),
  };
}

export function agentSettings(cwd: string, root: string, flags: Pick<RunOptions, "agent" | "agentCommand" | "script">, config: Config): AgentSettings {
  if (flags.agentCommand !== undefined && flags.script !== undefined) {
    throw new UsageError("--agent-command and --script choose different agents; pass one of them");
  }
  const name = flags.agentCommand !== undefined ? "command" : flags.script !== undefined ? "scripted" : parseAgentName(flags.agent ?? config.agent);
  if (flags.agent !== undefined && flags.agent !== name) {
    throw new UsageError(`--agent ${flags.agent} does not match ${flags.agentCommand !== undefined ? "--agent-command" : "--script"}`, {
      hint: "drop --agent, or pass the option that belongs to it",
    });
  }
  switch (name) {
    case "claude-code":
    case "codex":
    case "gemini":
    case "opencode":
      return cliAgentSettings(name, config);
    case "command": {
      const command = flags.agentCommand ?? config.agents.command.command;
      if (command === undefined) throw new UsageError("the command agent needs a command", { hint: 'pass --agent-command "./my-agent.sh"' });
      return { name, command };
    }
    case "scripted": {
      const script = flags.script ?? config.agents.scripted.script;
      if (script === undefined) throw new UsageError("the scripted agent needs a script", { hint: "pass --script FILE" });
      // Relative to where the user typed it; a config path is relative to the repository.
      return { name, script: resolve(flags.script !== undefined ? cwd : root, script) };
    }
  }
}

export type CliAgentName = "claude-code" | "codex" | "gemini" | "opencode";
const CLI_AGENTS: readonly CliAgentName[] = ["claude-code", "codex", "gemini", "opencode"];

/** A CLI agent's settings from `agents.<name>` in orch.config.yaml. */
export function cliAgentSettings(name: CliAgentName, config: Config): AgentSettings {
  switch (name) {
    case "claude-code": {
      const c = config.agents["claude-code"];
      return {
        name,
        bin: c.bin,
        ...(c.maxTurns !== undefined ? { maxTurns: c.maxTurns } : {}),
        ...(c.extraArgs !== undefined ? { extraArgs: c.extraArgs } : {}),
      };
    }
    case "codex":
    case "gemini":
    case "opencode": {
      const c = config.agents[name];
      return { name, bin: c.bin, ...(c.extraArgs !== undefined ? { extraArgs: c.extraArgs } : {}) };
    }
  }
}

/**
 * One fallback as typed: `MODEL` (the run's own agent with another model) or `AGENT:MODEL` with one of the CLI
 * agents (`codex:gpt-5.5`; `codex:` for its default model). A colon after anything else is part of the model
 * name (`llama3:8b`).
 */
function parseFallback(text: string, primary: AgentSettings, config: Config): Fallback {
  const colon = text.indexOf(":");
  const named = colon > 0 ? CLI_AGENTS.find((agent) => agent === text.slice(0, colon)) : undefined;
  if (named === undefined) {
    if (text.trim() === "") throw new UsageError("a fallback model is empty", { hint: "pass --fallback-model MODEL or AGENT:MODEL" });
    return { agent: primary, model: text };
  }
  const model = text.slice(colon + 1).trim() || configuredModel(config, named);
  return { agent: cliAgentSettings(named, config), ...(model !== undefined ? { model } : {}) };
}

/**
 * Whether an agent plans the run: `--plan` (or `--planner`) says yes, `--no-plan` no; by default, when the goal
 * is not a single task — it lists two or more items (lines starting with -, *, • or a number).
 */
function wantsPlan(flags: RunOptions, goal: string): boolean {
  if (flags.plan === false) return false;
  if (flags.plan === true || flags.planner !== undefined) return true;
  return goal.split("\n").filter((line) => /^\s*([-*•]|\d+[.)])\s+\S/.test(line)).length >= 2;
}

/** `--planner AGENT`, `AGENT:MODEL` or `MODEL` (of the run's agent); without it the run's agent plans. */
export function plannerOf(text: string | undefined, primary: AgentSettings, config: Config): Fallback {
  if (text === undefined) return { agent: primary };
  const named = CLI_AGENTS.find((agent) => agent === text.trim());
  if (named === undefined) return parseFallback(text, primary, config);
  const model = configuredModel(config, named);
  return { agent: cliAgentSettings(named, config), ...(model !== undefined ? { model } : {}) };
}

/** Why a run has no reviewer yet when none was named: the default is looked for next, where the machine is known. */
export const NO_REVIEWER_NAMED = "no reviewer was named (--reviewer AGENT[:MODEL], or review.reviewer in orch.config.yaml)";

/**
 * Who reviews each task's verified commit: `--reviewer` (AGENT, AGENT:MODEL or a MODEL of the run's agent) over the
 * config's `review.reviewer`; or why nobody does (`--no-review`, `review.enabled: false`, no reviewer named). A
 * reviewer is never the implementer: the run's own agent and model is refused.
 */
function reviewOf(flags: RunOptions, agent: AgentSettings, model: string | undefined, config: Config): ReviewSettings {
  if (flags.review === false) {
    if (flags.reviewer !== undefined) throw new UsageError("--reviewer and --no-review contradict each other; pass one of them");
    return { on: false, why: "reviews were turned off (--no-review)" };
  }
  const text = flags.reviewer ?? (config.review.enabled ? config.review.reviewer : undefined);
  // None named: `withDefaultReviewer` (app/default-reviewer.ts) looks for one that can run here.
  if (text === undefined) return { on: false, why: config.review.enabled ? NO_REVIEWER_NAMED : "reviews are turned off in orch.config.yaml (review.enabled: false)" };
  const option = flags.reviewer !== undefined ? "--reviewer" : "review.reviewer in orch.config.yaml";
  const named = CLI_AGENTS.find((name) => name === text.trim() || text.startsWith(`${name}:`));
  if (named === undefined && (agent.name === "command" || agent.name === "scripted")) {
    throw new UsageError(`${option} must name an agent CLI (${CLI_AGENTS.join(", ")}), optionally with a model: "${text}" is a model of the ${agent.name} agent, which cannot review`, {
      hint: "pass --reviewer claude-code, --reviewer codex:MODEL …",
    });
  }
  const reviewer = plannerOf(text, agent, config);
  if (reviewer.agent.name === agent.name && (reviewer.model ?? configuredModel(config, agent.name)) === model) {
    throw new UsageError(`${option} names the implementer itself (${agent.name}${model !== undefined ? `:${model}` : ", its default model"}); a reviewer must be another model or another agent`, {
      hint: "pass --reviewer MODEL (another model of the same agent) or --reviewer AGENT[:MODEL]",
    });
  }
  return { on: true, reviewer, ...reviewRounds(config) };
}

/** The review settings of orch.config.yaml beyond who reviews. */
export function reviewRounds(config: Config): { maxRounds: number; wholeRun: boolean; wholeRunFixes: number } {
  return { maxRounds: config.review.maxRounds, wholeRun: config.review.wholeRun, wholeRunFixes: config.review.wholeRunFixes };
}

/** The per-agent default model from orch.config.yaml (`agents.<name>.model`), for the CLI agents. */
export function configuredModel(config: Config, name: AgentSettings["name"]): string | undefined {
  switch (name) {
    case "claude-code":
    case "codex":
    case "gemini":
    case "opencode":
      return config.agents[name].model;
    case "command":
    case "scripted":
      return undefined;
  }
}

/** `--on-limit wait|fallback|stop` decides usage limits (rate limits and quotas) over the config's choice. */
const ON_LIMIT = { wait: "retry", fallback: "fallback", stop: "escalate" } as const;

function recoveryOf(onLimit: string | undefined, config: Config): RecoverySettings {
  const onFailure = { ...config.recovery.onFailure };
  if (onLimit !== undefined) {
    const tier = onLimit === "wait" || onLimit === "fallback" || onLimit === "stop" ? ON_LIMIT[onLimit] : undefined;
    if (tier === undefined) throw new UsageError(`--on-limit must be wait, fallback or stop, not "${onLimit}"`);
    onFailure.rate_limited = tier;
    onFailure.quota_exhausted = tier;
  }
  return {
    onFailure,
    circuitBreaker: { failures: config.recovery.circuitBreaker.failures, cooldownMs: configDuration(config.recovery.circuitBreaker.cooldown) },
  };
}

/** `approval.rejectAfter` of orch.config.yaml, per risk level (the schema checked each duration). */
function approvalTimeouts(config: Config): { medium?: number; high?: number } {
  const { medium, high } = config.approval.rejectAfter;
  return { ...(medium !== undefined ? { medium: configDuration(medium) } : {}), ...(high !== undefined ? { high: configDuration(high) } : {}) };
}

/** `delivery:` of orch.config.yaml, with `--no-push` over its `push`. */
function deliveryOf(flags: RunOptions, config: Config): DeliverySettings {
  const { push, remote, pr, labels, draft } = config.delivery;
  const pushes = flags.push === false ? false : push;
  return { ...(pushes !== undefined ? { push: pushes } : {}), ...(remote !== undefined ? { remote } : {}), pr, labels, draft };
}

function permissionOf(flag: string | undefined, configured: Permission): Permission {
  if (flag === undefined) return configured;
  const found = PERMISSIONS.find((p) => p === flag);
  if (found === undefined) throw new UsageError(`--permission must be one of ${PERMISSIONS.join(", ")}, not "${flag}"`);
  return found;
}

export function configDuration(text: string): number {
  const ms = parseDuration(text);
  if (ms === undefined) throw new UsageError(`bad duration "${text}" in orch.config.yaml`);
  return ms;
}

function configSize(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const bytes = parseSize(text);
  if (bytes === undefined) throw new UsageError(`bad size "${text}" in orch.config.yaml`);
  return bytes;
}

function durationOrZero(flag: string, value: string): number {
  return value.trim() === "0" ? 0 : duration(flag, value);
}
