// Runs every benchmark (or those named on the command line), each in a fresh node process so that one cannot
// warm, pollute or inflate the memory of another, then prints the results as one table. Exit 0 when every
// target is met, 1 when one is missed, 2 when a benchmark could not run.
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { toError } from "../src/core/errors.js";
import { RESULT_ENV, say } from "./support/main.js";
import { BenchResult, formatTable, type Metric } from "./support/result.js";

const BENCHES = ["overhead", "ingest", "redact", "recovery", "review", "resume", "schedule", "follow", "plan-load", "startup", "serve", "soak", "dashboard"] as const;
type Bench = (typeof BENCHES)[number];
/** A benchmark still running after this long is killed and counted as broken. `recovery` runs a real CLI
 * about 130 times and waits on each fault as orch would (about 3½ minutes on two cores); `schedule` runs a
 * 200-task plan (1–2 minutes); `soak` a 600-task plan of 4 s tasks at concurrency 4 (about 10½ minutes). */
const BENCH_TIMEOUT_MS: Record<Bench, number> = {
  overhead: 5 * 60_000,
  ingest: 5 * 60_000,
  redact: 2 * 60_000,
  recovery: 10 * 60_000,
  review: 6 * 60_000,
  resume: 3 * 60_000,
  schedule: 10 * 60_000,
  follow: 3 * 60_000,
  "plan-load": 5 * 60_000,
  startup: 5 * 60_000,
  serve: 10 * 60_000,
  soak: 20 * 60_000,
  dashboard: 10 * 60_000,
};

function runOne(name: Bench, out: string): Promise<number | null> {
  return new Promise((resolve, reject) => {
    const file = fileURLToPath(new URL(`./${name}.js`, import.meta.url));
    const child = spawn(process.execPath, ["--expose-gc", file], {
      stdio: ["ignore", "inherit", "inherit"],
      env: { ...process.env, [RESULT_ENV]: out },
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), BENCH_TIMEOUT_MS[name]);
    child.once("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
}

async function main(): Promise<number> {
  const wanted = process.argv.slice(2);
  const unknown = wanted.filter((w) => !BENCHES.some((b) => b === w));
  if (unknown.length > 0) {
    process.stderr.write(`unknown benchmark(s): ${unknown.join(", ")}; choose from ${BENCHES.join(", ")}\n`);
    return 2;
  }
  const names = BENCHES.filter((b) => wanted.length === 0 || wanted.includes(b));
  const dir = mkdtempSync(join(tmpdir(), "orch-bench-results-"));
  const metrics: Metric[] = [];
  const broken: string[] = [];
  const started = performance.now();
  try {
    for (const name of names) {
      say(`\n== ${name}`);
      const out = join(dir, `${name}.json`);
      const code = await runOne(name, out);
      try {
        const result = BenchResult.parse(JSON.parse(readFileSync(out, "utf8")));
        metrics.push(...result.metrics);
      } catch (error) {
        broken.push(`${name} (exit ${code ?? "by signal"}: ${toError(error).message.split("\n")[0] ?? ""})`);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  say(`\n${formatTable(metrics)}`);
  const failed = metrics.filter((m) => !m.pass);
  say(`\n${metrics.length - failed.length}/${metrics.length} targets met in ${((performance.now() - started) / 1000).toFixed(0)} s`);
  if (broken.length > 0) {
    say(`broken: ${broken.join("; ")}`);
    return 2;
  }
  return failed.length === 0 ? 0 : 1;
}

process.exitCode = await main();
