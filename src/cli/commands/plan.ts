// `orch plan "<goal>"`: asks the planner agent for a plan and shows it, running nothing and writing nothing to
// the journal; `--out FILE` saves it as a plan file that `orch run --plan-file FILE` takes as it is.
import { writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { stringify } from "yaml";
import { createAdapter } from "../../agents/registry.js";
import { loadConfig } from "../../config/load.js";
import { TaskGraph } from "../../core/dag.js";
import { UsageError } from "../../core/errors.js";
import type { Plan } from "../../core/plan.js";
import { makePlan, bareTurn } from "../../engine/planner.js";
import { inspectRepo } from "../../git/index.js";
import { ProcessGroups } from "../../process/groups.js";
import type { CliContext } from "../context.js";
import { assertPlannerStarts } from "../planner-check.js";
import { EXIT } from "../exit-codes.js";
import { agentSettings, configDuration, plannerOf, type RunOptions } from "../../app/run-request.js";

export interface PlanFlags extends Pick<RunOptions, "verify" | "agent" | "agentCommand" | "script" | "model" | "planner" | "json"> {
  out?: string;
}

export async function planCommand(ctx: CliContext, goal: string, flags: PlanFlags): Promise<number> {
  if (goal.trim() === "") throw new UsageError("the goal is empty", { hint: 'say what to plan: orch plan "add a login page with tests"' });
  const repo = await inspectRepo(ctx.cwd);
  const { config } = loadConfig(repo.root);
  const agent = agentSettings(ctx.cwd, repo.root, flags, config);
  const planner = plannerOf(flags.planner, agent, config);
  await assertPlannerStarts(planner, ctx.env, repo.root);
  const adapter = await createAdapter(planner.agent);
  const groups = new ProcessGroups();
  const uninstall = groups.installExitHandler();
  const interrupt = new AbortController();
  const onSignal = () => interrupt.abort("interrupt");
  process.once("SIGINT", onSignal);
  try {
    const outcome = await makePlan({
      goal,
      criteria: [...config.verify, ...(flags.verify ?? [])],
      cwd: repo.root,
      turn: bareTurn(
        { env: { ...ctx.env }, groups },
        {
          adapter,
          model: planner.model ?? flags.model ?? config.model,
          cwd: repo.root,
          timeoutMs: configDuration(config.limits.attemptTimeout),
          stallTimeoutMs: configDuration(config.limits.stallTimeout),
          signal: interrupt.signal,
        },
      ),
    });
    if (!outcome.ok) {
      ctx.output.err(`orch: ${outcome.reason}`);
      return outcome.waiting ? EXIT.waiting : EXIT.notConverged;
    }
    if (flags.out !== undefined) writeFileSync(resolve(ctx.cwd, flags.out), flags.out.endsWith(".json") ? `${JSON.stringify(outcome.plan, null, 2)}\n` : stringify(outcome.plan));
    if (flags.json === true) ctx.output.json(outcome.plan);
    else ctx.output.out(describePlan(outcome.plan, flags.out));
    return EXIT.ok;
  } finally {
    process.off("SIGINT", onSignal);
    groups.killAll("SIGKILL");
    uninstall();
  }
}

/** The plan as a numbered list in the order its tasks can run. */
function describePlan(plan: Plan, out: string | undefined): string {
  const graph = new TaskGraph(plan.tasks);
  const number = new Map(graph.order.map((t, i) => [t.id, i + 1]));
  const lines = [`${plan.tasks.length} task(s), in an order they can run:`];
  for (const task of graph.order) {
    const after = task.dependsOn.length === 0 ? "" : ` (after ${task.dependsOn.map((d) => `#${number.get(d) ?? "?"} ${d}`).join(", ")})`;
    lines.push(`  #${number.get(task.id) ?? "?"} ${task.id}: ${task.title}${after} · priority ${task.priority} · risk ${task.risk}`);
    for (const criterion of task.acceptance) lines.push(`       ✓ ${criterion}`);
    if (task.files.length > 0) lines.push(`       files: ${task.files.join(", ")}`);
  }
  lines.push(out !== undefined ? `Saved to ${out}; run it with: orch run "<goal>" --plan-file ${out}` : "Save it with --out plan.yaml, then: orch run \"<goal>\" --plan-file plan.yaml");
  return lines.join("\n");
}
