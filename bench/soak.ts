// A soak: a long planned run of many short tasks, run by the built `orch run --plan-file` (600 independent tasks
// of 4 s at concurrency 4, about ten minutes). Every second the supervisor's resident memory (/proc/PID/status)
// and open descriptors (/proc/PID/fd) and the task worktrees on disk (`git worktree list`, less the main checkout
// and the run branch's) are sampled. Targets: memory after warm-up grows by at most 10 MB, descriptors stay
// flat, worktrees on disk peak at the slots' plus one spare per slot (made ahead, or integrated and not yet
// removed) plus two waiting to be merged, and the makespan stays within 3% of its bound (the agents' measured
// work / concurrency). ORCH_BENCH_SOAK_TASKS,
// ORCH_BENCH_SOAK_SECONDS and ORCH_BENCH_SOAK_CONCURRENCY make a quick run.
import { execFileSync } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import BetterSqlite3 from "better-sqlite3";
import { z } from "zod";
import type { PlanInput } from "../src/core/plan.js";
import { startProcess } from "../test/support/cli.js";
import { isMain, runBenchMain, say } from "./support/main.js";
import { makeRepo, type BenchRepo } from "./support/repo.js";
import { baseline, type BenchResult } from "./support/result.js";
import { envNumber } from "./support/env-number.js";

const ROOT = resolve(import.meta.dirname, "../..");
const ORCH_MAIN = resolve(ROOT, "dist/cli/main.js");
const SAMPLE_MS = 1_000;
const TARGET_RSS_GROWTH = 10 * 1024 * 1024;
/**
 * Descriptors come and go with the children (an agent's, a verify's and git's pipes): flat means the steady level
 * at the end is the one after warm-up, give or take a few; the transient peak is printed in the notes.
 */
const TARGET_FD_GROWTH = 4;
const TARGET_RATIO = 1.03;

interface Settings {
  tasks: number;
  seconds: number;
  concurrency: number;
}

function settings(): Settings {
  return {
    tasks: envNumber("ORCH_BENCH_SOAK_TASKS", 600, 2),
    seconds: envNumber("ORCH_BENCH_SOAK_SECONDS", 4, 0.1, false),
    concurrency: envNumber("ORCH_BENCH_SOAK_CONCURRENCY", 4, 1),
  };
}

interface Sample {
  at: number;
  rss: number;
  fds: number;
  worktrees: number;
}

function rssOf(pid: number): number | undefined {
  try {
    const line = readFileSync(`/proc/${pid}/status`, "utf8").split("\n").find((l) => l.startsWith("VmRSS:"));
    const kb = Number(/(\d+)/.exec(line ?? "")?.[1]);
    return Number.isFinite(kb) ? kb * 1024 : undefined;
  } catch {
    return undefined;
  }
}

function fdsOf(pid: number): number | undefined {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return undefined;
  }
}

