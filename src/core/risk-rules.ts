// The risk rules: the defaults a user can read (`orch risk --rules`), and the rules in force once the user's
// `risk.rules` in orch.config.yaml has changed a level, turned a rule off or added one. Pure. Every problem in
// the user's rules is a value with its path, so that the config reports them all at once with their lines.
import { Minimatch } from "minimatch";
import type { CommandCheck } from "./risk-commands.js";
import { RISKS, type Risk } from "./plan.js";

export { RISKS, type Risk };

interface RuleBase {
  readonly id: string;
  readonly level: Risk;
  /** What the rule looks for, in plain words. */
  readonly about: string;
}

export type RiskRule =
  | (RuleBase & { readonly kind: "paths"; readonly paths: readonly string[] })
  | (RuleBase & { readonly kind: "deleted" })
  | (RuleBase & { readonly kind: "size"; readonly lines: number | undefined; readonly files: number | undefined })
  | (RuleBase & { readonly kind: "command"; readonly check: CommandCheck })
  | (RuleBase & { readonly kind: "matches"; readonly pattern: string });

const paths = (id: string, level: Risk, about: string, globs: string[]): RiskRule => ({ id, kind: "paths", level, about, paths: globs });
const command = (check: CommandCheck, level: Risk, about: string): RiskRule => ({ id: check, kind: "command", level, about, check });

/** The rules in force when orch.config.yaml says nothing. */
export const DEFAULT_RULES: readonly RiskRule[] = [
  paths("ci", "high", "CI configuration", [
    ".github/workflows/**",
    ".github/actions/**",
    ".gitlab-ci.yml",
    ".gitlab/ci/**",
    ".circleci/**",
    ".buildkite/**",
    "Jenkinsfile",
    "azure-pipelines.yml",
    "bitbucket-pipelines.yml",
    ".travis.yml",
  ]),
  paths("secrets", "high", "files that hold secrets or keys", [".env", ".env.*", "*.pem", "*.key", "*.p12", "*.pfx", "id_rsa*", "id_ed25519*", ".npmrc", ".pypirc", ".netrc"]),
  paths("migrations", "high", "database migrations", ["**/migrations/**", "**/migrate/**", "**/alembic/versions/**"]),
  paths("infrastructure", "high", "infrastructure and deployment", [
    "*.tf",
    "*.tfvars",
    "**/terraform/**",
    "Dockerfile",
    "Dockerfile.*",
    "*.dockerfile",
    "docker-compose*.yml",
    "docker-compose*.yaml",
    "compose.yml",
    "compose.yaml",
    "**/k8s/**",
    "**/kubernetes/**",
    "**/helm/**",
    "**/charts/**",
    "Chart.yaml",
  ]),
  paths("auth", "high", "authentication and authorization code", [
    "**/auth/**",
    "**/authn/**",
    "**/authz/**",
    "**/authentication/**",
    "**/authorization/**",
    "auth.*",
    "*-auth.*",
    "*_auth.*",
    "oauth*",
    "*permission*",
    "**/security/**",
  ]),
  paths("dependencies", "medium", "dependency manifests and lock files", [
    "package.json",
    "package-lock.json",
    "npm-shrinkwrap.json",
    "yarn.lock",
    "pnpm-lock.yaml",
    "bun.lock",
    "bun.lockb",
    "Cargo.toml",
    "Cargo.lock",
    "go.mod",
    "go.sum",
    "requirements*.txt",
    "Pipfile",
    "Pipfile.lock",
    "pyproject.toml",
    "poetry.lock",
    "uv.lock",
    "Gemfile",
    "Gemfile.lock",
    "composer.json",
    "composer.lock",
    "pom.xml",
    "build.gradle",
    "build.gradle.kts",
    "gradle.lockfile",
    "*.csproj",
    "packages.lock.json",
    "mix.exs",
    "mix.lock",
    "Package.swift",
    "Package.resolved",
    "Podfile.lock",
    "flake.lock",
  ]),
  { id: "deleted", kind: "deleted", level: "medium", about: "files deleted" },
  { id: "large", kind: "size", level: "medium", about: "a large change", lines: 500, files: 20 },
  { id: "huge", kind: "size", level: "high", about: "a very large change", lines: 2000, files: 80 },
  command("push", "high", "a git push"),
  command("publish", "high", "a package or image published (npm, cargo, twine, docker push…)"),
  command("pipe-to-shell", "high", "a download piped to a shell (curl … | sh)"),
  command("rm-outside", "high", "rm -r of a path outside the worktree (absolute, ~ or ..)"),
  command("sudo", "high", "a command run as another user (sudo, doas)"),
  command("chmod-world", "medium", "a chmod that lets everyone write (777, o+w)"),
];

