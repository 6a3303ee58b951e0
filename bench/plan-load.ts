// Starting a big planned run: `orch run --plan-file` (the built `dist/cli/main.js`) of a seeded plan of 10,000
// tasks, from the command to the first `task.started` in the journal, against the same for 1,000 tasks. orch's
// work before a task starts (read and check the plan, the graph, a file per task, the journal's rows, the
// scheduler's first pick) should grow linearly with the plan; the in-process steps are timed too, as notes.
import { readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import BetterSqlite3 from "better-sqlite3";
import { graphOf } from "../src/engine/graph-run.js";
import { loadPlanFile } from "../src/plan/load.js";
import { renderTaskFiles } from "../src/plan/task-file.js";
import { startProcess } from "../test/support/cli.js";
import { seeded } from "./support/seeded.js";
import { isMain, runBenchMain, say } from "./support/main.js";
import { makeRepo } from "./support/repo.js";
import { baseline, type BenchResult } from "./support/result.js";

// From dist-bench/bench/: the orch a user runs (`npm run build`), not dist-bench's.
const ROOT = resolve(import.meta.dirname, "../..");
const ORCH_MAIN = resolve(ROOT, "dist/cli/main.js");
const TARGET_S = 3;
/** Linear would be 10x; fixed costs (node's start, git) make it less, a quadratic step makes it far more. */
const TARGET_RATIO = 12;
const RUN_TIMEOUT_MS = 5 * 60_000;
const POLL_MS = 10;

/** A plan of `n` tasks, each (but the roots, one in fifty) depending on one or two of the 30 before it. */
export function bigPlan(n: number, seed = 1): { tasks: unknown[] } {
  const random = seeded(seed);
  const tasks = [];
  for (let i = 0; i < n; i++) {
    const dependsOn = new Set<string>();
    if (i > 0 && random() >= 0.02) {
      const deps = random() < 0.5 ? 1 : 2;
      for (let d = 0; d < deps; d++) dependsOn.add(`task-${Math.max(0, i - 1 - Math.floor(random() * 30))}`);
    }
    tasks.push({
      id: `task-${i}`,
      title: `Change number ${i} of the big refactor: module ${i % 97}`,
      goal: `Make change ${i}; see the title.`,
      acceptance: [`change ${i} is made`],
      files: [`src/module-${i % 97}.ts`],
      dependsOn: [...dependsOn],
    });
  }
  return { tasks };
}

interface Start {
  tasks: number;
  /** Command → first task.started, wall clock. */
  firstStartMs: number;
  /** Command → run.created. */
  createdMs: number;
  /** CPU time of orch and the children it waited for (git), when the first task.started was seen. */
  cpuMs: number | undefined;
  /** In this process: load (read, parse, check), graph, render every task file. */
  loadMs: number;
  graphMs: number;
  renderMs: number;
}

async function measure(tasks: number): Promise<Start> {
  const repo = makeRepo(`plan-load-${tasks}`);
  try {
    const planFile = join(repo.tmp, "plan.json");
    writeFileSync(planFile, JSON.stringify(bigPlan(tasks)));

    let t = performance.now();
    const plan = loadPlanFile(planFile);
    const loadMs = performance.now() - t;
    t = performance.now();
    const graph = graphOf(plan);
    const graphMs = performance.now() - t;
    t = performance.now();
    renderTaskFiles(graph.order, "bench");
    const renderMs = performance.now() - t;

    // The agent sleeps: only the start is measured, then the run is stopped with Ctrl-C (it pauses, exit 130).
    const args = ["run", "a big refactor", "--plan-file", planFile, "--verify", "true", "--agent-command", "sleep 60", "--max-attempts", "1"];
    const startedAt = Date.now();
    const orch = startProcess(process.execPath, [ORCH_MAIN, ...args], { cwd: repo.root, env: { ...process.env }, timeoutMs: RUN_TIMEOUT_MS });
    const db = join(repo.root, ".orch", "orch.db");
    let first: { started: number; created: number } | undefined;
    let exited = false;
    void orch.done.then(() => (exited = true));
    let cpuMs: number | undefined;
    while (first === undefined && !exited) {
      await new Promise((r) => setTimeout(r, POLL_MS));
      cpuMs = cpuTimeMs(orch.pid) ?? cpuMs;
      first = firstStart(db);
    }
    if (first === undefined) {
      const result = await orch.done;
      throw new Error(`orch run exited ${String(result.code)} before a task started: ${result.stderr.slice(-2_000)}`);
    }
    process.kill(orch.pid, "SIGINT");
    await orch.done;
    return { tasks, firstStartMs: first.started - startedAt, createdMs: first.created - startedAt, cpuMs, loadMs, graphMs, renderMs };
  } finally {
    repo.dispose();
  }
}

/**
 * utime + stime + cutime + cstime of `pid` from /proc (Linux), in ms: orch's own CPU time, which a busy machine
 * stretches far less than the wall clock. Undefined where /proc is not there.
 */
function cpuTimeMs(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // After the command name: state is field 3, utime 14 … cstime 17 (1-based, as proc(5) numbers them).
    const ticks = [11, 12, 13, 14].reduce((sum, i) => sum + Number(fields[i]), 0);
    return Number.isFinite(ticks) ? ticks * 10 : undefined; // USER_HZ is 100 on Linux
  } catch {
    return undefined;
  }
}

