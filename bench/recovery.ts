// Recovery cost: the built `orch run` drives the real Claude Code CLI against the scripted model server for a long
// run, once fault-free and once with a transient API fault (429 with retry-after, 529, 503) in every third call.
// Figures: model calls made / calls the fault-free run needed (target ≤ 1.4x), recovered faults (target 100%).
import { resolve } from "node:path";
import type { z } from "zod";
import { killAll, parseJsonOutput, processesMentioning, RunResultJson, runProcess, StatusJson, type CliResult } from "../test/support/cli.js";
import { claudeBash, claudeEnv, startModelServer, type FaultTurn, type ReplyTurn, type Script, type Turn } from "../test/support/model-server/server.js";
import { makeTempRepo, type TempRepo } from "../test/support/repo.js";
import { isMain, runBenchMain, say } from "./support/main.js";
import { baseline, type BenchResult, type Metric } from "./support/result.js";

/** Attempts the fault-free run needs: its verify passes only once the agent has counted this far. */
const ATTEMPTS = Number(process.env.ORCH_BENCH_RECOVERY_ATTEMPTS ?? 50);
/**
 * CLAUDE_CODE_MAX_RETRIES for the CLI. 0 (default): every fault reaches orch, so orch's policy (classify, wait,
 * resume) is what is measured. "orch": leave it unset, so orch's own bound applies (one retry inside Claude).
 */
const CLI_RETRIES = process.env.ORCH_BENCH_CLI_RETRIES ?? "0";
/** Of the calls the run needs, every FAULT_EVERY-th meets a fault first. */
const FAULT_EVERY = 3;
const TARGET_CALLS_RATIO = 1.4;
/** The faults, in turn: transient, each one recoverable by a retry. */
const FAULTS: readonly FaultTurn[] = [
  { fault: "rate_limit", retryAfterSeconds: 1 },
  { fault: "overloaded" },
  { fault: "server_error", status: 503 },
];
/** The kinds orch should classify those faults as. */
const TRANSIENT_KINDS = ["rate_limited", "overloaded"];
const GOAL = "count to the target";
const COUNTER = ".bench-count";
/** How long one `orch run` may take before it is killed (and the benchmark counts as broken). */
const RUN_TIMEOUT_MS = Number(process.env.ORCH_BENCH_RECOVERY_RUN_TIMEOUT_MS ?? 240_000);

// Paths from dist-bench/bench/: the CLIs under test, and the orch a user runs (`npm run build`), not dist-bench's.
const ROOT = resolve(import.meta.dirname, "../..");
const ORCH_MAIN = resolve(ROOT, "dist/cli/main.js");
const BIN = resolve(ROOT, "node_modules/.bin");
const PATH_WITH_BIN = `${BIN}:${process.env.PATH ?? "/usr/local/bin:/usr/bin:/bin"}`;

/**
 * The config the repository keeps: a short circuit-breaker cool-down, so that a breaker that opens (it should
 * not: the faults are never consecutive) costs seconds here rather than the default ten minutes.
 */
const CONFIG = ["recovery:", "  circuitBreaker:", "    failures: 3", "    cooldown: 5s", ""].join("\n");

/** One attempt of the fault-free run: the agent adds one to the counter, then ends its turn. */
function attemptTurns(): ReplyTurn[] {
  return [
    claudeBash(`n=$(cat ${COUNTER} 2>/dev/null || echo 0); echo $((n + 1)) > ${COUNTER}`, "count one more"),
    { text: "Counted one more." },
  ];
}

/** The fault-free script, and the same script with a fault ahead of every FAULT_EVERY-th call. */
function scripts(attempts: number): { clean: Script; faulty: Script; faults: number } {
  const clean = Array.from({ length: attempts }, attemptTurns).flat();
  const faulty: Turn[] = [];
  let faults = 0;
  clean.forEach((turn, i) => {
    if ((i + 1) % FAULT_EVERY === 0) {
      const fault = FAULTS[faults % FAULTS.length];
      if (fault !== undefined) faulty.push(fault);
      faults += 1;
    }
    faulty.push(turn);
  });
  return { clean, faulty, faults };
}

interface RunFigures {
  label: string;
  ms: number;
  result: CliResult;
  out: z.infer<typeof RunResultJson>;
  status: z.infer<typeof StatusJson>;
  calls: number;
  faultsServed: number;
  problems: string[];
  leftover: number;
  callsPerAttempt: string;
}

