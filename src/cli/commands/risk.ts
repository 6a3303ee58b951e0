// `orch risk RUN/TASK | --diff A..B | --rules [--json]`: the risk level of a task's committed change (or of any
// range of commits) and every rule that fired with its evidence; or the rules in force. Reads only.
import { loadConfig } from "../../config/load.js";
import type { Config } from "../../config/schema.js";
import { NotFoundError, UsageError } from "../../core/errors.js";
import type { RiskFinding } from "../../core/risk.js";
import { describeRule, rulesInForce, type RiskRule } from "../../core/risk-rules.js";
import { assessRange, assessTask, type ChangeRisk } from "../../engine/risk.js";
import { withRepoStore } from "../../app/compose.js";
import { inspectRepo } from "../../git/index.js";
import { resolveTask, taskRef } from "../../read/runs.js";
import type { CliContext } from "../context.js";
import { EXIT } from "../exit-codes.js";

export interface RiskFlags {
  diff?: string;
  rules?: boolean;
  json?: boolean;
}

/** Evidence lines shown per rule; `--json` has them all. */
const EVIDENCE_SHOWN = 10;

const USAGE_HINT = "orch risk RUN/TASK (a task of a run), orch risk --diff A..B (a range of commits), or orch risk --rules";

export async function riskCommand(ctx: CliContext, ref: string | undefined, flags: RiskFlags): Promise<number> {
  const asked = [ref !== undefined, flags.diff !== undefined, flags.rules === true].filter(Boolean).length;
  if (asked !== 1) throw new UsageError(asked === 0 ? "say what to judge" : "give one of RUN/TASK, --diff and --rules", { hint: USAGE_HINT });
  const repo = await inspectRepo(ctx.cwd);
  const { config } = loadConfig(repo.root);
  const rules = rulesInForce(config.risk.rules).rules;
  if (flags.rules === true) return printRules(ctx, rules, config, flags.json === true);
  if (flags.diff !== undefined) {
    const risk = await assessRange(repo.root, flags.diff, rules);
    printRisk(ctx, risk, `${flags.diff}`, flags.json === true, {});
    return EXIT.ok;
  }
  taskRef(ref, USAGE_HINT);
  return withRepoStore(ctx.cwd, false, async ({ store }) => {
    const { run, task } = await resolveTask(store, ref, USAGE_HINT);
    if (task.role === "reviewer") throw new NotFoundError(`task ${task.id} reviews the whole run and changes no files`, { hint: `\`orch diff ${run.id}\` shows the run's work` });
    if (task.role === "planner") throw new NotFoundError(`task ${task.id} plans the run and changes no files`, { hint: `\`orch status ${run.id}\` lists the tasks it planned` });
    const risk = await assessTask(store, run, task, rules);
    printRisk(ctx, risk, `task ${task.id} of run ${run.id}`, flags.json === true, { run: run.id, task: task.id });
    return EXIT.ok;
  });
}

function printRisk(ctx: CliContext, risk: ChangeRisk, what: string, json: boolean, ids: { run?: string; task?: string }): void {
  const { assessment } = risk;
  if (json) {
    ctx.output.json({ ...ids, level: assessment.level, from: risk.from, to: risk.to, files: assessment.files, lines: assessment.lines, commands: risk.commands ?? null, findings: assessment.findings });
    return;
  }
  const read = risk.commands === undefined ? "" : `, ${risk.commands} command${risk.commands === 1 ? "" : "s"} of the agent read`;
  ctx.output.out(`risk ${assessment.level}: ${what}`);
  ctx.output.out(`  ${risk.from.slice(0, 10)}..${risk.to.slice(0, 10)}: ${assessment.files} file${assessment.files === 1 ? "" : "s"}, ${assessment.lines} line${assessment.lines === 1 ? "" : "s"} changed${read}`);
  if (assessment.findings.length === 0) {
    ctx.output.out("  no rule fired");
    return;
  }
  for (const finding of assessment.findings) for (const line of findingLines(finding)) ctx.output.out(line);
}

function findingLines(finding: RiskFinding): string[] {
  const shown = finding.evidence.slice(0, EVIDENCE_SHOWN).map((e) => `      ${e}`);
  const more = finding.evidence.length - EVIDENCE_SHOWN;
  return [`  ${finding.level.padEnd(6)}  ${finding.rule}: ${finding.about}`, ...shown, ...(more > 0 ? [`      … and ${more} more (--json lists all)`] : [])];
}

function printRules(ctx: CliContext, rules: readonly RiskRule[], config: Config, json: boolean): number {
  const off = Object.entries(config.risk.rules).filter(([, setting]) => setting.level === "off").map(([id]) => id);
  if (json) {
    ctx.output.json({ rules, off });
    return EXIT.ok;
  }
  ctx.output.out("The risk rules in force (risk.rules in orch.config.yaml changes them); a task's level is the highest that fires,");
  ctx.output.out("and never below the planner's own level for the task.");
  for (const rule of rules) ctx.output.out(`  ${rule.level.padEnd(6)}  ${rule.id}: ${rule.about} — ${describeRule(rule)}`);
  if (off.length > 0) ctx.output.out(`turned off: ${off.join(", ")}`);
  return EXIT.ok;
}
