// The command-line surface: commander parses, each command module does the work, and this file maps
// every outcome to the exit codes of the contract (0 ok, 1 not converged, 2 bad usage, 3 waiting, 4 the journal
// is damaged or cannot be opened, 130).
// Command modules load when their command runs, so `orch status` does not pay for every agent adapter.
import { Command, CommanderError, Option } from "commander";
import { AGENT_NAMES } from "../agents/names.js";
import { UsageError } from "../core/errors.js";
import { adoptRepoLookup } from "../git/locate.js";
import { InvalidTransitionError } from "../core/run.js";
import { JournalDamagedError } from "../store/errors.js";
import type { CliContext } from "./context.js";
import type { PlanFlags } from "./commands/plan.js";
import type { RiskFlags } from "./commands/risk.js";
import type { RunFlags } from "./commands/run.js";
import type { DecisionFlags } from "./commands/approve.js";
import { findDashGoal, type DashGoal } from "./dash-goal.js";
import { EXIT } from "./exit-codes.js";
import { controlHelp, DOCTOR_HELP, EXIT_CODES_HELP, LOGS_HELP, RESUME_HELP, RISK_HELP, RUN_HELP } from "./help-text.js";
import { journalAdvice } from "./journal-advice.js";
import { collect } from "./options.js";
import { VERSION } from "./version.js";

/** Every command `runCli` defines, by the name a user types first. */
export const COMMAND_NAMES: ReadonlySet<string> = new Set(["init", "run", "plan", "status", "list", "logs", "diff", "risk", "approve", "reject", "stop", "pause", "abort", "resume", "deliver", "serve", "report", "gc", "doctor", "demo", "__drive"]);

