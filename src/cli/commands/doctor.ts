// `orch doctor`: is this machine ready — git, the journal (is it sound?), where new runs' worktrees go (outside the
// checkout, or said when not), no process of orch's runs left running after its attempt, verify command or run,
// and each agent CLI (found, version, credentials present). Exit codes (see DOCTOR_EXIT): 0 all is well and an
// agent CLI is ready; 4 the journal is damaged or cannot be opened; 2 the config is invalid; 1 another check failed
// (git, a process that got away, a worktree folder that cannot be used); 3 all else is well but no agent CLI is
// ready, so only the command and scripted agents run until a human installs one or gives it credentials.
// Not being in a repository is a warning, not a failure. `--repair` moves a damaged journal aside.
import { existsSync, readdirSync } from "node:fs";
import { basename, relative, sep } from "node:path";
import { checkAgent, CLI_AGENT_NAMES } from "../../agents/check.js";
import type { AgentCheck } from "../../agents/detect.js";
import { withJournalReader } from "../../app/journal-reader.js";
import { loadConfig } from "../../config/load.js";
import { configSchema } from "../../config/schema.js";
import { findLeftovers } from "../../engine/leftovers.js";
import { legacyWorktreesDir, orchPaths, worktreesRoot, WORKTREES_ENV } from "../../engine/paths.js";
import { inspectRepo } from "../../git/index.js";
import { processesHolding } from "../../process/open-files.js";
import { runCommand } from "../../process/run-command.js";
import { checkSqliteJournal, moveJournalAside } from "../../store/sqlite/integrity.js";
import { openSqliteStore } from "../../store/sqlite/open.js";
import type { CliContext } from "../context.js";
import { EXIT } from "../exit-codes.js";
import { journalAdvice } from "../journal-advice.js";

interface Check {
  name: string;
  ok: boolean;
  /** Not a fault, but worth a look (no repository here): shown with ⚠, and `ok` stays true. */
  warning?: true;
  detail: string;
  fix: string | undefined;
}

/** The exit code of `orch doctor`, the worst finding first. */
export function doctorExit(checks: readonly Check[], anyAgentReady: boolean): number {
  const failed = checks.filter((c) => !c.ok);
  if (failed.some((c) => c.name === "journal")) return EXIT.journal;
  if (failed.some((c) => c.name === "config")) return EXIT.usage;
  if (failed.length > 0) return EXIT.notConverged;
  return anyAgentReady ? EXIT.ok : EXIT.waiting;
}

