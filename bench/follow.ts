// Live following: how long an agent's line takes to reach `orch logs RUN -f`. A fake agent prints lines stamped
// with the time they were written, at an even pace, in a detached run of the built CLI; a follower (`orch logs -f
// --json`, a separate process, as a user runs it) stamps each line as it arrives. The baseline, measured in the
// same run, is the time the same lines took to be in the journal (each row's `at`): what is left is the follow.
// Targets: median < 60 ms, p90 < 150 ms.
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import BetterSqlite3 from "better-sqlite3";
import { z } from "zod";
import { startProcess } from "../test/support/cli.js";
import { isMain, runBenchMain, say } from "./support/main.js";
import { makeRepo, shellQuote } from "./support/repo.js";
import { baseline, type BenchResult } from "./support/result.js";

const ROOT = resolve(import.meta.dirname, "../..");
const ORCH_MAIN = resolve(ROOT, "dist/cli/main.js");
const LINES = Number(process.env.ORCH_BENCH_FOLLOW_LINES ?? 100);
const EVERY_MS = 50;
const TARGET_MEDIAN_MS = 60;
const TARGET_P90_MS = 150;

const now = () => performance.timeOrigin + performance.now();
const TICK = /tick (\d+\.\d+)/;
const RunJson = z.object({ runId: z.string() });
const LogLine = z.object({ type: z.string(), seq: z.number(), data: z.unknown() });

function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
}

export async function benchFollow(): Promise<BenchResult> {
  const repo = makeRepo("follow");
  try {
    const ticker = fileURLToPath(new URL("./fixtures/ticker.js", import.meta.url));
    const agent = `exec ${shellQuote(process.execPath)} ${shellQuote(ticker)} ${LINES} ${EVERY_MS}`;
    const run = startProcess(process.execPath, [ORCH_MAIN, "run", "print ticks", "--verify", "true", "--agent-command", agent, "--detach", "--json"], {
      cwd: repo.root,
      env: process.env,
      timeoutMs: 60_000,
    });
    const started = await run.done;
    if (started.code !== 0) throw new Error(`orch run --detach exited ${String(started.code)}: ${started.stderr.slice(-2_000)}`);
    const { runId } = RunJson.parse(JSON.parse(started.stdout));

    const arrived = new Map<string, number>();
    let pending = "";
    const follower = startProcess(process.execPath, [ORCH_MAIN, "logs", runId, "-f", "--json"], {
      cwd: repo.root,
      env: process.env,
      timeoutMs: 120_000,
      onStdout: (chunk) => {
        const at = now();
        const lines = (pending + chunk).split("\n");
        pending = lines.pop() ?? "";
        for (const line of lines) {
          const tick = TICK.exec(line)?.[1];
          if (tick !== undefined && LogLine.safeParse(JSON.parse(line)).success) arrived.set(tick, at);
        }
      },
    });
    const followed = await follower.done;
    if (followed.code !== 0) throw new Error(`orch logs -f exited ${String(followed.code)}: ${followed.stderr.slice(-2_000)}`);

    const db = new BetterSqlite3(resolve(repo.root, ".orch", "orch.db"), { readonly: true });
    const journaled = new Map<string, number>();
    try {
      const rows = z.array(z.object({ at: z.number(), data: z.string() })).parse(db.prepare("select at, data from events where run_id = ? and type = 'agent.emitted'").all(runId));
      for (const row of rows) {
        const tick = TICK.exec(row.data)?.[1];
        if (tick !== undefined) journaled.set(tick, row.at);
      }
    } finally {
      db.close();
    }
    const toFollower: number[] = [];
    const toJournal: number[] = [];
    for (const [tick, at] of arrived) {
      toFollower.push(at - Number(tick));
      const written = journaled.get(tick);
      if (written !== undefined) toJournal.push(written - Number(tick));
    }
    if (toFollower.length < LINES * 0.9) throw new Error(`the follower saw ${toFollower.length} of ${LINES} lines`);
    toFollower.sort((a, b) => a - b);
    toJournal.sort((a, b) => a - b);
    const median = quantile(toFollower, 0.5);
    const p90 = quantile(toFollower, 0.9);
    return {
      name: "follow",
      metrics: [
        {
          bench: "follow",
          label: `agent line → orch logs -f, median (${toFollower.length} lines, one every ${EVERY_MS} ms)`,
          figure: median,
          unit: "ms",
          baselines: [baseline("line → journal, median", quantile(toJournal, 0.5), "ms", median)],
          target: `< ${TARGET_MEDIAN_MS} ms`,
          pass: median < TARGET_MEDIAN_MS,
        },
        {
          bench: "follow",
          label: "agent line → orch logs -f, p90",
          figure: p90,
          unit: "ms",
          baselines: [baseline("line → journal, p90", quantile(toJournal, 0.9), "ms", p90)],
          target: `< ${TARGET_P90_MS} ms`,
          pass: p90 < TARGET_P90_MS,
        },
      ],
      notes: [
        `follow: to the follower min ${toFollower[0]?.toFixed(1)} / max ${toFollower[toFollower.length - 1]?.toFixed(1)} ms; to the journal min ${toJournal[0]?.toFixed(1)} / max ${toJournal[toJournal.length - 1]?.toFixed(1)} ms`,
      ],
    };
  } finally {
    repo.dispose();
  }
}

if (isMain(import.meta.url)) {
  say(`follow: ${LINES} lines, one every ${EVERY_MS} ms, from a detached run to orch logs -f…`);
  await runBenchMain(benchFollow);
}
