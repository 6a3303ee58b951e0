// The speed of a terminal: what `orch` costs beyond node's own start. In one run, interleaved round by round,
// it times `node -e 0`, `orch --version`, `orch status` on a repository with a few runs, and a run whose agent
// and verify do nothing (`orch run … --agent-command true --verify true`), all of the built CLI
// (dist/cli/main.js) as a user starts it. Figures are medians of N rounds (ORCH_BENCH_STARTUP_ROUNDS, at
// least 15); the figure is the excess over `node -e 0`'s median. Targets: --version ≤ 20 ms, status ≤ 50 ms,
// a no-op run ≤ 150 ms. Each process also records its own CPU time (bench/fixtures/cpu-at-exit.ts, loaded in
// every case alike, `node -e 0` too), printed beside: on a shared machine it says more than the wall clock.
// ORCH_BENCH_STARTUP_BASE names another build's cli/main.js (main's, say): its three cases are timed in the same
// rounds and printed beside, an A/B under the same load.
import { execFileSync, spawn } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { isMain, runBenchMain, say } from "./support/main.js";
import { makeRepo } from "./support/repo.js";
import { baseline, type BenchResult, type Metric } from "./support/result.js";

const ROOT = resolve(import.meta.dirname, "../..");
const ORCH_MAIN = resolve(ROOT, "dist/cli/main.js");
const CPU_HOOK = fileURLToPath(new URL("./fixtures/cpu-at-exit.js", import.meta.url));
const ROUNDS = Math.max(15, Number(process.env.ORCH_BENCH_STARTUP_ROUNDS ?? 21));
/** Runs made before timing, so that `orch status` reads a journal with history in it. */
const SEED_RUNS = 3;

const RUN_ARGS = ["run", "do nothing", "--agent-command", "true", "--verify", "true", "--json"] as const;
const BASE_MAIN = process.env.ORCH_BENCH_STARTUP_BASE ? resolve(process.env.ORCH_BENCH_STARTUP_BASE) : undefined;

interface Case {
  key: string;
  label: string;
  args: readonly string[];
  /** The excess over `node -e 0` allowed, in ms; none for the baseline and the other build. */
  targetMs?: number;
}

function orchCases(main: string, suffix: string, targets: boolean): Case[] {
  return [
    { key: `version${suffix}`, label: `orch --version${suffix}`, args: [main, "--version"], ...(targets ? { targetMs: 20 } : {}) },
    { key: `status${suffix}`, label: `orch status (${SEED_RUNS}+ runs)${suffix}`, args: [main, "status"], ...(targets ? { targetMs: 50 } : {}) },
    { key: `run${suffix}`, label: `orch run (agent true, verify true)${suffix}`, args: [main, ...RUN_ARGS], ...(targets ? { targetMs: 150 } : {}) },
  ];
}

const CASES: readonly Case[] = [
  { key: "node", label: "node -e 0", args: ["-e", "0"] },
  ...orchCases(ORCH_MAIN, "", true),
  ...(BASE_MAIN === undefined ? [] : orchCases(BASE_MAIN, " [base]", false)),
];

interface Sample {
  ms: number;
  cpuMs: number;
}

/** Runs `node --import CPU_HOOK ...args` to its exit: wall-clock time from spawn, and the CPU time it recorded. */
function timeNode(args: readonly string[], cwd: string, cpuFile: string): Promise<Sample> {
  rmSync(cpuFile, { force: true });
  return new Promise((done, fail) => {
    const start = performance.now();
    const child = spawn(process.execPath, ["--import", CPU_HOOK, ...args], { cwd, stdio: "ignore", env: { ...process.env, ORCH_BENCH_CPU_FILE: cpuFile } });
    child.once("error", fail);
    child.once("exit", (code) => {
      const ms = performance.now() - start;
      if (code !== 0) {
        fail(new Error(`node ${args.join(" ")} exited ${String(code)}`));
        return;
      }
      done({ ms, cpuMs: Number(readFileSync(cpuFile, "utf8").split("\n")[0]) });
    });
  });
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] ?? Number.NaN) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

export async function benchStartup(): Promise<BenchResult> {
  const repo = makeRepo("startup");
  const cpuFile = join(repo.tmp, "cpu.txt");
  try {
    for (let i = 0; i < SEED_RUNS; i++) {
      execFileSync(process.execPath, [ORCH_MAIN, ...RUN_ARGS], { cwd: repo.root, stdio: "ignore" });
    }
    const samples = new Map<Case["key"], Sample[]>(CASES.map((c) => [c.key, []]));
    // One warm-up round (page cache, the journal's first open), then interleaved rounds: a shared machine's
    // load falls on every case alike.
    for (let round = 0; round <= ROUNDS; round++) {
      for (const c of CASES) {
        const sample = await timeNode(c.args, repo.root, cpuFile);
        if (round > 0) samples.get(c.key)?.push(sample);
      }
    }
    const of = (key: Case["key"]) => samples.get(key) ?? [];
    const nodeMs = median(of("node").map((s) => s.ms));
    const nodeCpu = median(of("node").map((s) => s.cpuMs));
    const metrics: Metric[] = [];
    const notes: string[] = [`startup: ${ROUNDS} rounds, medians; node -e 0 ${nodeMs.toFixed(1)} ms, its own CPU ${nodeCpu.toFixed(1)} ms`];
    for (const c of CASES) {
      if (c.key === "node") continue;
      const walls = of(c.key).map((s) => s.ms);
      const ms = median(walls);
      const cpu = median(of(c.key).map((s) => s.cpuMs));
      const excess = ms - nodeMs;
      notes.push(
        `startup: ${c.label} ${ms.toFixed(1)} ms (min ${Math.min(...walls).toFixed(1)}, max ${Math.max(...walls).toFixed(1)}), ${excess.toFixed(1)} ms beyond node -e 0;` +
          ` its own CPU ${cpu.toFixed(1)} ms, ${(cpu - nodeCpu).toFixed(1)} ms beyond node -e 0's`,
      );
      if (c.targetMs === undefined) continue;
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