export async function runCli(argv: readonly string[], ctx: CliContext): Promise<number> {
  if (ctx.repoLookup !== undefined) adoptRepoLookup(ctx.repoLookup);
  let code: number = EXIT.ok;
  const set = (n: number) => {
    code = n;
  };
  // Only the command named is built (commander's options cost some 2 ms for all of them); help, a bare `orch` and
  // an unknown name get them all, for the list and the "did you mean".
  const named = argv[0] !== undefined && COMMAND_NAMES.has(argv[0]) ? argv[0] : undefined;
  const wants = (name: string): boolean => named === undefined || named === name;
  const program = new Command()
    .name("orch")
    .description("Runs AI coding agents unattended toward a goal, verifies every change, and reports.")
    .version(VERSION)
    .exitOverride()
    .configureOutput({
      writeOut: (s) => ctx.output.out(s.trimEnd()),
      writeErr: (s) => ctx.output.err(s.trimEnd()),
    })
    .showHelpAfterError("(orch --help lists the commands)")
    .addHelpText("after", `\n${EXIT_CODES_HELP}`);

  if (wants("init")) {
    program
      .command("init")
      .description("write orch.config.yaml with commented defaults and create .orch/")
      .option("--force", "replace an existing orch.config.yaml")
      .action(async (flags: { force?: boolean }) => set(await (await import("./commands/init.js")).initCommand(ctx, flags)));
  }

  if (wants("run")) {
    program
      .command("run")
      .description("start a run: an agent works on the goal until every --verify command passes")
      .argument("<goal>", "what to achieve, in plain words")
      .option("--verify <cmd>", "a command that must exit 0 when the goal is met (repeatable)", collect)
      .option("--agent <name>", `the agent: ${AGENT_NAMES.join(", ")} (default claude-code)`)
      .option("--agent-command <cmd>", "use the command agent with this shell command")
      .option("--script <file>", "use the scripted agent with this session file")
      .option("--permission <level>", "read-only, workspace-write (default) or full")
      .option("--model <model>", "the model to ask the agent for (default: the agent's own)")
      .option("--fallback-model <[agent:]model>", "a model to switch to when the one before fails or stalls: MODEL of the run's agent, or AGENT:MODEL of another (codex:gpt-5.5; repeatable)", collect)
      .option("--base <branch>", "the branch to start from (default: the current branch)")
      .option("--max-attempts <n>", "agent runs before giving up (default 10)")
      .option("--max-hours <h>", "wall-clock limit for the run: hours (1.5) or a duration (90m, 2h) (default 3)")
      .option("--budget-usd <x>", "stop when the agents' reported cost reaches this")
      .option("--budget-tokens <n>", "stop when the agents' tokens reach this")
      .option("--task-budget-usd <x>", "the same, for each task on its own")
      .option("--task-budget-tokens <n>", "the same, for each task on its own")
      .option("--interval <dur>", "pause between attempts, e.g. 30s (default 0)")
      .option("--stall-timeout <dur>", "no agent output for this long: the attempt is hung (default 10m)")
      .option("--attempt-timeout <dur>", "longest single attempt (default 60m)")
      .option("--verify-timeout <dur>", "longest single verify command; longer fails as timed out (default 10m)")
      .option("--stall-attempts <n>", "attempts without progress before escalating (default 3)")
      .option("--max-agent-memory <size>", "stop an agent whose process tree uses more memory than this, e.g. 4g (default: no cap)")
      .option("--on-limit <choice>", "on a usage limit: wait for the reset, fallback to the next model, or stop (default: wait on rate limits, fall back on quotas)")
      .option("--plan-file <file>", "run this plan (YAML or JSON: tasks with ids, goals, dependsOn …) instead of one task")
      .option("--plan", "let an agent split the goal into a graph of tasks first (the default for a goal that lists several items)")
      .option("--no-plan", "run the goal as one task, even if it lists several items")
      .option("--planner <agent[:model]>", "the agent that plans: AGENT, AGENT:MODEL or MODEL (default: the run's agent); implies --plan")
      .option("--concurrency <n>", "how many tasks of a plan run at once (default 1)")
      .option("--reviewer <agent[:model]>", "who reviews each task's verified commit before it is merged: AGENT, AGENT:MODEL or MODEL, never the implementer's own model (default: review.reviewer of orch.config.yaml, else another agent CLI ready here)")
      .option("--no-review", "merge verified work without a reviewer")
      .option("--detach", "run in the background: a supervisor of its own, which outlives the terminal")
      .option("--no-push", "when the run succeeds, push nothing and open no pull request: the report says the push command (default: push when the repository has the remote)")
      .option("--no-preflight", "start without first checking that the agent and each verify command's executable can start")
      .option("--json", "print one JSON object at the end")
      .addHelpText("after", RUN_HELP)
      .action(async (goal: string, flags: RunFlags) => set(await (await import("./commands/run.js")).runCommand(ctx, goal, flags)));
  }

  if (wants("plan")) {
    program
      .command("plan")
      .description("ask the planner agent to split a goal into tasks and show the plan; runs nothing")
      .argument("<goal>", "what to plan")
      .option("--verify <cmd>", "a command that tells when the goal is met (repeatable)", collect)
      .option("--agent <name>", "the agent that plans (default from orch.config.yaml)")
      .option("--agent-command <cmd>", "plan with the command agent running this shell command")
      .option("--planner <agent[:model]>", "AGENT, AGENT:MODEL or MODEL (default: the agent)")
      .option("--model <model>", "the planner's model")
      .option("--out <file>", "save the plan as a plan file (YAML, or JSON for .json) for orch run --plan-file")
      .option("--json", "print the plan as JSON")
      .action(async (goal: string, flags: PlanFlags) => set(await (await import("./commands/plan.js")).planCommand(ctx, goal, flags)));
  }

  if (wants("status")) {
    program
      .command("status")
      .description("where a run stands (default: the newest)")
      .argument("[run]", "run id or prefix, or latest (default: the newest)")
      .option("--json", "print JSON")
      .action(async (ref: string | undefined, flags: { json?: boolean }) => set(await (await import("./commands/status.js")).statusCommand(ctx, ref, flags)));
  }

  if (wants("list")) {
    program
      .command("list")
      .description("runs of this repository, newest first")
      .option("--json", "print JSON")
      .action(async (flags: { json?: boolean }) => set(await (await import("./commands/status.js")).listCommand(ctx, flags)));
  }

  if (wants("logs")) {
    program
      .command("logs")
      .description("the normalized transcript of a run, a task (RUN/TASK) or an attempt")
      .argument("<ref>", "latest, a run id (or prefix), RUN/TASK, or an attempt id (RUN.TASK.N)")
      .option("-f, --follow", "keep printing until the run ends")
      .option("--json", "print JSON lines")
      .addHelpText("after", LOGS_HELP)
      .action(async (ref: string, flags: { follow?: boolean; json?: boolean }) => set(await (await import("./commands/logs.js")).logsCommand(ctx, ref, flags)));
  }

  if (wants("diff")) {
    program
      .command("diff")
      .description("the work so far: a task's changes since it started (uncommitted ones too), or a run's branch against its base")
      .argument("<ref>", "a run id (or prefix), or RUN/TASK")
      .option("--stat", "only the files changed and their line counts")
      .action(async (ref: string, flags: { stat?: boolean }) => set(await (await import("./commands/diff.js")).diffCommand(ctx, ref, flags)));
  }

  if (wants("risk")) {
    program
      .command("risk")
      .description("the risk level of a task's change and every rule that fired, with its evidence; or the rules in force")
      .argument("[ref]", "RUN/TASK: a task of a run (its committed work and its agent's commands)")
      .option("--diff <range>", "judge a range of commits instead: A..B, or A...B (from where B left A)")
      .option("--rules", "list the rules in force (defaults changed by risk.rules in orch.config.yaml)")
      .option("--json", "print JSON")
      .addHelpText("after", RISK_HELP)
      .action(async (ref: string | undefined, flags: RiskFlags) => set(await (await import("./commands/risk.js")).riskCommand(ctx, ref, flags)));
  }

  if (wants("approve")) {
    program
      .command("approve")
      .description("let a task's commit that waits for a human go on to the merge queue (shows its diff stat, the rules that fired and the review first)")
      .argument("<ref>", "RUN/TASK: the task waiting for approval")
      .option("--reason <text>", "why, kept in the journal with who approved")
      .option("--json", "print JSON")
      .action(async (ref: string, flags: DecisionFlags) => set(await (await import("./commands/approve.js")).approveCommand(ctx, ref, flags)));
  }

  if (wants("reject")) {
    program
      .command("reject")
      .description("turn down a task's commit that waits for a human: the task fails and its dependents are blocked")
      .argument("<ref>", "RUN/TASK: the task waiting for approval")
      .option("--reason <text>", "why (required), kept in the journal with who rejected")
      .option("--json", "print JSON")
      .action(async (ref: string, flags: DecisionFlags) => set(await (await import("./commands/approve.js")).rejectCommand(ctx, ref, flags)));
  }

  const CONTROL = {
    stop: "finish the current attempt (within a grace period), then stop with a report",
    pause: "finish the current attempt (within a grace period), then pause; `orch resume` continues",
    abort: "stop the agent now and end the run",
  } as const;
  for (const mode of (["stop", "pause", "abort"] as const).filter(wants)) {
    program
      .command(mode)
      .description(CONTROL[mode])
      .argument("[run]", "run id or prefix (default: the only live run)")
      .option("--wait <seconds>", "wait this long for the run to end")
      .option("--json", "print JSON")
      .addHelpText("after", controlHelp(mode))
      .action(async (ref: string | undefined, flags: { json?: boolean; wait?: string }) => set(await (await import("./commands/control.js")).stopCommand(ctx, ref, mode, flags)));
  }

  if (wants("resume")) {
    program
      .command("resume")
      .description("continue a paused run, a run that waited for a human, or one whose process died, in the mode it was started in; with new limits, also a run that failed or stopped on one")
      .argument("<run>", "run id or prefix")
      .option("--max-attempts <n>", "new attempt limit per task: reopens tasks that ended on the limit; must be above the attempts they used")
      .option("--max-hours <h>", "new wall-clock limit for the run: hours (1.5) or a duration (90m, 2h); must be above the time driven")
      .option("--json", "print one JSON object")
      .addHelpText("after", `\n${RESUME_HELP}\n\n${EXIT_CODES_HELP}`)
      .action(async (ref: string, flags: { json?: boolean; maxAttempts?: string; maxHours?: string }) => set(await (await import("./commands/resume.js")).resumeCommand(ctx, ref, flags)));
  }

  if (wants("deliver")) {
    program
      .command("deliver")
      .description("deliver a run that succeeded now: push its branch and open or update its pull request, as its settings say (after a supervisor that ended before delivering, or a delivery its whole-run review held)")
      .argument("<run>", "run id or prefix")
      .option("--json", "print JSON")
      .action(async (ref: string, flags: { json?: boolean }) => set(await (await import("./commands/deliver.js")).deliverCommand(ctx, ref, flags)));
  }

  if (wants("serve")) {
    program
      .command("serve")
      .description("serve the runs of this repository: a JSON API, live events, /metrics and the dashboard in a browser")
      .option("--host <host>", "the address to listen on (default 127.0.0.1; any other needs the token)")
      .option("--port <port>", "the port (default 7317; 0 picks a free one and prints it)")
      .option("--token", "make a new token (replacing the one in .orch/serve-token) and require it, even on 127.0.0.1")
      .action(async (flags: { host?: string; port?: string; token?: boolean }) => set(await (await import("./commands/serve.js")).serveCommand(ctx, flags)));
  }

  if (wants("report")) {
    program
      .command("report")
      .description("the markdown report of a run")
      .argument("[run]", "run id or prefix (default: the newest)")
      .option("--out <file>", "write it to this file instead of printing it")
      .action(async (ref: string | undefined, flags: { out?: string }) => set(await (await import("./commands/report.js")).reportCommand(ctx, ref, flags)));
  }

  if (wants("gc")) {
    program
      .command("gc")
      .description("remove the worktrees of finished runs; uncommitted work is kept in a commit on its branch; branches stay unless --branches")
      .argument("[runs...]", "only these runs (id or prefix; default: every finished run)")
      .option("--dry-run", "say what would be removed and change nothing")
      .option("--older-than <dur>", "only runs that ended at least this long ago, e.g. 7d, 12h, 30m")
      .option("--branches", "delete the runs' orch/<run>/* branches too, those whose work is merged (or that hold none)")
      .option("--force", "with --branches: delete branches holding unmerged work as well")
      .option("--json", "print JSON")
      .action(async (refs: string[], flags: { dryRun?: boolean; olderThan?: string; branches?: boolean; force?: boolean; json?: boolean }) => set(await (await import("./commands/gc.js")).gcCommand(ctx, refs, flags)));
  }

  if (wants("doctor")) {
    program
      .command("doctor")
      .description("check git, the journal and each agent CLI")
      .option("--repair", "move a damaged journal aside (kept, never deleted) so that a new one starts")
      .option("--json", "print JSON")
      .addHelpText("after", DOCTOR_HELP)
      .action(async (flags: { json?: boolean; repair?: boolean }) => set(await (await import("./commands/doctor.js")).doctorCommand(ctx, flags)));
  }

  if (wants("demo")) {
    program
      .command("demo")
      .description("converge a throw-away repository with the scripted agent: the whole loop, no credentials")
      .option("--json", "print one JSON object at the end")
      .addOption(new Option("--dir <dir>", "make the demo here instead of a temporary directory").hideHelp())
      .action(async (flags: { json?: boolean; dir?: string }) => set(await (await import("./commands/demo.js")).demoCommand(ctx, flags)));
  }

  if (wants("__drive")) {
    program
      .command("__drive", { hidden: true })
      .argument("<run>")
      .option("--resume")
      .action(async (runId: string, flags: { resume?: boolean }) => set(await (await import("./commands/drive.js")).driveDetached(ctx, runId, flags.resume === true)));
  }

  const goal = withDashGoal(program, argv);
  try {
    await program.parseAsync(goal.args, { from: "user" });
    return code;
  } catch (error) {
    if (error instanceof CommanderError && error.code === "commander.unknownOption" && goal.stray !== undefined) {
      // commander has printed "unknown option"; the user most likely meant a goal.
      const oneLine = goal.stray.replace(/\n/g, "\\n");
      const shown = oneLine.length > 30 ? `${oneLine.slice(0, 29)}…` : oneLine;
      ctx.output.err(`  a goal that starts with "-" goes last, after --: orch ${argv[0] ?? "run"} [options] -- "${shown}"`);
    }
    return reportError(ctx, error);
  }
}

