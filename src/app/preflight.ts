// Before a run's first attempt, and before anything is written: can its agents and its verify commands start at
// all? An agent binary that is missing, credentials a CLI needs and does not have, an agent command or a verify
// command whose executable is not where it will run: each would cost attempts, waits and a journaled run for
// nothing. Every problem is found and listed at once. What cannot be judged from the command's text (shell
// syntax, builtins, a path outside the repository) is let through: a check never refuses a command that would
// work. `orch run --no-preflight` skips it.
import { accessSync, constants, existsSync, statSync } from "node:fs";
import { isAbsolute, join, posix, relative, resolve } from "node:path";
import { checkAgent } from "../agents/check.js";
import { findExecutable } from "../agents/detect.js";
import { createAdapter } from "../agents/registry.js";
import { doesNotExist, notExecutable, notInWorktree, notOnPath, type Runner, type StartProblem } from "../agents/start-failure.js";
import { UsageError } from "../core/errors.js";
import type { AgentSettings } from "../core/run-settings.js";
import { commandExecutable, isBareName } from "../core/shell-command.js";
import { isIgnored, treeEntryAt } from "../git/index.js";
import type { PlannedRun } from "../engine/run-service.js";

/** Where the checks look: the repository, the commit a task's worktree is a checkout of, the environment. */
export interface PreflightContext {
  /** The repository's root: a relative path in a command is looked up from here (the worktree's root). */
  root: string;
  /** Where the user typed the command, to tell them when a path is relative to it rather than to the root. */
  cwd: string;
  base: { branch: string; sha: string };
  env: NodeJS.ProcessEnv;
}

/** One agent the run may start, its part in the run, and the option that chooses another (for the words). */
interface AgentRole {
  settings: AgentSettings;
  role: string;
  option: string;
}

/** Every problem that would stop the run's agents or verify commands from starting; empty when none is found. */
export async function preflight(planned: PlannedRun, env: NodeJS.ProcessEnv): Promise<StartProblem[]> {
  const { request } = planned;
  const ctx: PreflightContext = { root: planned.repo.root, cwd: request.cwd, base: planned.base, env };
  const agents: AgentRole[] = [{ settings: request.agent, role: "the run's agent", option: "--agent" }];
  for (const fallback of request.fallbacks) agents.push({ settings: fallback.agent, role: "a fallback", option: "--fallback-model" });
  if (request.review?.on === true) agents.push({ settings: request.review.reviewer.agent, role: "the reviewer", option: "--reviewer" });
  if (request.planner !== undefined) agents.push({ settings: request.planner.agent, role: "the planner", option: "--planner" });
  const verify = [...request.criteria, ...(request.plan?.tasks.flatMap((task) => task.verify) ?? [])];
  // In a planned run a task starts from the run branch as earlier tasks left it, so a script a verify command
  // names by a relative path may be made by one of them: not judged.
  const plannedRun = request.plan !== undefined || request.planner !== undefined;

  const problems: StartProblem[] = [];
  const seen = new Set<string>();
  const add = (found: StartProblem | undefined): void => {
    if (found === undefined) return;
    const key = `${found.problem}\n${found.fix}`;
    if (seen.has(key)) return;
    seen.add(key);
    problems.push(found);
  };
  for (const agent of agents) for (const found of await agentProblems(agent, ctx)) add(found);
  for (const command of new Set(verify.map((c) => c.trim()).filter((c) => c !== ""))) add(await verifyProblem(command, ctx, plannedRun));
  return problems;
}

/** The usage error that lists them all: exit 2, nothing written. */
export function preflightError(problems: readonly StartProblem[]): UsageError {
  const lines = problems.map((p) => `- ${p.problem}\n    fix: ${p.fix}`);
  const count = problems.length === 1 ? "a problem" : `${problems.length} problems`;
  return new UsageError(`this run cannot work as asked; ${count} found before its first attempt:\n  ${lines.join("\n  ")}`, {
    hint: "nothing was started or written; `orch run --no-preflight` skips these checks",
  });
}

