// The planner role: an agent reads the goal and a summary of the repository and answers with a plan as JSON;
// an answer that is not a valid plan (bad JSON, a wrong field, a cycle …) is sent back with the problems in
// the prompt, up to PLANNER_TRIES times. How one turn runs is the caller's: journaled as attempts of the run's
// planner task (`orch run --plan`), or a bare supervised process (`orch plan`, which writes nothing).
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { AgentAdapter, AgentInvocation } from "../agents/agent.js";
import type { AgentEvent } from "../core/agent-event.js";
import type { Failure } from "../core/failure.js";
import { parsePlanJson, type Plan } from "../core/plan.js";
import { buildPlannerPrompt } from "../core/planner-prompt.js";
import { fileAt, trackedFiles } from "../git/compare.js";
import { supervise } from "../process/supervise.js";
import { writePromptFile } from "./attempt-runner.js";
import type { EngineDeps } from "./deps.js";

export const PLANNER_TRIES = 3;
/** Files of the repository named in the planner's prompt; the agent can look at the rest itself. */
const LISTED_FILES = 300;
const README_LINES = 40;

/**
 * One planner turn: the agent's answer, or how it failed; `unstartable` says why the agent could not even be
 * started (its binary is missing), which no further try can change.
 */
export type PlannerTurn = (prompt: string, attempt: number) => Promise<{ text: string | undefined; failure?: Failure | undefined; unstartable?: string | undefined }>;

export type PlanOutcome = { ok: true; plan: Plan; tries: number } | { ok: false; reason: string; waiting: boolean };

export interface PlanRequest {
  goal: string;
  criteria: readonly string[];
  /** The repository (or a worktree of it) the summary is made from. */
  cwd: string;
  turn: PlannerTurn;
  /** Attempts journaled before (a resumed run's planner goes on counting). */
  triesBefore?: number;
}

export async function makePlan(request: PlanRequest): Promise<PlanOutcome> {
  const repository = await repositorySummary(request.cwd);
  let errors: string[] = [];
  const first = (request.triesBefore ?? 0) + 1;
  for (let attempt = first; attempt < first + PLANNER_TRIES; attempt++) {
    const prompt = buildPlannerPrompt({ goal: request.goal, criteria: request.criteria, repository, attempt: attempt - first + 1, maxAttempts: PLANNER_TRIES, errors });
    const answer = await request.turn(prompt, attempt);
    if (answer.unstartable !== undefined) return { ok: false, reason: answer.unstartable, waiting: false };
    if (answer.failure !== undefined) {
      // Missing credentials wait for a human; any other failure of the agent costs a try like a bad answer.
      if (answer.failure.kind === "auth_failed") return { ok: false, reason: `the planner agent was refused by its model API: ${answer.failure.detail}`, waiting: true };
      errors = [`the planner agent failed (${answer.failure.kind}): ${answer.failure.detail}`];
      continue;
    }
    const parsed = parsePlanJson(answer.text ?? "");
    if (parsed.ok) return { ok: true, plan: parsed.plan, tries: attempt - first + 1 };
    errors = parsed.errors;
  }
  return {
    ok: false,
    reason: `the planner did not answer with a valid plan in ${PLANNER_TRIES} tries; the last answer's problems: ${errors.join("; ")}. ${NO_PLAN_HINT}`,
    waiting: false,
  };
}

/** How to go on without a plan: said whenever planning fails, since a goal that lists items is planned by default. */
export const NO_PLAN_HINT = "`orch run --no-plan` runs the goal as one task, without a plan";

/** A planner whose executable is not there, in words that name what to install. */
export function binaryNotFound(agent: string, file: string): string {
  return `the ${agent} agent's binary \`${file}\` was not found; install it or choose another with --planner`;
}

/** Why an agent could not be started (spawn failed: no such file, not executable …). */
function cannotStart(agent: string, file: string, error: Error | undefined): string {
  const code = error !== undefined && "code" in error ? error.code : undefined;
  return code === "ENOENT" ? binaryNotFound(agent, file) : `the ${agent} agent could not be started (\`${file}\`): ${error?.message ?? "unknown error"}`;
}

/** What the planner is told of the repository: its tracked files (the first few hundred) and its README's opening. */
export async function repositorySummary(cwd: string): Promise<string> {
  const files = await trackedFiles(cwd);
  const listed = files.slice(0, LISTED_FILES).map((f) => `- ${f}`);
  if (files.length > LISTED_FILES) listed.push(`- … and ${files.length - LISTED_FILES} more files`);
  const readme = files.find((f) => /^readme(\.md|\.txt)?$/i.test(f));
  const opening = readme === undefined ? "" : ((await fileAt(cwd, "HEAD", readme)) ?? "").split("\n").slice(0, README_LINES).join("\n");
  return [`Files (${files.length}):`, ...listed, ...(opening !== "" ? ["", `${readme ?? "README"} begins:`, opening] : [])].join("\n");
}

interface BareTurnOptions {
  adapter: AgentAdapter;
  model: string | undefined;
  cwd: string;
  timeoutMs: number;
  stallTimeoutMs: number;
  signal: AbortSignal;
}

/** A planner turn as a bare supervised process, read-only, journaling nothing (for `orch plan`). */
export function bareTurn(deps: Pick<EngineDeps, "env" | "groups">, options: BareTurnOptions): PlannerTurn {
  return async (prompt, attempt) => {
    // No run, so no transcript folder: the prompt's file lives in a folder of its own for this turn.
    const dir = await mkdtemp(join(tmpdir(), "orch-plan-"));
    try {
      const promptFile = await writePromptFile(join(dir, "prompt.md"), prompt, () => {});
      return await bareAttempt(deps, options, { prompt, promptFile, cwd: options.cwd, model: options.model, runId: "plan", taskId: "plan", attempt, env: deps.env, permission: "read-only" });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  };
}

async function bareAttempt(deps: Pick<EngineDeps, "env" | "groups">, options: BareTurnOptions, invocation: AgentInvocation): ReturnType<PlannerTurn> {
  const command = options.adapter.build(invocation);
  const parser = options.adapter.createParser(invocation);
  let result: Extract<AgentEvent, { type: "result" }> | undefined;
  let last: string | undefined;
  const exit = await supervise({
    file: command.file,
    args: command.args,
    cwd: options.cwd,
    env: command.env,
    ...(command.stdin !== undefined ? { stdin: command.stdin } : {}),
    stallTimeoutMs: options.stallTimeoutMs,
    timeoutMs: options.timeoutMs,
    signal: options.signal,
    groups: deps.groups,
    onLine: (line) => {
      for (const event of parser.parseLine(line)) {
        if (event.type === "result") result = event;
        if (event.type === "text") last = event.text;
      }
    },
  });
  if (exit.reason === "spawn_failed") return { text: undefined, unstartable: cannotStart(options.adapter.name, command.file, exit.error) };
  if (exit.reason !== "exited") return { text: undefined, failure: { kind: exit.reason === "hung" ? "hung" : exit.reason === "timeout" ? "timeout" : "crashed", detail: `the planner agent stopped: ${exit.reason}` } };
  const failure = options.adapter.classify({ exitCode: exit.exitCode, signal: exit.signal, stderrTail: exit.stderrTail, result, retries: [], endedAt: Date.now() });
  return { text: result?.text ?? last, failure };
}
