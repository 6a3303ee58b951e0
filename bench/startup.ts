// The speed of a terminal: what `orch` costs beyond node's own start. In one run, interleaved round by round,
// it times `node -e 0`, `orch --version`, `orch status` on a repository with a few runs, and a run whose agent
// and verify do nothing (`orch run … --agent-command true --verify true`), all of the built CLI
// (dist/cli/main.js) as a user starts it. Figures are medians of N rounds (ORCH_BENCH_STARTUP_ROUNDS, at
// least 15); the figure is the excess over `node -e 0`'s median. Targets: --version ≤ 20 ms, status ≤ 50 ms,
// a no-op run ≤ 150 ms.
import { execFileSync } from "node:child_process";
import { resolve } from "node:path";
import { isMain, runBenchMain, say } from "./support/main.js";
import { makeRepo } from "./support/repo.js";
import { baseline, type BenchResult, type Metric } from "./support/result.js";
import { timeSpawn } from "./support/spawn.js";

const ROOT = resolve(import.meta.dirname, "../..");
const ORCH_MAIN = resolve(ROOT, "dist/cli/main.js");
const ROUNDS = Math.max(15, Number(process.env.ORCH_BENCH_STARTUP_ROUNDS ?? 21));
/** Runs made before timing, so that `orch status` reads a journal with history in it. */
const SEED_RUNS = 3;

interface Case {
  key: "node" | "version" | "status" | "run";
  label: string;
  args: readonly string[];
  /** The excess over `node -e 0` allowed, in ms; none for the baseline itself. */
  targetMs?: number;
}

const RUN_ARGS = ["run", "do nothing", "--agent-command", "true", "--verify", "true", "--json"] as const;

const CASES: readonly Case[] = [
  { key: "node", label: "node -e 0", args: ["-e", "0"] },
  { key: "version", label: "orch --version", args: [ORCH_MAIN, "--version"], targetMs: 20 },
  { key: "status", label: `orch status (${SEED_RUNS}+ runs)`, args: [ORCH_MAIN, "status"], targetMs: 50 },
  { key: "run", label: "orch run (agent true, verify true)", args: [ORCH_MAIN, ...RUN_ARGS], targetMs: 150 },
];

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] ?? Number.NaN) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

export async function benchStartup(): Promise<BenchResult> {
  const repo = makeRepo("startup");
  try {
    for (let i = 0; i < SEED_RUNS; i++) {
      execFileSync(process.execPath, [ORCH_MAIN, ...RUN_ARGS], { cwd: repo.root, stdio: "ignore" });
    }
    const times = new Map<Case["key"], number[]>(CASES.map((c) => [c.key, []]));
    // One warm-up round (page cache, the journal's first open), then interleaved rounds: a shared machine's
    // load falls on every case alike.
    for (let round = 0; round <= ROUNDS; round++) {
      for (const c of CASES) {
        const timed = await timeSpawn(process.execPath, c.args, repo.root);
        if (timed.exitCode !== 0) throw new Error(`${c.label} exited ${String(timed.exitCode)}`);
        if (round > 0) times.get(c.key)?.push(timed.ms);
      }
    }
    const nodeMs = median(times.get("node") ?? []);
    const metrics: Metric[] = [];
    const notes: string[] = [`startup: ${ROUNDS} rounds, medians; node -e 0 ${nodeMs.toFixed(1)} ms`];
    for (const c of CASES) {
      if (c.targetMs === undefined) continue;
      const samples = times.get(c.key) ?? [];
      const ms = median(samples);
      const excess = ms - nodeMs;
      notes.push(`startup: ${c.label} ${ms.toFixed(1)} ms (min ${Math.min(...samples).toFixed(1)}, max ${Math.max(...samples).toFixed(1)}), ${excess.toFixed(1)} ms beyond node -e 0`);
      metrics.push({
        bench: "startup",
        label: `${c.label}, beyond node -e 0`,
        figure: excess,
        unit: "ms",
        baselines: [baseline("node -e 0", nodeMs, "ms", ms)],
        target: `≤ ${c.targetMs} ms beyond node`,
        pass: excess <= c.targetMs,
      });
    }
    return { name: "startup", metrics, notes };
  } finally {
    repo.dispose();
  }
}

if (isMain(import.meta.url)) {
  say(`startup: node -e 0, orch --version, orch status and a no-op run, ${ROUNDS} rounds…`);
  await runBenchMain(benchStartup);
}
