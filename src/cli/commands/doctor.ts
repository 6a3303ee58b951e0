// `orch doctor`: is this machine ready — git, the journal, and each agent CLI (found, version,
// credentials present). Exit 0 when git works and at least one agent CLI is ready, 2 otherwise.
import { checkClaudeCode } from "../../agents/claude-code/detect.js";
import type { AgentCheck } from "../../agents/detect.js";
import { loadConfig } from "../../config/load.js";
import { orchPaths } from "../../engine/paths.js";
import { inspectRepo } from "../../git/index.js";
import { runCommand } from "../../process/run-command.js";
import { openSqliteStore } from "../../store/sqlite/open.js";
import type { CliContext } from "../context.js";
import { EXIT } from "../exit-codes.js";

interface Check {
  name: string;
  ok: boolean;
  detail: string;
  fix: string | undefined;
}

export async function doctorCommand(ctx: CliContext, flags: { json?: boolean }): Promise<number> {
  const checks: Check[] = [];
  const git = await runCommand({ file: "git", args: ["--version"], cwd: ctx.cwd, env: ctx.env, timeoutMs: 10_000 });
  checks.push({
    name: "git",
    ok: git.exitCode === 0,
    detail: git.exitCode === 0 ? git.output.trim() : "not found",
    fix: git.exitCode === 0 ? undefined : "install git (apt-get install git, brew install git)",
  });
  checks.push({ name: "node", ok: true, detail: process.version, fix: undefined });

  let claudeBin = "claude";
  try {
    const repo = await inspectRepo(ctx.cwd);
    claudeBin = loadConfig(repo.root).config.agents["claude-code"].bin;
    const store = await openSqliteStore({ path: ":memory:" });
    await store.close();
    const paths = orchPaths(repo.root);
    checks.push({ name: "journal", ok: true, detail: `SQLite at ${paths.db}`, fix: undefined });
  } catch (error) {
    checks.push({
      name: "journal",
      ok: true,
      detail: `not in a git repository with commits (${error instanceof Error ? error.message : String(error)}); runs need one`,
      fix: undefined,
    });
  }

  const agents: AgentCheck[] = [await checkClaudeCode(ctx.env, claudeBin)];
  const anyReady = agents.some((a) => a.ready);
  const ok = checks.every((c) => c.ok) && anyReady;
  if (flags.json === true) {
    ctx.output.json({ ok, checks, agents });
  } else {
    const mark = (good: boolean) => (good ? "✔" : "✖");
    for (const c of checks) ctx.output.out(`${mark(c.ok)} ${c.name.padEnd(12)} ${c.detail}${c.fix ? `\n    fix: ${c.fix}` : ""}`);
    for (const a of agents) {
      const detail = !a.found
        ? "not found"
        : `${a.version ?? "version unknown"} at ${a.path ?? a.bin}; credentials ${a.credentials.present ? `present (${a.credentials.source})` : "missing"}`;
      ctx.output.out(`${mark(a.ready)} ${a.agent.padEnd(12)} ${detail}${a.fix ? `\n    fix: ${a.fix}` : ""}`);
    }
    ctx.output.out(`  command      always available: --agent-command "<shell command>"`);
    ctx.output.out(`  scripted     always available: --script FILE (see \`orch demo\`)`);
    if (!anyReady) ctx.output.err("orch: no agent CLI is ready; fix one of the above (the command and scripted agents still work)");
  }
  return ok ? EXIT.ok : EXIT.usage;
}