function env(url: string, repo: TempRepo): Record<string, string> {
  const all: Record<string, string> = {
    ...claudeEnv({ url, home: repo.home, tmp: repo.tmp, path: PATH_WITH_BIN, timeoutMs: 300_000 }),
    GIT_CONFIG_NOSYSTEM: "1",
    GIT_CEILING_DIRECTORIES: repo.root,
  };
  if (CLI_RETRIES === "orch") {
    const { CLAUDE_CODE_MAX_RETRIES: _unset, ...rest } = all;
    return rest;
  }
  return { ...all, CLAUDE_CODE_MAX_RETRIES: CLI_RETRIES };
}

async function orchRun(label: string, script: Script, maxAttempts: number): Promise<RunFigures> {
  const repo = makeTempRepo({ files: { "README.md": "# bench\n", "orch.config.yaml": CONFIG }, prefix: `orch-bench-recovery-${label}-` });
  const server = await startModelServer({ script });
  try {
    const runEnv = env(server.url, repo);
    const verify = `test "$(cat ${COUNTER} 2>/dev/null || echo 0)" -ge ${ATTEMPTS}`;
    const args = [
      "run",
      GOAL,
      "--verify",
      verify,
      "--agent",
      "claude-code",
      "--max-attempts",
      String(maxAttempts),
      // Progress stays 0% until the last attempt by design; that is not a stall here.
      "--stall-attempts",
      String(maxAttempts),
      "--stall-timeout",
      "60s",
      "--attempt-timeout",
      "120s",
      "--json",
    ];
    const result = await runProcess(process.execPath, [ORCH_MAIN, ...args], { cwd: repo.dir, env: runEnv, timeoutMs: RUN_TIMEOUT_MS });
    if (result.timedOut) throw new Error(`${label} run: orch was killed after ${RUN_TIMEOUT_MS} ms (${server.modelRequests().length} model calls by then)`);
    let out: z.infer<typeof RunResultJson>;
    try {
      out = parseJsonOutput(RunResultJson, result.stdout);
    } catch (error) {
      throw new Error(`${label} run: exit ${String(result.code)}; stderr: ${result.stderr.slice(-2_000)}`, { cause: error });
    }
    const statusOut = await runProcess(process.execPath, [ORCH_MAIN, "status", out.runId, "--json"], { cwd: repo.dir, env: runEnv, timeoutMs: 30_000 });
    const status = parseJsonOutput(StatusJson, statusOut.stdout);
    const leftover = await processesMentioning(repo.root);
    killAll(leftover);
    const calls = server.modelRequests();
    return {
      label,
      ms: result.ms,
      result,
      out,
      status,
      calls: calls.length,
      faultsServed: calls.filter((r) => r.outcome === "fault").length,
      problems: server.problems(),
      leftover: leftover.length,
      callsPerAttempt: (calls.length / Math.max(1, out.attempts)).toFixed(2),
    };
  } finally {
    await server.close();
    repo.remove();
  }
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

function describeRun(run: RunFigures): string {
  const f = run.status.figures;
  const kinds = Object.entries(f.failuresByKind)
    .map(([kind, n]) => `${kind} ${n}`)
    .join(", ");
  return (
    `recovery: ${run.label}: ${run.out.status} after ${run.out.attempts} attempts, ${run.calls} model calls (${run.faultsServed} answered with a fault), ` +
    `${seconds(run.ms)} wall; figures: ${kinds === "" ? "no failures" : kinds}; recovered ${f.recovered}, escalated ${f.escalated}, ` +
    `rate ${f.recoveryRate === null ? "n/a" : `${(f.recoveryRate * 100).toFixed(1)}%`}, waited ${seconds(f.waitedMs)}, retry calls ${f.retryCalls}`
  );
}

export async function benchRecovery(): Promise<BenchResult> {
  if (!Number.isInteger(ATTEMPTS) || ATTEMPTS < 2) throw new Error(`ORCH_BENCH_RECOVERY_ATTEMPTS must be an integer ≥ 2, got ${String(ATTEMPTS)}`);
  const { clean, faulty, faults } = scripts(ATTEMPTS);
  const fresh = await orchRun("fault-free", clean, ATTEMPTS);
  if (fresh.out.status !== "succeeded" || fresh.out.attempts !== ATTEMPTS || fresh.calls !== clean.length) {
    throw new Error(
      `the fault-free run should succeed on attempt ${ATTEMPTS} with ${clean.length} calls; it ended ${fresh.out.status} after ${fresh.out.attempts} attempts ` +
        `and ${fresh.calls} calls (${fresh.out.reason ?? ""}) ${fresh.problems.join("; ")}`,
    );
  }
  // The attempt limit must not be what ends the faulty run: orch may need one more attempt per fault.
  const hurt = await orchRun("faulty", faulty, 2 * ATTEMPTS + faults);
  const f = hurt.status.figures;
  const transientFailures = TRANSIENT_KINDS.reduce((sum, kind) => sum + (f.failuresByKind[kind] ?? 0), 0);
  const otherFailures = Object.entries(f.failuresByKind)
    .filter(([kind]) => kind !== "verify_failed" && !TRANSIENT_KINDS.includes(kind))
    .map(([kind, n]) => `${kind} ${n}`);
  // Faults the CLI retried itself never fail an attempt; those that did must all have been recovered by orch.
  const reachedOrch = f.recovered + f.escalated;
  const recovered = hurt.out.status === "succeeded" ? faults - f.escalated : 0;
  const rate = faults === 0 ? 1 : recovered / faults;
  const callsRatio = hurt.calls / fresh.calls;
  const floor = (clean.length + faults) / clean.length;

  const metrics: Metric[] = [
    {
      bench: "recovery",
      label: `model calls, ${faults} faults in ${clean.length} needed calls`,
      figure: hurt.calls,
      unit: "count",
      baselines: [baseline("fault-free run", fresh.calls, "count", hurt.calls)],
      target: `≤ ${TARGET_CALLS_RATIO}x fault-free`,
      pass: callsRatio <= TARGET_CALLS_RATIO,
    },
    {
      bench: "recovery",
      label: `transient faults recovered (of ${faults})`,
      figure: rate * 100,
      unit: "percent",
      baselines: [],
      target: "100%",
      pass: rate === 1 && hurt.out.status === "succeeded",
    },
  ];
  const perFault = faults === 0 ? 0 : (hurt.calls - fresh.calls) / faults;
  return {
    name: "recovery",
    metrics,
    notes: [
      describeRun(fresh),
      describeRun(hurt),
      `recovery: calls ${hurt.calls}/${fresh.calls} = ${callsRatio.toFixed(3)}x; the floor is ${floor.toFixed(3)}x (each fault costs the call it failed), ` +
        `so orch spent ${perFault.toFixed(2)} calls per fault (1.00 is the minimum); ${hurt.out.attempts - fresh.out.attempts} extra attempts`,
      `recovery: ${faults} faults injected, ${hurt.faultsServed} served; ${reachedOrch} failed an attempt and reached orch (${transientFailures} classified rate_limited/overloaded` +
        `${otherFailures.length > 0 ? `, others: ${otherFailures.join(", ")}` : ""})` +
        `${reachedOrch < faults ? `, ${faults - reachedOrch} retried inside Claude` : ""}; CLAUDE_CODE_MAX_RETRIES=${CLI_RETRIES === "orch" ? "unset (orch's bound)" : CLI_RETRIES}`,
      `recovery: wall time fault-free ${seconds(fresh.ms)} (${(fresh.ms / Math.max(1, fresh.out.attempts) / 1000).toFixed(2)} s/attempt, ${fresh.callsPerAttempt} calls/attempt), ` +
        `faulty ${seconds(hurt.ms)} (${(hurt.ms / Math.max(1, hurt.out.attempts) / 1000).toFixed(2)} s/attempt) → ${(hurt.ms / fresh.ms).toFixed(2)}x; ` +
        `orch waited ${seconds(f.waitedMs)} on failures (${faults === 0 ? "0" : (f.waitedMs / faults / 1000).toFixed(2)} s/fault)`,
      ...(hurt.problems.length + fresh.problems.length > 0 ? [`recovery: model server problems: ${[...fresh.problems, ...hurt.problems].join("; ")}`] : []),
      ...(hurt.leftover + fresh.leftover > 0 ? [`recovery: ${hurt.leftover + fresh.leftover} process(es) outlived orch and were killed`] : []),
      ...(ATTEMPTS !== 50 ? [`recovery: ${ATTEMPTS} attempts instead of the 50 the issue names (ORCH_BENCH_RECOVERY_ATTEMPTS)`] : []),
    ],
  };
}

if (isMain(import.meta.url)) {
  say(`recovery: ${ATTEMPTS} attempts of the real Claude Code CLI through ${ORCH_MAIN}, fault-free then with a fault in every ${FAULT_EVERY}rd call…`);
  await runBenchMain(benchRecovery);
}
