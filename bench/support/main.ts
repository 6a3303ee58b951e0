// Lets every bench/<name>.ts run on its own (`node dist-bench/bench/<name>.js`): prints its lines, writes the
// result as JSON where ORCH_BENCH_OUT points (that is how bench/run.ts collects it), and exits 1 when a target
// is missed, 2 when the benchmark itself broke.
import { realpathSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { toError } from "../../src/core/errors.js";
import { formatLine, type BenchResult } from "./result.js";

export const RESULT_ENV = "ORCH_BENCH_OUT";

export function isMain(moduleUrl: string): boolean {
  const entry = process.argv[1];
  if (entry === undefined) return false;
  try {
    return realpathSync(entry) === realpathSync(fileURLToPath(moduleUrl));
  } catch {
    return false;
  }
}

export function say(text: string): void {
  process.stdout.write(`${text}\n`);
}

export async function runBenchMain(bench: () => Promise<BenchResult>): Promise<void> {
  let result: BenchResult;
  try {
    result = await bench();
  } catch (error) {
    const e = toError(error);
    process.stderr.write(`bench failed: ${e.stack ?? e.message}\n`);
    process.exitCode = 2;
    return;
  }
  for (const note of result.notes) say(`  ${note}`);
  for (const metric of result.metrics) say(formatLine(metric));
  const out = process.env[RESULT_ENV];
  if (out !== undefined && out !== "") writeFileSync(out, JSON.stringify(result));
  process.exitCode = result.metrics.every((m) => m.pass) ? 0 : 1;
}