/** The first task.started's and run.created's times, once the journal holds a task.started. */
function firstStart(file: string): { started: number; created: number } | undefined {
  let db: BetterSqlite3.Database | undefined;
  try {
    db = new BetterSqlite3(file, { readonly: true, fileMustExist: true });
    const row = db.prepare("select at from events where type = 'task.started' order by seq limit 1").get() as { at: number } | undefined;
    const created = db.prepare("select at from events where type = 'run.created' order by seq limit 1").get() as { at: number } | undefined;
    return row === undefined || created === undefined ? undefined : { started: row.at, created: created.at };
  } catch {
    return undefined; // not made yet, or its tables not yet
  } finally {
    db?.close();
  }
}

export async function benchPlanLoad(): Promise<BenchResult> {
  readFileSync(ORCH_MAIN); // `npm run build` first
  const big = Number(process.env.ORCH_BENCH_PLAN_TASKS ?? 10_000);
  const small = Math.max(1, Math.round(big / 10));
  const notes: string[] = [];
  const runs: Start[] = [];
  for (const n of [small, big]) {
    const start = await measure(n);
    runs.push(start);
    const line =
      `${n} tasks: first task started ${(start.firstStartMs / 1000).toFixed(2)} s after the command (run journaled at ` +
      `${(start.createdMs / 1000).toFixed(2)} s; orch's CPU time then ${start.cpuMs === undefined ? "?" : `${(start.cpuMs / 1000).toFixed(2)} s`}); in process: load ${start.loadMs.toFixed(0)} ms, graph ${start.graphMs.toFixed(0)} ms, ` +
      `task files rendered ${start.renderMs.toFixed(0)} ms`;
    notes.push(line);
    say(line);
  }
  const [s, b] = runs;
  if (s === undefined || b === undefined) throw new Error("no figures");
  const figure = b.firstStartMs / 1000;
  const ratio = b.firstStartMs / s.firstStartMs;
  const cpu = b.cpuMs !== undefined && s.cpuMs !== undefined ? `, ${(b.cpuMs / s.cpuMs).toFixed(2)}x the CPU time` : "";
  notes.push(`${big} against ${small} tasks: ${ratio.toFixed(2)}x the time${cpu} for 10x the tasks (in-process work ${((b.loadMs + b.graphMs + b.renderMs) / (s.loadMs + s.graphMs + s.renderMs)).toFixed(2)}x)`);
  return {
    name: "plan-load",
    metrics: [
      {
        bench: "plan-load",
        label: `${big} tasks: command → first task started`,
        figure,
        unit: "s",
        baselines: [baseline(`${small} tasks`, s.firstStartMs / 1000, "s", figure)],
        target: `< ${TARGET_S} s, ≤ ${TARGET_RATIO}x ${small}`,
        pass: figure < TARGET_S && ratio <= TARGET_RATIO,
      },
    ],
    notes,
  };
}

if (isMain(import.meta.url)) await runBenchMain(benchPlanLoad);