/** Task worktrees git knows: every one but the main checkout and the run branch's (`orch/<run>/_run`). */
function taskWorktrees(root: string): number {
  // git fails (and says so) when it lists a worktree being added that moment: the sample is skipped, quietly.
  const out = execFileSync("git", ["worktree", "list", "--porcelain"], { cwd: root, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
  const blocks = out.split("\n\n").filter((b) => b.trim() !== "");
  return blocks.filter((b) => /^branch refs\/heads\/orch\/[^/]+\/(?!_run$)[^\n]+$/m.test(b)).length;
}

const RunJson = z.object({ runId: z.string(), status: z.string(), reason: z.string().nullable().optional() });
const EventRow = z.object({ at: z.number(), task_id: z.string().nullable(), type: z.string(), data: z.string() });
const Exited = z.object({ durationMs: z.number() });

async function soak(repo: BenchRepo, s: Settings): Promise<{ runId: string; samples: Sample[] }> {
  const id = (i: number) => `t${String(i + 1).padStart(String(s.tasks).length, "0")}`;
  const plan: PlanInput = {
    tasks: Array.from({ length: s.tasks }, (_, i) => ({
      id: id(i),
      title: `sleep ${id(i)}`,
      goal: `sleep ${s.seconds} s, then write out/${id(i)}.txt`,
      acceptance: [`out/${id(i)}.txt exists`],
      files: [`out/${id(i)}.txt`],
      dependsOn: [],
    })),
  };
  const planPath = join(repo.tmp, "plan.json");
  writeFileSync(planPath, JSON.stringify(plan));
  const agent = `sleep ${s.seconds}; echo "$ORCH_TASK_ID" > out/"$ORCH_TASK_ID".txt`;
  const args = ["run", "a soak of short tasks", "--verify", "true", "--plan-file", planPath, "--concurrency", String(s.concurrency), "--agent-command", agent, "--max-attempts", "1", "--json"];
  const timeoutMs = Math.max(120_000, ((s.tasks * s.seconds) / s.concurrency) * 1000 * 2);
  const orch = startProcess(process.execPath, [ORCH_MAIN, ...args], { cwd: repo.root, env: process.env, timeoutMs });
  const samples: Sample[] = [];
  const sampler = setInterval(() => {
    const rss = rssOf(orch.pid);
    const fds = fdsOf(orch.pid);
    if (rss === undefined || fds === undefined) return;
    let worktrees = Number.NaN;
    try {
      worktrees = taskWorktrees(repo.root);
    } catch {
      // git list raced a removal: skip this sample's count
    }
    samples.push({ at: Date.now(), rss, fds, worktrees });
  }, SAMPLE_MS);
  const result = await orch.done.finally(() => clearInterval(sampler));
  if (result.timedOut) throw new Error(`orch run was killed after ${timeoutMs / 1000} s`);
  const out = RunJson.parse(JSON.parse(result.stdout));
  if (out.status !== "succeeded") throw new Error(`the run ended ${out.status}: ${out.reason ?? ""}`);
  return { runId: out.runId, samples };
}

const median = (xs: readonly number[]): number => {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted.length === 0 ? Number.NaN : (sorted[Math.floor((sorted.length - 1) / 2)] ?? Number.NaN);
};
/** The largest value of each minute of samples (each tenth of a short run). */
function perMinute(samples: readonly Sample[], of: (x: Sample) => number): string {
  const first = samples[0]?.at ?? 0;
  const step = Math.min(60_000, Math.max(1_000, ((samples.at(-1)?.at ?? first) - first) / 10));
  const out: number[] = [];
  for (const x of samples) {
    const i = Math.floor((x.at - first) / step);
    const v = of(x);
    if (Number.isFinite(v)) out[i] = Math.max(out[i] ?? v, v);
  }
  return Array.from(out, (v) => (v === undefined ? "-" : String(v))).join(" ");
}
const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

export async function benchSoak(): Promise<BenchResult> {
  const s = settings();
  const repo = makeRepo("soak");
  try {
    const git = (...args: string[]) => execFileSync("git", args, { cwd: repo.root, stdio: ["ignore", "ignore", "pipe"] });
    mkdirSync(join(repo.root, "out"));
    writeFileSync(join(repo.root, "out", ".keep"), "");
    git("add", "out/.keep");
    git("commit", "--quiet", "-m", "out/");
    say(`soak: ${s.tasks} tasks of ${s.seconds} s at concurrency ${s.concurrency} (about ${((s.tasks * s.seconds) / s.concurrency / 60).toFixed(1)} min)…`);
    const { runId, samples } = await soak(repo, s);

    const db = new BetterSqlite3(join(repo.root, ".orch", "orch.db"), { readonly: true });
    let rows: z.infer<typeof EventRow>[];
    try {
      rows = z.array(EventRow).parse(db.prepare("select at, task_id, type, data from events where run_id = ? order by seq").all(runId));
    } finally {
      db.close();
    }
    const started = rows.find((r) => r.type === "run.started")?.at ?? Number.NaN;
    const finished = rows.find((r) => r.type === "run.finished")?.at ?? Number.NaN;
    const agentMs = rows.filter((r) => r.type === "attempt.exited").map((r) => Exited.parse(JSON.parse(r.data)).durationMs);
    const collected = rows.filter((r) => r.type === "run.collected").length;
    const work = agentMs.reduce((a, b) => a + b, 0);
    const bound = Math.max(Math.max(...agentMs), work / s.concurrency);
    const makespan = finished - started;

    // Warm-up: the first minute (a fifth of a short run); memory is then compared with the run's last stretch.
    const first = samples[0]?.at ?? 0;
    const last = samples.at(-1)?.at ?? 0;
    const span = last - first;
    const warm = first + Math.min(60_000, span / 5);
    const window = Math.min(30_000, span / 10);
    const after = samples.filter((x) => x.at >= warm);
    const early = after.filter((x, i) => i === 0 || x.at <= warm + window);
    const late = samples.filter((x, i) => i === samples.length - 1 || x.at >= last - window);
    const rssWarm = median(early.map((x) => x.rss));
    const rssEnd = median(late.map((x) => x.rss));
    const growth = rssEnd - rssWarm;
    const fdsWarm = median(early.map((x) => x.fds));
    const fdsMax = Math.max(...after.map((x) => x.fds));
    const fdsEnd = median(late.map((x) => x.fds));
    const counts = samples.map((x) => x.worktrees).filter((n) => Number.isFinite(n));
    const peak = Math.max(...counts);
    // Each slot's task and one spare per slot (made ahead, or being removed); besides them, two in the merge queue.
    const bounded = 2 * s.concurrency + 2;
    const leftAfter = taskWorktrees(repo.root);

    const notes = [
      `${samples.length} samples over ${(span / 1000).toFixed(0)} s; RSS at warm-up ${mb(rssWarm)}, at the end ${mb(rssEnd)}, peak ${mb(Math.max(...samples.map((x) => x.rss)))} (about ${((growth / s.tasks) / 1024).toFixed(1)} KB a task)`,
      `open descriptors: ${fdsWarm} at warm-up, ${fdsEnd} at the end, at most ${fdsMax} (${((after.find((x) => x.fds === fdsMax)?.at ?? first) - first) / 1000} s in); by the minute: ${perMinute(samples, (x) => x.fds)}`,
      `task worktrees by the minute (max): ${perMinute(samples, (x) => x.worktrees)}; RSS by the minute (MB): ${perMinute(samples, (x) => Math.round(x.rss / 1024 / 1024))}`,
      `task worktrees on disk: peak ${peak}, median ${median(counts)}, ${leftAfter} left after the run; ${collected} run.collected events journaled`,
      `makespan ${(makespan / 1000).toFixed(1)} s; bound ${(bound / 1000).toFixed(1)} s (agents' measured work ${(work / 1000).toFixed(0)} s / ${s.concurrency})`,
    ];
    const metric = (label: string, figure: number, unit: "bytes" | "count" | "ms", target: string, pass: boolean, bases: BenchResult["metrics"][number]["baselines"] = []) => ({
      bench: "soak",
      label,
      figure,
      unit,
      baselines: bases,
      target,
      pass,
    });
    return {
      name: "soak",
      notes,
      metrics: [
        metric("RSS growth after warm-up", growth, "bytes", "≤ 10 MB", growth <= TARGET_RSS_GROWTH, [baseline("RSS at warm-up", rssWarm, "bytes", growth)]),
        metric("open fds growth after warm-up", fdsEnd - fdsWarm, "count", `≤ ${TARGET_FD_GROWTH}`, fdsEnd - fdsWarm <= TARGET_FD_GROWTH, [baseline("fds at warm-up", fdsWarm, "count", fdsEnd - fdsWarm)]),
        metric("task worktrees on disk, peak", peak, "count", `≤ ${bounded} (2 × concurrency + 2)`, peak <= bounded && leftAfter === 0, [baseline("concurrency", s.concurrency, "count", peak)]),
        metric("makespan", makespan, "ms", `≤ ${TARGET_RATIO.toFixed(2)}x bound`, makespan <= bound * TARGET_RATIO, [baseline("bound", bound, "ms", makespan)]),
      ],
    };
  } finally {
    repo.dispose();
  }
}

if (isMain(import.meta.url)) await runBenchMain(benchSoak);
