// The help the built CLI prints says what README.md says: every option of README's run-options table is in
// `orch run --help`, with the defaults, the AGENT:MODEL forms, the exit codes and what the agent is given.
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { runOrch } from "./support/cli.js";

const README = readFileSync(resolve(import.meta.dirname, "../README.md"), "utf8");

/** `orch ...args`, exit 0, its stdout with every run of whitespace one space (commander wraps at 80 columns). */
async function help(...args: string[]): Promise<string> {
  // Only PATH, so that no setting of this machine shows in the help; and no compile cache, which with no HOME or
  // XDG_CACHE_HOME would be written to the real user's cache folder.
  const env = { PATH: process.env["PATH"] ?? "", ORCH_NO_COMPILE_CACHE: "1" };
  const result = await runOrch(args, { cwd: import.meta.dirname, env, timeoutMs: 20_000 });
  expect(result.code, result.stderr).toBe(0);
  return result.stdout.replace(/\s+/g, " ");
}

/** The rows of README's "Run options:" table: the options of the first cell, and the default cell. */
function runOptionRows(): { options: string[]; defaults: string }[] {
  const table = README.slice(README.indexOf("Run options:")).split("\n\n")[1] ?? "";
  return table
    .split("\n")
    .filter((line) => line.startsWith("| `"))
    .map((line) => {
      const [, first = "", defaults = ""] = line.split(/(?<!\\)\|/);
      return { options: [...first.matchAll(/--[a-z][a-z-]*/g)].map((m) => m[0]), defaults: defaults.trim() };
    });
}

describe("orch run --help", () => {
  it("has every option of README's run-options table", async () => {
    const text = await help("run", "--help");
    const rows = runOptionRows();
    expect(rows.length).toBeGreaterThan(10);
    const options = rows.flatMap((row) => row.options);
    expect(options).toContain("--fallback-model");
    const missing = options.filter((option) => !new RegExp(`(^| )${option}[ ,=]`).test(text));
    expect(missing).toEqual([]);
  });

  it("shows README's defaults, the AGENT:MODEL forms, the exit codes and what the agent is given", async () => {
    const text = await help("run", "--help");
    for (const shown of ["(default claude-code)", "(default 10)", "(default 3)", "(default 10m)", "(default 60m)", "(default 1)", "workspace-write (default)", "(default: the agent's own)"]) {
      expect(text).toContain(shown);
    }
    expect(text).toMatch(/--fallback-model <\[agent:\]model> .*AGENT:MODEL/);
    expect(text).toMatch(/--planner <agent\[:model\]> the agent that plans: AGENT, AGENT:MODEL or MODEL/);
    expect(text).toMatch(/--max-hours <h> wall-clock limit for the run: hours \(1\.5\) or a duration \(90m, 2h\)/);
    // README: "Exit codes: 0 converged, 1 ran but did not converge …, 2 bad usage or config …, 3 waiting …, 4 the journal …, 130 interrupted or paused"
    const codes = [...(/Exit codes: ([^\n]+(?:\n[^\n]+)*)/.exec(README)?.[1] ?? "").matchAll(/(?:^|, )(\d+) /g)].map((m) => m[1]);
    expect(codes).toEqual(["0", "1", "2", "3", "4", "130"]);
    for (const code of codes) expect(text).toMatch(new RegExp(`Exit codes:.* ${code} `));
    for (const name of ["ORCH_PROMPT", "ORCH_RUN_ID", "ORCH_TASK_ID", "ORCH_ATTEMPT"]) expect(text).toContain(name);
    expect(text).toContain("The agent runs in the task's own worktree (<worktrees>/<run>/<task>");
    expect(text).toContain("ORCH_WORKTREES_DIR/<repo>");
    expect(README).toContain("Every agent, the command agent too, runs in the task's own\nworktree (`<worktrees>/<run>/<task>`, see [Where worktrees live](#where-worktrees-live))");
  });
});

describe("the help of the other commands", () => {
  it("logs: latest and the attempt reference; stop, pause, abort: the only live run; the program: exit codes", async () => {
    const logs = await help("logs", "--help");
    expect(logs).toContain("latest the newest run");
    expect(logs).toContain("RUN.TASK.N one attempt");
    expect(logs).toContain("RUN/TASK one task of a run");
    for (const mode of ["stop", "pause", "abort"]) {
      expect(await help(mode, "--help")).toContain(`Usage: orch ${mode} [options] [run]`);
    }
    expect(await help("stop", "--help")).toContain("Without a run, stop acts on the only live run");
    expect(await help("--help")).toContain("130 interrupted or paused");
  });

  it("risk: the forms README's command list gives, the rules it names, and where they change", async () => {
    const risk = await help("risk", "--help");
    expect(README).toContain("orch risk RUN/TASK | --diff A..B | --rules [--json]");
    expect(risk).toContain("Usage: orch risk [options] [ref]");
    for (const shown of ["--diff <range>", "A..B", "A...B", "--rules", "--json", "RUN/TASK", "risk.rules in orch.config.yaml", "never below the level its plan gives it"]) {
      expect(risk).toContain(shown);
    }
    for (const rule of ["`ci`", "`deleted`", "`push`, `publish`, `pipe-to-shell`, `rm-outside`, `sudo`", "`chmod-world`"]) expect(README).toContain(rule);
  });
});

describe("orch --version", () => {
  it("prints package.json's version, by its fast path (-V, --version) and through commander (with another option)", async () => {
    const { version } = z.object({ version: z.string() }).parse(JSON.parse(readFileSync(resolve(import.meta.dirname, "../package.json"), "utf8")));
    expect(await help("--version")).toBe(`${version} `);
    expect(await help("-V")).toBe(`${version} `);
    expect(await help("--version", "--help")).toContain(version);
  });
});
