// Journal ingest: a fake agent (a separate node process) prints N JSON lines as fast as it can, run as one
// attempt of the `command` agent through the real engine; every line becomes one `agent.emitted` event (lines of
// one batch share a row, src/store/packed-output.ts). Measures events persisted per second of attempt wall time,
// this (orchestrating) process's peak RSS, and the journal's bytes on disk per byte the agent printed, against a
// bare reader of the same output and raw better-sqlite3 inserts of one row per line, both measured in this run.
// Targets: ≥ 100k events/s, peak RSS < 150 MB, ≤ 1.5 bytes of journal per byte of output.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import BetterSqlite3 from "better-sqlite3";
import { openSqliteStore } from "../src/store/sqlite/open.js";
import { fakeLine } from "./fixtures/lines.js";
import { runThroughEngine } from "./support/engine.js";
import { isMain, runBenchMain, say } from "./support/main.js";
import { makeRepo, shellQuote } from "./support/repo.js";
import { baseline, formatValue, type BenchResult } from "./support/result.js";
import { RssSampler, collectGarbage, type RssSummary } from "./support/rss.js";

const LINES = Number(process.env.ORCH_BENCH_LINES ?? 200_000);
const TARGET_RATE = 100_000;
const TARGET_DB_RATIO = 1.5;
const TARGET_RSS = 150 * 1024 * 1024;
const SAMPLE_MS = 50;

interface EngineIngest {
  /** agent.emitted events persisted (one per line), and the rows they take. */
  events: number;
  rows: number;
  /** The journal's files (database and WAL) after the run. */
  dbBytes: number;
  attemptMs: number;
  rss: RssSummary;
  status: string;
}

async function ingestThroughEngine(repoRoot: string, agentCommand: string): Promise<EngineIngest> {
  const sampler = new RssSampler();
  let attemptStart: number | undefined;
  let attemptEnd: number | undefined;
  let rss: RssSummary | undefined;
  const engine = await runThroughEngine({
    repoRoot,
    agentCommand,
    verify: ["true"],
    limits: { maxAttempts: 1 },
    beforeDrive: () => {
      collectGarbage();
      sampler.start(SAMPLE_MS);
    },
    onActivity: (activity) => {
      // "attempt" comes right before the attempt starts; "verifying" right after its last event is in the
      // journal (attempt.exited is written behind every buffered agent.emitted row).
      if (activity.kind === "attempt") attemptStart = performance.now();
      if (activity.kind === "verifying") {
        attemptEnd = performance.now();
        rss = sampler.stop();
      }
    },
  });
  if (rss === undefined) sampler.stop(); // the attempt never reached verification
  if (attemptStart === undefined || attemptEnd === undefined || rss === undefined) {
    throw new Error(`the attempt did not reach verification: ${engine.run.status} (${engine.run.reason ?? ""})`);
  }
  const db = new BetterSqlite3(engine.dbPath, { readonly: true });
  try {
    const count = db
      .prepare("select count(*), sum(1 + coalesce(json_array_length(data, '$.more'), 0)) from events where run_id = ? and type = 'agent.emitted'")
      .raw()
      .get(engine.run.id);
    const [rows, events] = Array.isArray(count) ? count.map(Number) : [];
    const dbBytes = fileSize(engine.dbPath) + fileSize(`${engine.dbPath}-wal`);
    return { events: events ?? 0, rows: rows ?? 0, dbBytes, attemptMs: attemptEnd - attemptStart, rss, status: engine.run.status };
  } finally {
    db.close();
  }
}

function fileSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

/** The same command's stdout, piped to a no-op line counter. */
function bareReader(cwd: string, agentCommand: string): Promise<{ lines: number; ms: number }> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const child = spawn("/bin/sh", ["-c", agentCommand], { cwd, stdio: ["ignore", "pipe", "inherit"] });
    let lines = 0;
    child.stdout.on("data", (chunk: Buffer) => {
      for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) lines += 1;
    });
    child.once("error", reject);
    child.once("close", (code) => {
      if (code !== 0) reject(new Error(`the fake agent exited ${code}`));
      else resolve({ lines, ms: performance.now() - start });
    });
  });
}

