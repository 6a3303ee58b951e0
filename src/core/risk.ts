// A task's risk from its change: the level, and every rule that fired with its evidence (which file, which
// command, which size), in plain words. Pure: the caller brings the files git reports, the commands the agent ran
// and the planner's level, which is a floor and never a ceiling. The approval gate reads the level; people read
// the findings.
import { Minimatch } from "minimatch";
import { commandFires } from "./risk-commands.js";
import { globOptions, PLAN_RULE, RISKS, type Risk, type RiskRule } from "./risk-rules.js";

export type FileStatus = "added" | "modified" | "deleted" | "renamed" | "copied" | "type-changed";

export interface ChangedFile {
  readonly path: string;
  /** The path before a rename or copy. */
  readonly from?: string | undefined;
  readonly status: FileStatus;
  /** Lines added and removed; undefined for a binary file. */
  readonly added: number | undefined;
  readonly removed: number | undefined;
}

export interface RiskInput {
  readonly files: readonly ChangedFile[];
  /** The shell commands the agent ran, as it wrote them. */
  readonly commands: readonly string[];
  /** The planner's level for the task: the result is never below it. */
  readonly floor?: Risk | undefined;
  /** The worktree's absolute path, inside which `rm -r` of an absolute path is no risk. */
  readonly worktree?: string | undefined;
}

export interface RiskFinding {
  readonly rule: string;
  readonly level: Risk;
  readonly about: string;
  /** What made it fire: files (with their status), commands, or sizes. */
  readonly evidence: readonly string[];
}

export interface RiskAssessment {
  readonly level: Risk;
  /** Most severe first; the planner's level, when above low, as the rule `plan`. */
  readonly findings: readonly RiskFinding[];
  readonly files: number;
  readonly lines: number;
}

export function rank(level: Risk): number {
  return RISKS.indexOf(level);
}

export function higher(a: Risk, b: Risk): Risk {
  return rank(a) >= rank(b) ? a : b;
}

/** The level of a change under `rules`, and every rule that fired. */
export function assessRisk(input: RiskInput, rules: readonly RiskRule[]): RiskAssessment {
  const lines = input.files.reduce((sum, f) => sum + (f.added ?? 0) + (f.removed ?? 0), 0);
  const findings: RiskFinding[] = [];
  if (input.floor !== undefined && input.floor !== "low") {
    findings.push({ rule: PLAN_RULE, level: input.floor, about: "the planner's level for the task (a floor)", evidence: [`the plan marks the task ${input.floor} risk`] });
  }
  for (const rule of rules) {
    const evidence = evidenceOf(rule, input, lines);
    if (evidence.length > 0) findings.push({ rule: rule.id, level: rule.level, about: rule.about, evidence });
  }
  // Stable: equal levels keep the order of the rules.
  findings.sort((a, b) => rank(b.level) - rank(a.level));
  const level = findings.reduce<Risk>((top, f) => higher(top, f.level), "low");
  return { level, findings, files: input.files.length, lines };
}

function evidenceOf(rule: RiskRule, input: RiskInput, lines: number): string[] {
  switch (rule.kind) {
    case "paths": {
      const globs = rule.paths.map(compiledGlob);
      const hit = (path: string | undefined): boolean => path !== undefined && globs.some((g) => g.match(path));
      return input.files.filter((f) => hit(f.path) || hit(f.from)).map(describeFile);
    }
    case "deleted":
      return input.files.filter((f) => f.status === "deleted").map(describeFile);
    case "size": {
      const evidence: string[] = [];
      if (rule.lines !== undefined && lines >= rule.lines) evidence.push(`${lines} lines changed (the rule's threshold: ${rule.lines})`);
      if (rule.files !== undefined && input.files.length >= rule.files) evidence.push(`${input.files.length} files changed (the rule's threshold: ${rule.files})`);
      return evidence;
    }
    case "command":
      return unique(input.commands.filter((c) => commandFires(rule.check, c, input.worktree)));
    case "matches": {
      const pattern = new RegExp(rule.pattern);
      return unique(input.commands.filter((c) => pattern.test(c)));
    }
  }
}

/**
 * Each glob compiled once per process: a run judges every task by the same rules, and compiling the default ones
 * cost the approval gate some 1.7 ms of the event loop per task.
 */
const globs = new Map<string, Minimatch>();

function compiledGlob(pattern: string): Minimatch {
  let glob = globs.get(pattern);
  if (glob === undefined) {
    glob = new Minimatch(pattern, globOptions(pattern));
    globs.set(pattern, glob);
  }
  return glob;
}

function describeFile(file: ChangedFile): string {
  const path = file.from !== undefined && file.from !== file.path ? `${file.from} → ${file.path}` : file.path;
  return `${path} (${file.status})`;
}

function unique(texts: readonly string[]): string[] {
  return [...new Set(texts.map((t) => t.replace(/\s+/g, " ").trim()))];
}
