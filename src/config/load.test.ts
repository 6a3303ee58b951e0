import { describe, expect, it } from "vitest";
import { ConfigError, parseConfig } from "./load.js";
import { CONFIG_TEMPLATE } from "./schema.js";

function problemsOf(text: string): ConfigError {
  try {
    parseConfig(text, "orch.config.yaml");
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error("expected a ConfigError");
}

describe("a bad orch.config.yaml", () => {
  it("lists every problem at once, each at its line, in the order of the file, with the nearest name for a typo", () => {
    const error = problemsOf(["agent: gpt", "verify:", "  - npm test", "limits:", "  maxAtempts: 3", "  maxHours: three", "  stallTimeout: soon", ""].join("\n"));
    expect(error.message).toBe(
      [
        "orch.config.yaml has 4 problems:",
        '  orch.config.yaml:1: agent: must be one of "claude-code", "codex", "gemini", "opencode", "command", "scripted"',
        '  orch.config.yaml:5: limits: unknown setting "maxAtempts"; did you mean "maxAttempts"?',
        '  orch.config.yaml:6: limits.maxHours: expected number, not "three"',
        "  orch.config.yaml:7: limits.stallTimeout: expected a duration such as 30s, 5m, 2h or 1h30m",
      ].join("\n"),
    );
    expect(error.hint).toBe("see the commented defaults that `orch init` writes for every allowed setting");
  });

  it("names unknown keys one by one, an unknown agent with the agents there are", () => {
    const error = problemsOf("verfy: []\nbsae: main\nagents:\n  codx: {}\n  claude: {}\n");
    expect(error.message.split("\n").slice(1)).toEqual([
      '  orch.config.yaml:1: the top level: unknown setting "verfy"; did you mean "verify"?',
      '  orch.config.yaml:2: the top level: unknown setting "bsae"; did you mean "base"?',
      '  orch.config.yaml:4: agents: unknown agent "codx"; did you mean "codex"?',
      '  orch.config.yaml:5: agents: unknown agent "claude"; the agents are claude-code, command, scripted, opencode, gemini, codex',
    ]);
  });

  it("one problem is one line; a good file parses", () => {
    expect(problemsOf("agent: codx\n").message).toBe('orch.config.yaml:1: agent: must be one of "claude-code", "codex", "gemini", "opencode", "command", "scripted"; did you mean "codex"?');
    expect(parseConfig("agent: codex\nlimits:\n  maxHours: 2\n", "orch.config.yaml").limits.maxHours).toBe(2);
  });

  it("worktrees.dir: a folder for the runs' worktrees, or none (the default outside the checkout)", () => {
    expect(parseConfig("worktrees:\n  dir: ../wt\n", "orch.config.yaml").worktrees).toEqual({ dir: "../wt" });
    expect(parseConfig("worktrees:\n", "orch.config.yaml").worktrees).toEqual({});
    expect(parseConfig(CONFIG_TEMPLATE, "orch.config.yaml").worktrees).toEqual({});
    expect(problemsOf("worktrees:\n  dri: ../wt\n").message).toBe('orch.config.yaml:2: worktrees: unknown setting "dri"; did you mean "dir"?');
    expect(problemsOf('worktrees:\n  dir: ""\n').message).toMatch(/^orch\.config\.yaml:2: worktrees\.dir: /);
  });

  it("risk.rules: a level alone or settings; every bad level, glob and pattern at its line, with the rest of the file", () => {
    const good = parseConfig("risk:\n  rules:\n    ci: medium\n    migrations: off\n    payments:\n      level: high\n      paths: [src/payments/**]\n", "orch.config.yaml");
    expect(good.risk.rules).toEqual({ ci: { level: "medium" }, migrations: { level: "off" }, payments: { level: "high", paths: ["src/payments/**"] } });
    expect(parseConfig(CONFIG_TEMPLATE, "orch.config.yaml").risk.rules).toEqual({});
    expect(problemsOf("risk:\n  rule: {}\n").message).toBe('orch.config.yaml:2: risk: unknown setting "rule"; did you mean "rules"?');
    expect(problemsOf("risk:\n  rules:\n    ci:\n      levle: low\n").message).toBe('orch.config.yaml:4: risk.rules.ci: unknown setting "levle"; did you mean "level"?');
    const text = ["agent: codx", "risk:", "  rules:", "    ci: urgent", "    mine:", "      level: high", "      paths: [docs/**, /etc/passwd]", "    tf:", "      level: hihg", "      command: '(('", "    dockerfile: { level: high, lines: 3, paths: [a] }", ""].join("\n");
    expect(problemsOf(text).message.split("\n").slice(1)).toEqual([
      '  orch.config.yaml:1: agent: must be one of "claude-code", "codex", "gemini", "opencode", "command", "scripted"; did you mean "codex"?',
      '  orch.config.yaml:4: risk.rules.ci.level: must be one of "low", "medium", "high", "off"',
      '  orch.config.yaml:7: risk.rules.mine.paths.1: "/etc/passwd" is absolute; paths are relative to the repository\'s root (write "etc/passwd")',
      '  orch.config.yaml:9: risk.rules.tf.level: must be one of "low", "medium", "high", "off"; did you mean "high"?',
      '  orch.config.yaml:10: risk.rules.tf.command: "((" is not a regular expression: /((/: Unterminated group',
      '  orch.config.yaml:11: risk.rules.dockerfile: the rule "dockerfile" is not a default rule; give it exactly one of paths (globs), command (a regular expression) or lines/files (a size), not several',
    ]);
  });
});
