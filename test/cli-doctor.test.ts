// `orch doctor`'s findings and exit codes, through the built CLI with a PATH of its own: no repository here is
// a warning (⚠), not a pass; only the command and scripted agents able to run is exit 3 (a human must install an
// agent CLI or give it credentials), never 2 (bad usage); an invalid config is 2; an agent CLI ready is 0.
import { chmodSync, existsSync, mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { delimiter, join } from "node:path";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { parseJsonOutput, runOrch } from "./support/cli.js";
import { useSandboxes } from "./support/e2e.js";

const sandboxes = useSandboxes({ prefix: "orch-cli-doctor-" });

const DoctorJson = z.object({
  ok: z.boolean(),
  checks: z.array(z.object({ name: z.string(), ok: z.boolean(), warning: z.literal(true).optional(), detail: z.string() })),
  agents: z.array(z.object({ agent: z.string(), ready: z.boolean() })),
});

function onPath(name: string): string {
  for (const dir of (process.env["PATH"] ?? "").split(delimiter)) if (existsSync(join(dir, name))) return join(dir, name);
  throw new Error(`${name} is not on PATH`);
}

/** A folder for PATH holding git and node only (no agent CLI), and a fake `claude` when asked. */
function bareBin(root: string, withClaude = false): string {
  const bin = join(root, "bin");
  mkdirSync(bin, { recursive: true });
  symlinkSync(onPath("git"), join(bin, "git"));
  symlinkSync(process.execPath, join(bin, "node"));
  if (withClaude) {
    writeFileSync(join(bin, "claude"), '#!/bin/sh\necho "2.1.197 (Claude Code)"\n');
    chmodSync(join(bin, "claude"), 0o755);
  }
  return bin;
}

describe("orch doctor", () => {
  it("outside a repository with no agent CLI: the repository is a warning, and the exit is 3, not 2", async () => {
    const box = sandboxes.dir();
    const env = { HOME: box.home, TMPDIR: box.tmp, PATH: bareBin(box.root), GIT_CONFIG_NOSYSTEM: "1", GIT_CEILING_DIRECTORIES: box.root, LC_ALL: "C" };
    const text = await runOrch(["doctor"], { cwd: box.work, env, timeoutMs: 30_000 });
    expect(text.code, text.stderr).toBe(3);
    expect(text.stdout).toMatch(/^⚠ repository +none here/m);
    expect(text.stdout).not.toMatch(/^✔ repository/m);
    expect(text.stderr).toMatch(/no agent CLI is ready; .*the command and scripted agents still work/);

    const json = await runOrch(["doctor", "--json"], { cwd: box.work, env, timeoutMs: 30_000 });
    expect(json.code, json.stderr).toBe(3);
    const found = parseJsonOutput(DoctorJson, json.stdout);
    expect(found.ok).toBe(false);
    expect(found.checks.find((c) => c.name === "repository")).toMatchObject({ ok: true, warning: true });
    expect(found.agents.every((a) => !a.ready)).toBe(true);
  });

  it("in a repository with an agent CLI ready: an invalid orch.config.yaml is exit 2 (exit 0 otherwise: cli-run.test.ts)", async () => {
    const repo = sandboxes.repo({ "README.md": "# doctor\n" });
    const env = { ...repo.gitEnv, PATH: bareBin(repo.root, true), ANTHROPIC_API_KEY: "placeholder", LC_ALL: "C" };
    const ready = await runOrch(["doctor"], { cwd: repo.dir, env, timeoutMs: 30_000 });
    expect(ready.code, `${ready.stdout}\n${ready.stderr}`).toBe(0);
    expect(ready.stdout).toMatch(/^✔ repository /m);
    writeFileSync(join(repo.dir, "orch.config.yaml"), "limits: [not, a, map]\n");
    const bad = await runOrch(["doctor"], { cwd: repo.dir, env, timeoutMs: 30_000 });
    expect(bad.code, bad.stdout).toBe(2);
    expect(bad.stdout).toMatch(/^✖ config /m);
  });
});

describe("orch doctor --help", () => {
  it("lists doctor's exit codes, as README does", async () => {
    const box = sandboxes.dir();
    const help = await runOrch(["doctor", "--help"], { cwd: box.work, env: { PATH: process.env["PATH"] ?? "" }, timeoutMs: 20_000 });
    expect(help.code, help.stderr).toBe(0);
    expect(help.stdout).toMatch(/^ {2}3 {4}all else is well but no agent CLI is ready: only the command and scripted agents can run/m);
    expect(help.stdout).toMatch(/^ {2}2 {4}orch\.config\.yaml is invalid$/m);
  });
});
