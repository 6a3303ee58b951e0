import { describe, expect, it } from "vitest";
import type { Output } from "./output.js";
import { COMMAND_NAMES, runCli } from "./program.js";

/** Runs the program in process with its output captured. */
async function cli(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const output: Output = { out: (text) => out.push(text), err: (text) => err.push(text), json: (value) => out.push(JSON.stringify(value)), errIsTTY: false, columns: 100 };
  const code = await runCli(argv, { cwd: process.cwd(), env: process.env, output, entry: "orch" });
  return { code, out: out.join("\n"), err: err.join("\n") };
}

/** The commands `orch --help` lists. */
function listed(help: string): string[] {
  const section = help.slice(help.indexOf("Commands:"));
  return [...section.matchAll(/^ {2}([a-z_][a-z_-]*)\b/gm)].map((m) => m[1] ?? "").filter((name) => name !== "help");
}

describe("the program's commands", () => {
  it("builds only the command named: each name it knows is one it defines, and every one it defines is known", async () => {
    const help = await cli(["--help"]);
    expect(help.code).toBe(0);
    const shown = listed(help.out);
    expect(shown.length).toBeGreaterThan(15);
    // __drive is hidden from help; every other command is both listed and known.
    expect([...COMMAND_NAMES].filter((name) => name !== "__drive").sort()).toEqual([...shown].sort());
    for (const name of shown) {
      const one = await cli([name, "--help"]);
      expect(one.code, `${name} --help`).toBe(0);
      expect(one.out).toContain(`Usage: orch ${name}`);
    }
  });

  it("still suggests a command for a mistyped name, with all of them built", async () => {
    const result = await cli(["stauts"]);
    expect(result.code).toBe(2);
    expect(result.err).toMatch(/Did you mean status\?/);
  });
});