/** The commands whose one argument is a goal, which may start with a dash (a list: "- add docs\n- add tests"). */
const GOAL_COMMANDS = new Set(["run", "plan"]);

/** `argv` with a goal that starts with `-` moved after `--` (see dash-goal.ts). */
function withDashGoal(program: Command, argv: readonly string[]): DashGoal {
  const [name, ...rest] = argv;
  const command = program.commands.find((c) => c.name() === name);
  if (name === undefined || command === undefined || !GOAL_COMMANDS.has(name)) return { args: [...argv], stray: undefined };
  const options = command.options.map((o) => ({ long: o.long, short: o.short, value: o.required ? ("required" as const) : o.optional ? ("optional" as const) : ("none" as const) }));
  const found = findDashGoal(rest, options);
  return { args: [name, ...found.args], stray: found.stray };
}

function reportError(ctx: CliContext, error: unknown): number {
  if (error instanceof CommanderError) {
    if (error.code === "commander.helpDisplayed" || error.code === "commander.version" || error.code === "commander.help") return EXIT.ok;
    // commander has already printed its message.
    return EXIT.usage;
  }
  if (error instanceof UsageError) {
    ctx.output.err(`orch: ${error.message}`);
    if (error.hint !== undefined) ctx.output.err(`  ${error.hint}`);
    return EXIT.usage;
  }
  if (error instanceof InvalidTransitionError) {
    ctx.output.err(`orch: ${error.message}`);
    return EXIT.usage;
  }
  if (error instanceof JournalDamagedError) {
    ctx.output.err(`orch: ${error.message}`);
    ctx.output.err(`  ${journalAdvice(error)}${error.problem === "damaged" ? "" : " `orch doctor` checks it."}`);
    return EXIT.journal;
  }
  ctx.output.err(`orch: internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  return EXIT.notConverged;
}