export async function doctorCommand(ctx: CliContext, flags: { json?: boolean; repair?: boolean }): Promise<number> {
  const checks: Check[] = [];
  const git = await runCommand({ file: "git", args: ["--version"], cwd: ctx.cwd, env: ctx.env, timeoutMs: 10_000 });
  checks.push({
    name: "git",
    ok: git.exitCode === 0,
    detail: git.exitCode === 0 ? git.output.trim() : "not found",
    fix: git.exitCode === 0 ? undefined : "install git (apt-get install git, brew install git)",
  });
  checks.push({ name: "node", ok: true, detail: process.version, fix: undefined });

  let config = configSchema().parse({});
  try {
    const repo = await inspectRepo(ctx.cwd);
    checks.push({ name: "repository", ok: true, detail: `${repo.root} on ${repo.currentBranch ?? "a detached HEAD"}`, fix: undefined });
    try {
      const loaded = loadConfig(repo.root);
      config = loaded.config;
      checks.push({ name: "config", ok: true, detail: loaded.path ?? "no orch.config.yaml: defaults (`orch init` writes one)", fix: undefined });
    } catch (error) {
      checks.push({ name: "config", ok: false, detail: error instanceof Error ? error.message : String(error), fix: "fix the file, or `orch init --force`" });
    }
    checks.push(worktreesCheck(repo.root, ctx.env, config.worktrees.dir));
    const journal = await journalCheck(orchPaths(repo.root).db, flags.repair === true);
    checks.push(journal);
    if (journal.ok && existsSync(orchPaths(repo.root).db)) checks.push(await leftoversCheck(ctx.cwd));
  } catch (error) {
    // Not being in a repository is no fault of the machine: doctor still checks the agents.
    checks.push({
      name: "repository",
      ok: true,
      warning: true,
      detail: `none here (${error instanceof Error ? error.message : String(error)})`,
      fix: "runs need one: cd into a git repository (or `git init`)",
    });
    checks.push({ name: "journal", ok: await sqliteWorks(), detail: "SQLite (better-sqlite3) loads", fix: undefined });
  }

  // The same checks a run's preflight makes of its agents (src/app/preflight.ts), with `--version` run too.
  const agents: AgentCheck[] = await Promise.all(CLI_AGENT_NAMES.map((name) => checkAgent(name, ctx.env, config.agents[name].bin)));
  const anyReady = agents.some((a) => a.ready);
  const ok = checks.every((c) => c.ok) && anyReady;
  if (flags.json === true) {
    ctx.output.json({ ok, checks, agents });
  } else {
    const mark = (good: boolean, warning = false) => (!good ? "✖" : warning ? "⚠" : "✔");
    for (const c of checks) ctx.output.out(`${mark(c.ok, c.warning === true)} ${c.name.padEnd(12)} ${c.detail}${c.fix ? `\n    fix: ${c.fix}` : ""}`);
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
  return doctorExit(checks, anyReady);
}

const SOURCES = { env: WORKTREES_ENV, config: "worktrees.dir of orch.config.yaml", cache: "the default" } as const;

/** Where the next run's worktrees go and what chose it; a folder inside the checkout, and worktrees of runs made before (in `.orch/worktrees/`), said. */
function worktreesCheck(root: string, env: NodeJS.ProcessEnv, configured: string | undefined): Check {
  let where;
  try {
    where = worktreesRoot(root, env, configured);
  } catch (error) {
    return { name: "worktrees", ok: false, detail: error instanceof Error ? error.message : String(error), fix: `set ${WORKTREES_ENV} to an absolute path, or unset it` };
  }
  const notes: string[] = [];
  const inside = relative(root, where.dir);
  if (inside === "" || (!inside.startsWith("..") && !inside.startsWith(sep))) {
    notes.push("inside the checkout: tools that walk it (node --test, pytest, linters) will find the runs' copies of your files");
  }
  let legacy = 0;
  try {
    legacy = readdirSync(legacyWorktreesDir(root), { withFileTypes: true }).filter((e) => e.isDirectory()).length;
  } catch {
    // None there (or not a folder): no run of this repository was made before.
  }
  if (legacy > 0 && where.dir !== legacyWorktreesDir(root)) {
    notes.push(`${legacy === 1 ? "1 run" : `${legacy} runs`} made before keep${legacy === 1 ? "s its" : " their"} worktrees in ${legacyWorktreesDir(root)} (\`orch gc\` removes them once ended)`);
  }
  return { name: "worktrees", ok: true, detail: [`new runs: ${where.dir} (${SOURCES[where.source]})`, ...notes].join("; "), fix: undefined };
}

/** The journal's check: sound, missing (no run yet), or damaged with the fix; with `repair`, moved aside. */
async function journalCheck(file: string, repair: boolean): Promise<Check> {
  const health = checkSqliteJournal(file);
  if (health.ok) {
    const detail = health.exists ? `${file}: sound (SQLite quick_check)` : `none yet at ${file}; the first run creates it`;
    return { name: "journal", ok: true, detail: repair ? `${detail}; nothing to repair` : detail, fix: undefined };
  }
  const { error } = health;
  if (error.problem !== "damaged") return { name: "journal", ok: false, detail: error.message, fix: journalAdvice(error) };
  if (!repair) {
    return {
      name: "journal",
      ok: false,
      detail: error.message,
      fix: `\`orch doctor --repair\` moves it aside (kept as ${basename(file)}.damaged-<time>, nothing is deleted) and a new journal starts; stop any orch process of this repository first`,
    };
  }
  // Moved from under a live supervisor, the journal would split: it writes on in the kept file, others in a new one.
  const holders = await processesHolding([file, `${file}-wal`]);
  if (holders.length > 0) {
    return {
      name: "journal",
      ok: false,
      detail: `${error.message}; not repaired: process ${holders.join(", ")} has it open`,
      fix: `stop ${holders.length === 1 ? "that process" : "those processes"} (\`orch stop RUN\`, or kill ${holders.join(" ")}), then \`orch doctor --repair\` again`,
    };
  }
  const aside = moveJournalAside(file, new Date());
  return {
    name: "journal",
    ok: true,
    detail:
      `${error.message}; repaired: moved aside, kept at ${aside.kept}${aside.moved.length > 1 ? ` (with its ${aside.moved.slice(0, -1).map((m) => m.from.slice(file.length)).join(" and ")})` : ""}. ` +
      "A new, empty journal starts with the next command; nothing was salvaged from the old one (open the kept file with sqlite3 to read what is left). " +
      "The runs' branches and worktrees are as they were.",
    fix: undefined,
  };
}

/** Processes of this repository's runs that outlived their attempt, verify command or run (Linux). */
async function leftoversCheck(cwd: string): Promise<Check> {
  let found;
  try {
    found = await withJournalReader(cwd, ({ journal: store }) => findLeftovers(store));
  } catch (error) {
    return { name: "processes", ok: true, detail: `not checked: ${error instanceof Error ? error.message : String(error)}`, fix: undefined };
  }
  if (found.length === 0) return { name: "processes", ok: true, detail: "none of orch's runs left a process running", fix: undefined };
  const named = found.map((p) => {
    const owner = p.attempt !== null ? `attempt ${p.attempt} of ${p.taskId ?? "?"}` : `a verify command of ${p.taskId ?? "?"}`;
    return `pid ${p.pid} (run ${p.runId}, ${owner}; ${p.why}): ${p.command}`;
  });
  return {
    name: "processes",
    ok: false,
    detail: `${found.length === 1 ? "1 process" : `${found.length} processes`} started by orch got away:\n    ${named.join("\n    ")}`,
    fix: `stop ${found.length === 1 ? "it" : "them"}: kill ${found.map((p) => p.pid).join(" ")}`,
  };
}

async function sqliteWorks(): Promise<boolean> {
  try {
    const store = await openSqliteStore({ path: ":memory:" });
    await store.close();
    return true;
  } catch {
    return false;
  }
}
