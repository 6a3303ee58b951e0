// Crash-resume latency: a detached run's supervisor is SIGKILLed while its agent works; the time from starting
// `orch resume RUN` to the agent of the next attempt running again (its first act is to write a marker file),
// against the time of a cold `orch status RUN` (a fresh node process that opens the journal, reads it, exits)
// measured in the same run. `orch resume` pays for that same start-up, a lease takeover, stopping the orphan
// agent's group, reconciling the journal, and a new detached supervisor's start-up. Target: under 2 s.
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { z } from "zod";
import { processStat } from "../src/process/tree.js";
import { runProcess } from "../test/support/cli.js";
import { isMain, runBenchMain, say } from "./support/main.js";
import { makeRepo, shellQuote } from "./support/repo.js";
import { baseline, type BenchResult } from "./support/result.js";

// From dist-bench/bench/: the orch a user runs (`npm run build`), not dist-bench's.
const ROOT = resolve(import.meta.dirname, "../..");
const ORCH_MAIN = resolve(ROOT, "dist/cli/main.js");
const ROUNDS = Number(process.env.ORCH_BENCH_RESUMES ?? 5);
const TARGET_MS = 2_000;

const Status = z.object({ status: z.string(), pid: z.number().nullable() });

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

async function until(what: string, check: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!check()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(2);
  }
}

/** Alive and not a zombie (a killed detached supervisor may wait a while to be reaped). */
function alive(pid: number): boolean {
  const stat = processStat(pid);
  return stat !== undefined && stat.state !== "Z";
}

export async function benchResume(): Promise<BenchResult> {
  if (!existsSync(ORCH_MAIN)) throw new Error(`${ORCH_MAIN} is missing: run \`npm run build\` first`);
  const repo = makeRepo("resume");
  const out = join(repo.tmp, "markers");
  mkdirSync(out);
  // The agent marks that it runs, then works for a long time (until it is stopped).
  const agentScript = join(repo.tmp, "agent.sh");
  writeFileSync(agentScript, `#!/bin/sh\ntouch ${shellQuote(out)}/attempt-$ORCH_ATTEMPT\nexec sleep 300\n`);
  const env = { ...process.env } as Record<string, string>;
  const orch = (args: string[]) => runProcess(process.execPath, [ORCH_MAIN, ...args], { cwd: repo.root, env, timeoutMs: 60_000 });
  const resumeMs: number[] = [];
  const statusMs: number[] = [];
  let runId = "";
  try {
    const started = await orch(["run", "work for a long time", "--verify", "false", "--agent-command", `sh ${shellQuote(agentScript)}`, "--max-attempts", "50", "--detach"]);
    if (started.code !== 0) throw new Error(`orch run --detach exited ${started.code}: ${started.stderr}`);
    runId = /^Run (\S+) is running/m.exec(started.stdout)?.[1] ?? "";
    await until("attempt 1 to run", () => existsSync(join(out, "attempt-1")));
    for (let round = 1; round <= ROUNDS; round++) {
      const coldStart = performance.now();
      const view = await orch(["status", runId, "--json"]);
      statusMs.push(performance.now() - coldStart);
      const supervisor = Status.parse(JSON.parse(view.stdout)).pid ?? 0;
      process.kill(supervisor, "SIGKILL");
      await until("the supervisor to die", () => !alive(supervisor));
      const next = join(out, `attempt-${round + 1}`);
      const t0 = performance.now();
      const resumed = orch(["resume", runId]);
      await until(`attempt ${round + 1} to run`, () => existsSync(next));
      resumeMs.push(performance.now() - t0);
      const result = await resumed;
      if (result.code !== 0) throw new Error(`orch resume exited ${result.code}: ${result.stderr}`);
      say(`  round ${round}: resume → agent running ${resumeMs.at(-1)?.toFixed(0) ?? "?"} ms; cold status ${statusMs.at(-1)?.toFixed(0) ?? "?"} ms`);
    }
  } finally {
    if (runId !== "") await orch(["abort", runId, "--wait", "20"]);
    repo.dispose();
  }
  const figure = median(resumeMs);
  const status = median(statusMs);
  return {
    name: "resume",
    metrics: [
      {
        bench: "resume",
        label: `orch resume → agent running again after a SIGKILL of the supervisor (median of ${ROUNDS})`,
        figure,
        unit: "ms",
        baselines: [baseline("cold orch status", status, "ms", figure)],
        target: `< ${TARGET_MS} ms`,
        pass: figure < TARGET_MS,
      },
    ],
    notes: [`resume times: ${resumeMs.map((ms) => ms.toFixed(0)).join(", ")} ms; cold status: ${statusMs.map((ms) => ms.toFixed(0)).join(", ")} ms`],
  };
}

if (isMain(import.meta.url)) await runBenchMain(benchResume);