/** The glob lists of the default path rules, as they are (a default whose paths the user replaced has another). */
const DEFAULT_GLOBS: ReadonlySet<readonly string[]> = new Set(DEFAULT_RULES.flatMap((rule) => (rule.kind === "paths" ? [rule.paths] : [])));

/** The id the planner's own level goes by among the rules that fired. */
export const PLAN_RULE = "plan";
export const RULE_ID = /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/;

/** One entry of `risk.rules` in orch.config.yaml, as its schema reads it. */
export interface RuleSetting {
  level?: Risk | "off" | undefined;
  paths?: string[] | undefined;
  command?: string | undefined;
  lines?: number | undefined;
  files?: number | undefined;
  about?: string | undefined;
}

export interface RuleProblem {
  /** Below `risk.rules`: the rule's id, then the setting (`["ci", "paths", 2]`). */
  readonly path: readonly (string | number)[];
  readonly message: string;
}

/** The glob options every path rule uses: dot files match, a pattern without a slash matches a name in any folder. */
export function globOptions(pattern: string): { dot: true; matchBase: boolean; nonegate: true; nocomment: true } {
  return { dot: true, matchBase: !pattern.includes("/"), nonegate: true, nocomment: true };
}

/** What is wrong with a glob of a path rule, in plain words; undefined when it is a good one. */
export function globProblem(pattern: string): string | undefined {
  if (pattern.trim() === "") return "a glob must not be empty";
  if (pattern.startsWith("!")) return `"${pattern}" starts with "!": negation is not supported; narrow the rule's paths, or turn the rule off`;
  if (pattern.startsWith("/")) return `"${pattern}" is absolute; paths are relative to the repository's root (write "${pattern.replace(/^\/+/, "")}")`;
  if (pattern.includes("\\")) return `"${pattern}" has a backslash; write paths with "/" (git's separator)`;
  if (pattern.split("/").some((part) => part === ".." || part === ".")) return `"${pattern}" has a "." or ".." segment; paths are relative to the repository's root`;
  if (!balanced(pattern, "[", "]") || !balanced(pattern, "{", "}")) return `"${pattern}" has an unclosed "[" or "{"`;
  try {
    new Minimatch(pattern, globOptions(pattern));
  } catch (error) {
    return `"${pattern}" is not a glob: ${error instanceof Error ? error.message : String(error)}`;
  }
  return undefined;
}

function balanced(text: string, open: string, close: string): boolean {
  let depth = 0;
  for (const c of text) {
    if (c === open) depth++;
    else if (c === close && --depth < 0) return false;
  }
  return depth === 0;
}

/** What is wrong with a command pattern (a JavaScript regular expression); undefined when it compiles. */
export function patternProblem(pattern: string): string | undefined {
  try {
    new RegExp(pattern);
    return undefined;
  } catch (error) {
    return `"${pattern}" is not a regular expression: ${error instanceof Error ? error.message.replace(/^Invalid regular expression: /, "") : String(error)}`;
  }
}

