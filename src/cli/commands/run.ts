// `orch run`: checks the request (exit 2 and nothing written when it is wrong), journals the run, then
// drives it in the foreground with a live status line, or hands it to a detached process of its own.
import { resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { AgentSettings } from "../../agents/registry.js";
import { parseAgentName } from "../../agents/names.js";
import { PERMISSIONS, type Permission } from "../../agents/permission.js";
import { loadConfig } from "../../config/load.js";
import type { Config } from "../../config/schema.js";
import { parseDuration } from "../../core/duration.js";
import { parseSize } from "../../core/size.js";
import type { RecoverySettings } from "../../core/recovery-policy.js";
import { UsageError } from "../../core/errors.js";
import type { Limits } from "../../core/journal.js";
import { isTerminalRun } from "../../core/run.js";
import { inspectRepo, worktreeStatus } from "../../git/index.js";
import { ensureOrchDir, orchPaths } from "../../engine/paths.js";
import { loadPlanFile } from "../../plan/load.js";
import { createRun, planRun, type Fallback, type RunRequest } from "../../engine/run-service.js";
import { openSqliteStore } from "../../store/sqlite/open.js";
import type { CliContext } from "../context.js";
import { EXIT } from "../exit-codes.js";
import { duration, positiveInt, positiveNumber, size } from "../options.js";
import { driveInForeground, runJson, spawnSupervisor } from "./drive.js";

export interface RunFlags {
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
  stallAttempts?: string;
  maxAgentMemory?: string;
  onLimit?: string;
  planFile?: string;
  plan?: boolean;
  planner?: string;
  concurrency?: string;
  detach?: boolean;
  json?: boolean;
}

export async function runCommand(ctx: CliContext, goal: string, flags: RunFlags): Promise<number> {
  const repo = await inspectRepo(ctx.cwd);
  const { config } = loadConfig(repo.root);
  const request = buildRequest(ctx, repo.root, goal, flags, config);
  const planned = await planRun(request);
  if (flags.json !== true) {
    const status = await worktreeStatus(planned.repo.root);
    if (status.dirty) {
      ctx.output.err(`orch: note: your uncommitted changes are not part of this run; it starts from ${planned.base.branch} at ${planned.base.sha.slice(0, 12)}`);
    }
  }

  // Everything above only read; from here on the run exists.
  const paths = orchPaths(planned.repo.root);
  ensureOrchDir(paths);
  const store = await openSqliteStore({ path: paths.db });
  try {
    const run = await createRun(store, planned);
    if (flags.detach === true) return await detach(ctx, run.id, run.repoRoot, flags.json === true, store);
    return await driveInForeground(ctx, store, run.id, flags.json === true);
  } finally {
    await store.close();
  }
}

export function buildRequest(ctx: CliContext, root: string, goal: string, flags: RunFlags, config: Config): RunRequest {
  const agent = agentSettings(ctx, root, flags, config);
  const agentModel = configuredModel(config, agent.name);
  const fallbackModels = flags.fallbackModel ?? config.fallbackModels;
  const maxHours = flags.maxHours === undefined ? config.limits.maxHours : positiveNumber("--max-hours", flags.maxHours);
  const limits: Limits = {
    maxAttempts: flags.maxAttempts === undefined ? config.limits.maxAttempts : positiveInt("--max-attempts", flags.maxAttempts),
    maxMs: Math.round(maxHours * 3_600_000),
    intervalMs: flags.interval === undefined ? configDuration(config.limits.interval) : durationOrZero("--interval", flags.interval),
    stallAttempts: flags.stallAttempts === undefined ? config.limits.stallAttempts : positiveInt("--stall-attempts", flags.stallAttempts),
    stallTimeoutMs: flags.stallTimeout === undefined ? configDuration(config.limits.stallTimeout) : duration("--stall-timeout", flags.stallTimeout),
    attemptTimeoutMs:
      flags.attemptTimeout === undefined ? configDuration(config.limits.attemptTimeout) : duration("--attempt-timeout", flags.attemptTimeout),
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
    cwd: ctx.cwd,
    goal,
    criteria: [...config.verify, ...(flags.verify ?? [])],
    agent,
    permission: permissionOf(flags.permission, config.permission),
    model: flags.model ?? config.model ?? agentModel,
    fallbackModels,
    fallbacks: fallbackModels.map((text) => parseFallback(text, agent, config)),
    base: flags.base ?? config.base,
    limits,
    recovery: recoveryOf(flags.onLimit, config),
    config: { source: "cli", limits: config.limits, gc: config.gc },
    ...(flags.planFile !== undefined ? { plan: loadPlanFile(resolve(ctx.cwd, flags.planFile)) } : {}),
    ...(flags.planFile === undefined && wantsPlan(flags, goal) ? { planner: plannerOf(flags.planner, agent, config) } : {}),
    ...(flags.concurrency !== undefined ? { concurrency: positiveInt("--concurrency", flags.concurrency) } : {}),
  };
}

export function agentSettings(ctx: CliContext, root: string, flags: RunFlags, config: Config): AgentSettings {
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
      return { name, script: resolve(flags.script !== undefined ? ctx.cwd : root, script) };
    }
  }
}

type CliAgentName = "claude-code" | "codex" | "gemini" | "opencode";
const CLI_AGENTS: readonly CliAgentName[] = ["claude-code", "codex", "gemini", "opencode"];

/** A CLI agent's settings from `agents.<name>` in orch.config.yaml. */
function cliAgentSettings(name: CliAgentName, config: Config): AgentSettings {
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
function wantsPlan(flags: RunFlags, goal: string): boolean {
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

/** The per-agent default model from orch.config.yaml (`agents.<name>.model`), for the CLI agents. */
function configuredModel(config: Config, name: AgentSettings["name"]): string | undefined {
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

async function detach(ctx: CliContext, runId: string, root: string, json: boolean, store: Awaited<ReturnType<typeof openSqliteStore>>): Promise<number> {
  const { log } = spawnSupervisor(ctx, root, runId, false);
  // Wait until the run's own process has taken it over, so that `orch status` right after shows it running.
  const deadline = Date.now() + 15_000;
  let run = await store.getRun(runId);
  while (run !== undefined && run.status === "pending" && Date.now() < deadline) {
    await sleep(100);
    run = await store.getRun(runId);
  }
  if (run === undefined || run.status === "pending") {
    ctx.output.err(`orch: the detached run ${runId} did not start; see ${log}`);
    return EXIT.notConverged;
  }
  if (json) {
    ctx.output.json(await runJson(store, runId));
  } else {
    ctx.output.out(`Run ${runId} is ${isTerminalRun(run.status) ? run.status : "running"} in the background (pid ${run.pid ?? "?"}).`);
    ctx.output.out(`  orch status ${runId}     progress\n  orch logs ${runId} -f    follow the agent\n  orch pause ${runId}      finish the current attempt, then pause (orch resume continues)\n  orch stop ${runId}       finish the current attempt, then stop\n  orch abort ${runId}      stop now`);
  }
  return EXIT.ok;
}