async function agentProblems({ settings, role, option }: AgentRole, ctx: PreflightContext): Promise<StartProblem[]> {
  switch (settings.name) {
    case "scripted":
      // Its script was read when the request was made.
      return [];
    case "command": {
      const word = commandExecutable(settings.command);
      if (word === undefined) return [];
      const found = await executableProblem(word, "the agent command", ctx, false);
      return found === undefined ? [] : [{ problem: `the agent command \`${settings.command}\`: ${found.problem}`, fix: found.fix }];
    }
    case "claude-code":
    case "codex":
    case "gemini":
    case "opencode": {
      // The file that would be started: adapters are pure descriptions, so building a command spawns nothing.
      const bin = (await createAdapter(settings)).build({ prompt: "", cwd: ctx.root, runId: "preflight", taskId: "preflight", attempt: 1, env: ctx.env, permission: "read-only" }).file;
      // The same lookups as `orch doctor`, without running `--version`.
      const check = await checkAgent(settings.name, ctx.env, bin, { probeVersion: false });
      const who = `the ${settings.name} agent (${role})`;
      const problems: StartProblem[] = [];
      const relativePath = !isBareName(bin) && !isAbsolute(bin);
      if (relativePath) {
        // Started in the task's worktree, so looked up there, as an agent command's path is.
        const found = await executableProblem(bin, "the agent", ctx, false);
        if (found !== undefined) problems.push({ problem: `${who}: ${found.problem}`, fix: found.fix });
      } else if (!check.found) {
        problems.push({
          problem: `${who}: its binary \`${bin}\` was not found${isBareName(bin) ? " on PATH" : ""}`,
          fix: `${check.fix ?? "install it"}; or set agents.${settings.name}.bin in orch.config.yaml, or choose another agent with ${option}`,
        });
      }
      // Looked for where `orch doctor` looks; a CLI set up some other way (a project's own config) may still work.
      if (!check.credentials.present) {
        problems.push({ problem: `${who}: no credentials found`, fix: `${check.credentialsFix} (set up another way orch does not see? pass --no-preflight)` });
      }
      return problems;
    }
  }
}

async function verifyProblem(command: string, ctx: PreflightContext, planned: boolean): Promise<StartProblem | undefined> {
  const word = commandExecutable(command);
  if (word === undefined) return undefined;
  if (planned && !isBareName(word) && !isAbsolute(word)) return undefined;
  const found = await executableProblem(word, "the verify command", ctx, true);
  if (found === undefined) return undefined;
  return { problem: `the verify command \`${command}\`: ${found.problem}`, fix: found.fix };
}

/**
 * Why `word` (a command's first word) would not start in a task's worktree, or undefined when it would, or when
 * that cannot be told. A bare name is looked up on PATH; an absolute path as it is; a relative one in the base
 * commit, since the worktree is a checkout of it. `buildOutputs`: a path git ignores may be made by the time it
 * runs (a verify command's `./node_modules/.bin/vitest`), so it is not judged.
 */
async function executableProblem(word: string, runner: Runner, ctx: PreflightContext, buildOutputs: boolean): Promise<StartProblem | undefined> {
  if (isBareName(word)) return findExecutable(word, ctx.env) === undefined ? notOnPath(word) : undefined;
  if (isAbsolute(word)) {
    if (!existsSync(word)) return doesNotExist(word);
    return isExecutableFile(word) ? undefined : notExecutable(word);
  }
  const path = posix.normalize(word);
  // Outside the repository, or the root itself: nothing a checkout says anything about.
  if (path === "." || path.startsWith("../") || path === "..") return undefined;
  const entry = await treeEntryAt(ctx.root, ctx.base.sha, path.replace(/\/$/, ""));
  switch (entry) {
    case "executable":
    case "symlink":
    case "submodule":
      return undefined;
    case "file":
    case "directory": {
      const words = notExecutable(word);
      return { problem: `${words.problem} in ${ctx.base.branch}`, fix: words.fix };
    }
    case undefined:
      break;
  }
  if (buildOutputs && (await isIgnored(ctx.root, path))) return undefined;
  const words = notInWorktree(word, runner);
  if (existsSync(join(ctx.root, path))) {
    return { problem: `${words.problem} (it is not committed on ${ctx.base.branch})`, fix: words.fix };
  }
  const typed = resolve(ctx.cwd, word);
  if (ctx.cwd !== ctx.root && existsSync(typed)) {
    const fromRoot = relative(ctx.root, typed);
    return {
      problem: `${words.problem} (a relative path is read from the repository's root, where ${runner} runs, not from the folder you are in)`,
      fix: fromRoot.startsWith("..") ? "give its absolute path" : `write it as ./${fromRoot}, or give its absolute path`,
    };
  }
  const agentWrites = runner === "the verify command" ? "; if the agent is to write it, pass --no-preflight" : "";
  return { problem: `${words.problem} (there is no ${path} in ${ctx.base.branch})`, fix: `check the path, which is relative to the repository's root; ${words.fix}${agentWrites}` };
}

function isExecutableFile(path: string): boolean {
  try {
    if (!statSync(path).isFile()) return false;
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