/** The rules in force: the defaults changed by `settings`, then the user's own, in the order written; or every problem. */
export function rulesInForce(settings: Readonly<Record<string, RuleSetting>>): { rules: RiskRule[]; problems: RuleProblem[] } {
  const problems: RuleProblem[] = [];
  const problem = (path: (string | number)[], message: string): void => void problems.push({ path, message });
  const rules: RiskRule[] = [];
  for (const rule of DEFAULT_RULES) {
    const setting = settings[rule.id];
    if (setting === undefined) {
      rules.push(rule);
      continue;
    }
    const changed = changeDefault(rule, setting, (key, message) => problem(key === undefined ? [rule.id] : [rule.id, key], message));
    if (changed !== undefined) rules.push(changed);
  }
  for (const [id, setting] of Object.entries(settings)) {
    if (DEFAULT_RULES.some((rule) => rule.id === id)) continue;
    if (id === PLAN_RULE || !RULE_ID.test(id)) {
      problem([id], id === PLAN_RULE ? `"${PLAN_RULE}" is the planner's own level; name the rule otherwise` : `a rule's name is lowercase letters, digits and dashes; got "${id}"`);
      continue;
    }
    const added = newRule(id, setting, (key, message) => problem(key === undefined ? [id] : [id, key], message));
    if (added !== undefined) rules.push(added);
  }
  for (const rule of rules) {
    // The defaults' globs are checked by their test, not on every load of the config (compiling them all cost a
    // short command some 19 ms): only globs the user wrote are checked here.
    if (rule.kind === "paths" && !DEFAULT_GLOBS.has(rule.paths)) {
      rule.paths.forEach((glob, index) => {
        const wrong = globProblem(glob);
        if (wrong !== undefined) problem([rule.id, "paths", index], wrong);
      });
    }
    const wrong = rule.kind === "matches" ? patternProblem(rule.pattern) : undefined;
    if (wrong !== undefined) problem([rule.id, "command"], wrong);
  }
  return { rules, problems };
}

type Report = (key: keyof RuleSetting | undefined, message: string) => void;

function changeDefault(rule: RiskRule, setting: RuleSetting, report: Report): RiskRule | undefined {
  if (setting.level === "off") return undefined;
  const base = { ...rule, level: setting.level ?? rule.level, about: setting.about ?? rule.about };
  const refuse = (key: keyof RuleSetting, what: string): void => report(key, `the default rule "${rule.id}" ${what}`);
  if (setting.command !== undefined) refuse("command", "has no command pattern to set; add a rule of your own with another name");
  if (base.kind !== "paths" && setting.paths !== undefined) refuse("paths", "has no paths to set; add a rule of your own with another name");
  if (base.kind !== "size" && setting.lines !== undefined) refuse("lines", "has no size threshold; only \"large\" and \"huge\" do");
  if (base.kind !== "size" && setting.files !== undefined) refuse("files", "has no size threshold; only \"large\" and \"huge\" do");
  if (base.kind === "paths" && setting.paths !== undefined) return { ...base, paths: setting.paths };
  if (base.kind === "size" && (setting.lines !== undefined || setting.files !== undefined)) {
    return { ...base, lines: setting.lines ?? base.lines, files: setting.files ?? base.files };
  }
  return base;
}

function newRule(id: string, setting: RuleSetting, report: Report): RiskRule | undefined {
  if (setting.level === "off") return undefined;
  const kinds = [setting.paths !== undefined, setting.command !== undefined, setting.lines !== undefined || setting.files !== undefined].filter(Boolean).length;
  if (kinds !== 1) {
    report(undefined, `the rule "${id}" is not a default rule; give it exactly one of paths (globs), command (a regular expression) or lines/files (a size)${kinds === 0 ? "" : ", not several"}`);
    return undefined;
  }
  if (setting.level === undefined) {
    report("level", `the rule "${id}" needs a level: low, medium or high`);
    return undefined;
  }
  const base = { id, level: setting.level, about: setting.about ?? `your rule "${id}"` };
  if (setting.paths !== undefined) return { ...base, kind: "paths", paths: setting.paths };
  if (setting.command !== undefined) return { ...base, kind: "matches", pattern: setting.command };
  return { ...base, kind: "size", lines: setting.lines, files: setting.files };
}

/** A rule's test in a few words: its globs, its check, its thresholds. */
export function describeRule(rule: RiskRule): string {
  switch (rule.kind) {
    case "paths":
      return rule.paths.join(", ");
    case "deleted":
      return "any deleted file";
    case "size": {
      const parts = [rule.lines !== undefined ? `${rule.lines}+ lines changed` : "", rule.files !== undefined ? `${rule.files}+ files changed` : ""];
      return parts.filter((p) => p !== "").join(" or ");
    }
    case "command":
      return `built-in check of the commands the agent ran`;
    case "matches":
      return `a command the agent ran matches /${rule.pattern}/`;
  }
}