/** The same rows, inserted with one prepared statement in one transaction into a fresh journal file. */
async function rawInserts(dir: string): Promise<{ rows: number; ms: number; dbBytes: number }> {
  const path = join(dir, "raw.db");
  const store = await openSqliteStore({ path }); // the journal's own schema and pragmas
  await store.close();
  const db = new BetterSqlite3(path);
  try {
    db.pragma("journal_mode = WAL");
    db.pragma("synchronous = NORMAL");
    const insert = db.prepare("insert into events (at, run_id, task_id, attempt_id, type, data) values (?, ?, ?, ?, ?, ?)");
    const start = performance.now();
    db.transaction(() => {
      for (let i = 0; i < LINES; i++) {
        insert.run(Date.now(), "run-1", "task", "run-1/task/1", "agent.emitted", JSON.stringify({ type: "text", text: fakeLine(i) }));
      }
    })();
    const ms = performance.now() - start;
    const rows = Number(db.prepare("select count(*) from events").pluck().get());
    db.pragma("wal_checkpoint(TRUNCATE)");
    return { rows, ms, dbBytes: fileSize(path) + fileSize(`${path}-wal`) };
  } finally {
    db.close();
  }
}

export async function benchIngest(): Promise<BenchResult> {
  const repo = makeRepo("ingest");
  const scratch = mkdtempSync(join(tmpdir(), "orch-bench-raw-"));
  try {
    const spew = fileURLToPath(new URL("./fixtures/spew.js", import.meta.url));
    const agentCommand = `exec ${shellQuote(process.execPath)} ${shellQuote(spew)} ${LINES}`;

    // The engine first, while this process holds nothing else: its RSS is then the orchestrator's own.
    const engine = await ingestThroughEngine(repo.root, agentCommand);
    if (engine.events !== LINES) throw new Error(`expected ${LINES} agent.emitted events, found ${engine.events}`);
    const reader = await bareReader(repo.root, agentCommand);
    if (reader.lines !== LINES) throw new Error(`the bare reader counted ${reader.lines} lines, expected ${LINES}`);
    const raw = await rawInserts(scratch);
    if (raw.rows !== LINES) throw new Error(`raw inserts left ${raw.rows} rows, expected ${LINES}`);

    const rate = engine.events / (engine.attemptMs / 1000);
    let outputBytes = 0;
    for (let i = 0; i < LINES; i++) outputBytes += Buffer.byteLength(fakeLine(i)) + 1;
    const dbRatio = engine.dbBytes / outputBytes;
    const readerRate = reader.lines / (reader.ms / 1000);
    const rawRate = raw.rows / (raw.ms / 1000);
    // Reading and inserting on one thread, back to back: the best a single-threaded orchestrator could do.
    const serialBound = 1 / (1 / readerRate + 1 / rawRate);
    const { rss } = engine;
    return {
      name: "ingest",
      metrics: [
        {
          bench: "ingest",
          label: `events/s persisted (${LINES} lines, 1 attempt)`,
          figure: rate,
          unit: "per_s",
          baselines: [baseline("bare reader", readerRate, "per_s", rate), baseline("raw inserts", rawRate, "per_s", rate)],
          target: `≥ ${formatValue(TARGET_RATE, "per_s")}`,
          pass: rate >= TARGET_RATE,
        },
        {
          bench: "ingest",
          label: "journal bytes per byte of agent output",
          figure: dbRatio,
          unit: "ratio",
          baselines: [baseline("one row per line (raw inserts)", raw.dbBytes / outputBytes, "ratio", dbRatio)],
          target: `≤ ${TARGET_DB_RATIO}`,
          pass: dbRatio <= TARGET_DB_RATIO,
        },
        {
          bench: "ingest",
          label: "orchestrator peak RSS",
          figure: rss.peakBytes,
          unit: "bytes",
          baselines: [baseline("RSS at start", rss.startBytes, "bytes", rss.peakBytes)],
          target: `< ${formatValue(TARGET_RSS, "bytes")}`,
          pass: rss.peakBytes < TARGET_RSS,
        },
      ],
      notes: [
        `ingest: ${formatValue(engine.dbBytes, "bytes")} of journal for ${formatValue(outputBytes, "bytes")} of output; ${engine.events} events in ${engine.rows} rows`,
        `ingest: attempt ${(engine.attemptMs / 1000).toFixed(2)} s for ${engine.events} events (run ${engine.status}); bare reader ${(reader.ms / 1000).toFixed(2)} s;` +
          ` raw inserts ${(raw.ms / 1000).toFixed(2)} s; read+insert serial bound ${formatValue(serialBound, "per_s")} → engine at ${((rate / serialBound) * 100).toFixed(0)}% of it`,
        `ingest: RSS sampled every ${SAMPLE_MS} ms: ${rss.samples} samples, longest gap ${rss.maxGapMs.toFixed(0)} ms (event loop busy);` +
          ` getrusage peak ${formatValue(rss.lifetimePeakBytes, "bytes")}`,
      ],
    };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
    repo.dispose();
  }
}

if (isMain(import.meta.url)) {
  say(`ingest: ${LINES} lines from a fake agent through the engine into SQLite…`);
  await runBenchMain(benchIngest);
}
