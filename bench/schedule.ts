// Scheduling of planned runs: a seeded random DAG of 200 tasks whose `command` agents sleep for their task's
// duration, run by the built `orch run --plan-file --concurrency 8`. From the journal: the makespan against the
// lower bound max(critical path, total work / 8) of the agents' measured durations (target ≤ 1.05x), and the gap
// from a task's last dependency finishing to the task starting (target median < 50 ms). git's own trace
// (GIT_TRACE2_EVENT) times every git command orch runs, so the notes can say where each task's overhead goes.
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { join, resolve } from "node:path";
import BetterSqlite3 from "better-sqlite3";
import { z } from "zod";
import { TaskGraph } from "../src/core/dag.js";
import type { PlanInput } from "../src/core/plan.js";
import { startProcess } from "../test/support/cli.js";
import { envNumber } from "./support/env-number.js";
import { seeded } from "./support/seeded.js";
import { isMain, runBenchMain, say } from "./support/main.js";
import { worktreesRoot } from "../src/engine/paths.js";
import { makeRepo, shellQuote, type BenchRepo } from "./support/repo.js";
import { baseline, type BenchResult } from "./support/result.js";
import { timeSpawn } from "./support/spawn.js";

// From dist-bench/bench/: the orch a user runs (`npm run build`), not dist-bench's.
const ROOT = resolve(import.meta.dirname, "../..");
const ORCH_MAIN = resolve(ROOT, "dist/cli/main.js");
/** Real agent turns last minutes: tasks of 1–5 s are the figure; 0.3–2 s is a stress figure, where orch's own work per task shows. */
const PROFILES = [
  { range: "1-5", target: 1.03, tag: "" },
  { range: "0.3-2", target: 1.06, tag: " (stress: 0.3–2 s tasks)" },
] as const;
const TARGET_GAP_MS = 20;
const RUN_TIMEOUT_MS = 8 * 60_000;
/** Bare `git worktree add` timings, the context of the gap. */
const WORKTREE_SAMPLES = 5;
/** Resolution of the free-slot accounting. */
const SAMPLE_MS = 5;
/** How often the orch process's main thread is sampled. */
const CPU_SAMPLE_MS = 100;

interface Settings {
  tasks: number;
  seed: number;
  concurrency: number;
  minMs: number;
  maxMs: number;
}

function settings(range: string): Settings {
  const match = /^(\d+(?:\.\d+)?)-(\d+(?:\.\d+)?)$/.exec(range);
  const [minMs, maxMs] = [Number(match?.[1]) * 1000, Number(match?.[2]) * 1000];
  if (match === null || !(minMs <= maxMs)) throw new Error(`ORCH_BENCH_SCHEDULE_DURATIONS must be MIN-MAX in seconds (0.3-2), got ${range}`);
  return {
    tasks: envNumber("ORCH_BENCH_SCHEDULE_TASKS", 200, 2),
    seed: envNumber("ORCH_BENCH_SCHEDULE_SEED", 1, 0),
    concurrency: envNumber("ORCH_BENCH_SCHEDULE_CONCURRENCY", 8, 1),
    minMs,
    maxMs,
  };
}

// ---- the graph -------------------------------------------------------------------------------------------

interface BenchTask {
  id: string;
  dependsOn: string[];
  /** What its agent sleeps. */
  sleepMs: number;
}

/**
 * One task in fifty is a root; every other task depends on one or two (even odds, 1.5 on average) distinct tasks
 * among the 3 × concurrency tasks before it, so the graph is as wide as a few rounds of slots and its critical path
 * is about as long as total work / concurrency: both halves of the bound matter. Durations are uniform, to 10 ms.
 */
function randomDag(s: Settings): BenchTask[] {
  const random = seeded(s.seed);
  const roots = Math.max(1, Math.round(s.tasks / 50));
  const window = 3 * s.concurrency;
  const id = (i: number) => `t${String(i + 1).padStart(String(s.tasks).length, "0")}`;
  const tasks: BenchTask[] = [];
  for (let i = 0; i < s.tasks; i++) {
    const deps = new Set<number>();
    if (i >= roots) {
      const want = random() < 0.5 ? 1 : 2;
      const low = Math.max(0, i - window);
      while (deps.size < Math.min(want, i - low)) deps.add(low + Math.floor(random() * (i - low)));
    }
    const sleepMs = Math.round((s.minMs + random() * (s.maxMs - s.minMs)) / 10) * 10;
    tasks.push({ id: id(i), dependsOn: [...deps].sort((a, b) => a - b).map(id), sleepMs });
  }
  return tasks;
}

function planOf(tasks: readonly BenchTask[]): PlanInput {
  return {
    tasks: tasks.map((t) => ({
      id: t.id,
      title: `sleep ${t.id}`,
      goal: `sleep ${(t.sleepMs / 1000).toFixed(2)} s, then write out/${t.id}.txt`,
      acceptance: [`out/${t.id}.txt exists`],
      files: [`out/${t.id}.txt`],
      dependsOn: t.dependsOn,
    })),
  };
}

// ---- the run ---------------------------------------------------------------------------------------------

const RunJson = z.object({ runId: z.string(), status: z.string(), reason: z.string().nullable().optional() });

interface RunOutcome {
  runId: string;
  cliMs: number;
  tracePath: string;
  cpu: CpuSample[];
}

/** The orch process's main thread (its event loop), from /proc/<pid>/task/<pid>/schedstat. */
interface CpuSample {
  at: number;
  /** On a CPU, ns. */
  runNs: number;
  /** Runnable, waiting for a CPU, ns. */
  waitNs: number;
}

function mainThread(pid: number): CpuSample | undefined {
  try {
    const [run, wait] = readFileSync(`/proc/${pid}/task/${pid}/schedstat`, "utf8").trim().split(/\s+/).map(Number);
    return run === undefined || wait === undefined ? undefined : { at: Date.now(), runNs: run, waitNs: wait };
  } catch {
    return undefined; // gone, or no schedstat on this kernel
  }
}

/** Share of the wall time in [from, to] the thread spent on a CPU and waiting for one, from the samples around it. */
function cpuShare(samples: readonly CpuSample[], from: number, to: number): { run: number; wait: number } | undefined {
  const first = [...samples].reverse().find((s) => s.at <= from) ?? samples[0];
  const last = samples.find((s) => s.at >= to) ?? samples.at(-1);
  if (first === undefined || last === undefined || last.at <= first.at) return undefined;
  const wall = (last.at - first.at) * 1e6;
  return { run: (last.runNs - first.runNs) / wall, wait: (last.waitNs - first.waitNs) / wall };
}

async function runPlan(repo: BenchRepo, s: Settings, tasks: readonly BenchTask[]): Promise<RunOutcome> {
  // Each task's duration in a file of its own: the agent reads it with a shell builtin, sleeps, writes its file.
  const durations = join(repo.tmp, "durations");
  mkdirSync(durations);
  for (const t of tasks) writeFileSync(join(durations, t.id), `${(t.sleepMs / 1000).toFixed(2)}\n`);
  const agent = `read d < ${shellQuote(durations)}/"$ORCH_TASK_ID"; sleep "$d"; echo "$ORCH_TASK_ID" > out/"$ORCH_TASK_ID".txt`;
  const planPath = join(repo.tmp, "plan.json");
  writeFileSync(planPath, JSON.stringify(planOf(tasks), null, 2));
  const tracePath = join(repo.tmp, "git-trace.jsonl");
  const args = ["run", "sleep through a random task graph", "--verify", "true", "--plan-file", planPath, "--concurrency", String(s.concurrency)];
  args.push("--agent-command", agent, "--max-attempts", "1", "--json");
  const orch = startProcess(process.execPath, [ORCH_MAIN, ...args], {
    cwd: repo.root,
    env: { ...process.env, GIT_TRACE2_EVENT: tracePath },
    timeoutMs: RUN_TIMEOUT_MS,
  });
  const cpu: CpuSample[] = [];
  const sampler = setInterval(() => {
    const sample = mainThread(orch.pid);
    if (sample !== undefined) cpu.push(sample);
  }, CPU_SAMPLE_MS);
  const result = await orch.done.finally(() => clearInterval(sampler));
  if (result.timedOut) throw new Error(`orch run was killed after ${RUN_TIMEOUT_MS / 1000} s`);
  let out: z.infer<typeof RunJson>;
  try {
    out = RunJson.parse(JSON.parse(result.stdout));
  } catch (error) {
    throw new Error(`orch run exited ${String(result.code)} without its JSON: ${result.stderr.slice(-2_000)}`, { cause: error });
  }
  if (out.status !== "succeeded") throw new Error(`the run ended ${out.status}: ${out.reason ?? ""}`);
  return { runId: out.runId, cliMs: result.ms, tracePath, cpu };
}

// ---- the journal -----------------------------------------------------------------------------------------

const EventRow = z.object({ at: z.number(), task_id: z.string().nullable(), type: z.string(), data: z.string() });
const Exited = z.object({ durationMs: z.number() });
const Finished = z.object({ commit: z.string().optional() });

const STEPS = ["task.started", "attempt.started", "attempt.exited", "verify.completed", "attempt.finished", "task.assessed", "task.integrated", "task.finished"] as const;
type Step = (typeof STEPS)[number];
const isStep = (type: string): type is Step => STEPS.some((s) => s === type);

/** One task's way through the run, epoch ms (one attempt each: --max-attempts 1). */
interface Timeline {
  task: BenchTask;
  at: Record<Step, number>;
  /** The agent's process, spawn to exit (attempt.exited's durationMs). */
  agentMs: number;
  /** When its last dependency finished (run.started for a root), and which one that was. */
  ready: number;
  gate: string | undefined;
  /** The commit its attempt made (attempt.finished's). */
  commit: string | undefined;
}

interface Journal {
  started: number;
  finished: number;
  timelines: Timeline[];
  /** Tasks the plan did not have (integrators of conflicts: there should be none). */
  extra: string[];
}

function readJournal(dbPath: string, runId: string, tasks: readonly BenchTask[]): Journal {
  const db = new BetterSqlite3(dbPath, { readonly: true });
  let rows: z.infer<typeof EventRow>[];
  try {
    rows = z.array(EventRow).parse(db.prepare("select at, task_id, type, data from events where run_id = ? order by seq").all(runId));
  } finally {
    db.close();
  }
  const runAt = (type: string) => rows.find((r) => r.type === type)?.at ?? Number.NaN;
  const seen = new Map<string, Partial<Record<Step, number>> & { agentMs?: number; commit?: string }>();
  for (const row of rows) {
    const step = row.type;
    if (row.task_id === null || !isStep(step)) continue;
    const entry = seen.get(row.task_id) ?? {};
    entry[step] ??= row.at;
    if (step === "attempt.exited") entry.agentMs ??= Exited.parse(JSON.parse(row.data)).durationMs;
    if (step === "attempt.finished") entry.commit ??= Finished.parse(JSON.parse(row.data)).commit;
    seen.set(row.task_id, entry);
  }
  const started = runAt("run.started");
  const partial = tasks.map((task) => {
    const entry = seen.get(task.id) ?? {};
    const get = (step: Step): number => {
      const at = entry[step];
      if (at === undefined) throw new Error(`task ${task.id} has no ${step} in the journal`);
      return at;
    };
    const at: Record<Step, number> = {
      "task.started": get("task.started"),
      "attempt.started": get("attempt.started"),
      "attempt.exited": get("attempt.exited"),
      "verify.completed": get("verify.completed"),
      "attempt.finished": get("attempt.finished"),
      "task.assessed": get("task.assessed"),
      "task.integrated": get("task.integrated"),
      "task.finished": get("task.finished"),
    };
    return { task, at, agentMs: entry.agentMs ?? 0, commit: entry.commit };
  });
  const finishedAt = new Map(partial.map((t) => [t.task.id, t.at["task.finished"]]));
  const timelines = partial.map((t): Timeline => {
    let ready = started;
    let gate: string | undefined;
    for (const dep of t.task.dependsOn) {
      const at = finishedAt.get(dep) ?? Number.NaN;
      if (gate === undefined || at > ready) [ready, gate] = [at, dep];
    }
    return { ...t, ready, gate };
  });
  const known = new Set(tasks.map((t) => t.id));
  return { started, finished: runAt("run.finished"), timelines, extra: [...seen.keys()].filter((id) => !known.has(id)) };
}

// ---- git's trace -----------------------------------------------------------------------------------------

const TraceLine = z.object({
  event: z.string(),
  sid: z.string(),
  time: z.string(),
  argv: z.array(z.string()).optional(),
  worktree: z.string().optional(),
});

/** One git process orch started (git's own children are inside it). */
interface GitCall {
  start: number;
  end: number;
  args: string[];
  cwd: string | undefined;
}

/** `2026-11-21T09:55:33.664200Z` → epoch ms, keeping the microseconds. */
const traceMs = (time: string): number => Date.parse(`${time.slice(0, 19)}Z`) + Number(`0${time.slice(19, -1)}`) * 1000;

function readGitTrace(path: string): GitCall[] {
  const open = new Map<string, Omit<GitCall, "end">>();
  const calls: GitCall[] = [];
  for (const line of readFileSync(path, "utf8").split("\n")) {
    if (!/"event":"(start|def_repo|exit)"/.test(line)) continue;
    const parsed = TraceLine.safeParse(JSON.parse(line));
    // A sid with a slash is a git that git started: its time is inside its parent's.
    if (!parsed.success || parsed.data.sid.includes("/")) continue;
    const { event, sid, time, argv, worktree } = parsed.data;
    if (event === "start") open.set(sid, { start: traceMs(time), args: (argv ?? []).slice(1), cwd: undefined });
    const call = open.get(sid);
    if (call === undefined) continue;
    if (event === "def_repo") call.cwd = worktree;
    if (event === "exit") {
      calls.push({ ...call, end: traceMs(time) });
      open.delete(sid);
    }
  }
  return calls.sort((a, b) => a.start - b.start);
}

const PHASES = ["setup", "start", "commit", "merge", "finish", "other"] as const;
type Phase = (typeof PHASES)[number];

interface Attributed {
  call: GitCall;
  phase: Phase;
  task: string | undefined;
}

/**
 * Which step of which task a git call served. Starting a task: its worktree made (`worktree add` naming it, at the
 * root) or moved (a reset in it) before its task.started, often well before: worktrees are made ahead. In a task's
 * worktree up to attempt.finished: its commit (one script: add, commit, rev-parse); after: anything else
 * ("finish"). Merges are serial in the run branch's worktree: each begins with `merge-tree <tip> <the task's
 * commit>` and holds every call there until the next one begins.
 */
function attribute(calls: readonly GitCall[], journal: Journal, runId: string, root: string) {
  const byId = new Map(journal.timelines.map((t) => [t.task.id, t]));
  const byCommit = new Map(journal.timelines.flatMap((t) => (t.commit === undefined ? [] : [[t.commit, t.task.id] as const])));
  const worktrees = join(worktreesRoot(root, process.env).dir, runId);
  const integration = join(worktrees, "_run");
  // A task's branch (`orch/<run>/<task>`) or its worktree (`<folder>/<run>/<task>`) names it.
  const pattern = new RegExp(`/${runId}/([a-z0-9][a-z0-9-]*)`, "g");
  const named = (call: GitCall): string | undefined =>
    [...`${call.args.join(" ")} ${call.cwd ?? ""}`.matchAll(pattern)].map((m) => m[1]).find((id) => id !== undefined && byId.has(id));

  const mergeStart = new Map<string, number>();
  let merging: string | undefined;
  const attributed = calls.map((call): Attributed => {
    if (call.start < journal.started) return { call, phase: "setup", task: named(call) };
    if (call.cwd === integration) {
      const of = call.args[0] === "merge-tree" ? byCommit.get(call.args.at(-1) ?? "") : undefined;
      if (of !== undefined && !mergeStart.has(of)) mergeStart.set(of, call.start);
      merging = of ?? merging;
      return merging === undefined ? { call, phase: "other", task: undefined } : { call, phase: "merge", task: merging };
    }
    const id = named(call);
    const t = id === undefined ? undefined : byId.get(id);
    if (t === undefined) return { call, phase: "other", task: undefined };
    if (call.start < t.at["task.started"]) return { call, phase: "start", task: id };
    return { call, phase: call.start < t.at["attempt.finished"] ? "commit" : "finish", task: id };
  });
  return { attributed, mergeStart };
}

/** Per task, the time between one of its git calls in a step ending and the next starting: spawning, noticing. */
function between(attributed: readonly Attributed[], phase: Phase): number[] {
  const byTask = new Map<string, GitCall[]>();
  for (const a of attributed) if (a.phase === phase && a.task !== undefined) byTask.set(a.task, [...(byTask.get(a.task) ?? []), a.call]);
  return [...byTask.values()].flatMap((list) => list.slice(1).map((call, i) => call.start - (list[i]?.end ?? call.start)));
}

// ---- analysis --------------------------------------------------------------------------------------------

function quantile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const pos = (sorted.length - 1) * q;
  const low = sorted[Math.floor(pos)] ?? 0;
  const high = sorted[Math.ceil(pos)] ?? low;
  return low + (high - low) * (pos - Math.floor(pos));
}
const median = (values: readonly number[]) => quantile(values, 0.5);
const sum = (values: readonly number[]) => values.reduce((a, b) => a + b, 0);

/** Greedy list scheduling with no overhead at all: whenever a slot is free, the first ready task in `rank` order. */
function listSchedule(deps: readonly number[][], duration: readonly number[], slots: number, rank: readonly number[]): number {
  const end: number[] = duration.map(() => Infinity);
  const started = duration.map(() => false);
  let now = 0;
  let running: number[] = [];
  let left = duration.length;
  while (left > 0) {
    const ready = duration.map((_, i) => i).filter((i) => !started[i] && (deps[i] ?? []).every((d) => (end[d] ?? Infinity) <= now));
    ready.sort((a, b) => (rank[a] ?? 0) - (rank[b] ?? 0));
    for (const i of ready.slice(0, slots - running.length)) {
      started[i] = true;
      end[i] = now + (duration[i] ?? 0);
      running.push(i);
    }
    if (running.length === 0) throw new Error("the simulated schedule is stuck");
    now = Math.min(...running.map((i) => end[i] ?? Infinity));
    const still = running.filter((i) => (end[i] ?? Infinity) > now);
    left -= running.length - still.length;
    running = still;
  }
  return now;
}

/**
 * A list schedule where each task also holds its slot `holdMs` beyond its duration and then waits for a merge
 * queue that takes `mergeMs` a task, one at a time, most urgent (lowest rank) first; a dependent is ready once its
 * dependencies are merged. Exact event times, no other latency.
 */
function queuedSchedule(deps: readonly number[][], duration: readonly number[], slots: number, rank: readonly number[], holdMs: number, mergeMs: number, gateMs: number): number {
  const n = duration.length;
  const merged = duration.map(() => Infinity);
  const started = duration.map(() => false);
  let running: { task: number; frees: number }[] = [];
  /** Out of its slot, judged by the approval gate until `at`, then in the merge queue. */
  let judged: { task: number; at: number }[] = [];
  const queue: number[] = [];
  let merging: { task: number; ends: number } | undefined;
  let now = 0;
  let done = 0;
  const startReady = () => {
    const ready = duration.map((_, i) => i).filter((i) => !started[i] && (deps[i] ?? []).every((d) => (merged[d] ?? Infinity) <= now));
    ready.sort((a, b) => (rank[a] ?? 0) - (rank[b] ?? 0));
    for (const task of ready.slice(0, slots - running.length)) {
      started[task] = true;
      running.push({ task, frees: now + (duration[task] ?? 0) + holdMs });
    }
  };
  startReady();
  while (done < n) {
    now = Math.min(merging?.ends ?? Infinity, ...running.map((r) => r.frees), ...judged.map((j) => j.at));
    if (now === Infinity) throw new Error("the simulated schedule is stuck");
    judged.push(...running.filter((r) => r.frees === now).map((r) => ({ task: r.task, at: now + gateMs })));
    running = running.filter((r) => r.frees !== now);
    queue.push(...judged.filter((j) => j.at === now).map((j) => j.task));
    judged = judged.filter((j) => j.at !== now);
    for (;;) {
      if (merging !== undefined && merging.ends === now) {
        merged[merging.task] = now;
        done++;
        merging = undefined;
      }
      if (merging !== undefined || queue.length === 0) break;
      queue.sort((a, b) => (rank[a] ?? 0) - (rank[b] ?? 0));
      const next = queue.shift() ?? 0;
      merging = { task: next, ends: now + mergeMs };
    }
    startReady();
  }
  return Math.max(...merged);
}

/** Longest remaining chain of work from each task (its own included): the classic critical-path priority. */
function bottomLevels(deps: readonly number[][], duration: readonly number[]): number[] {
  const level = duration.map(() => 0);
  for (let i = duration.length - 1; i >= 0; i--) {
    level[i] = (level[i] ?? 0) + (duration[i] ?? 0);
    for (const d of deps[i] ?? []) level[d] = Math.max(level[d] ?? 0, level[i] ?? 0);
  }
  return level;
}

/**
 * When each task could have started: once it was ready and a slot was free for it. Slots are held from
 * task.started to attempt.finished; a task that found every slot held waited for the one that freed last before
 * it started.
 */
function eligibleAt(timelines: readonly Timeline[], slots: number): number[] {
  return timelines.map((t) => {
    const others = timelines.filter((o) => o !== t);
    const held = (at: number) => others.filter((o) => o.at["task.started"] <= at && at < o.at["attempt.finished"]).length;
    const start = t.at["task.started"];
    const points = [t.ready, ...others.flatMap((o) => [o.at["task.started"], o.at["attempt.finished"]]).filter((p) => p > t.ready && p < start)];
    points.sort((a, b) => a - b);
    let eligible = t.ready;
    points.forEach((p, i) => {
      if (held(p) >= slots) eligible = points[i + 1] ?? start;
    });
    return Math.min(eligible, start);
  });
}

/**
 * Slot time with no agent in it, sampled: held by orch around an agent (spawn, verify, commit); free
 * while a task was ready (scheduling latency); free while tasks waited only on work that was done but not yet
 * merged (the merge queue); free with nothing to run (the graph's shape, the tail).
 */
function slotAccount(journal: Journal, slots: number): { agent: number; held: number; readyWaiting: number; mergeWaiting: number; nothing: number } {
  const { timelines } = journal;
  const done = new Map(timelines.map((t) => [t.task.id, t.at["attempt.finished"]]));
  const workDone = timelines.map((t) => Math.max(journal.started, ...t.task.dependsOn.map((d) => done.get(d) ?? Infinity)));
  const account = { agent: sum(timelines.map((t) => t.agentMs)), held: 0, readyWaiting: 0, mergeWaiting: 0, nothing: 0 };
  account.held = sum(timelines.map((t) => t.at["attempt.finished"] - t.at["task.started"])) - account.agent;
  for (let at = journal.started; at < journal.finished; at += SAMPLE_MS) {
    let busy = 0;
    let ready = 0;
    let merging = 0;
    timelines.forEach((t, i) => {
      if (t.at["task.started"] <= at && at < t.at["attempt.finished"]) busy++;
      else if (at < t.at["task.started"]) {
        if (t.ready <= at) ready++;
        else if ((workDone[i] ?? Infinity) <= at) merging++;
      }
    });
    const free = Math.max(0, slots - busy);
    const a = Math.min(free, ready);
    const b = Math.min(free - a, merging);
    account.readyWaiting += a * SAMPLE_MS;
    account.mergeWaiting += b * SAMPLE_MS;
    account.nothing += (free - a - b) * SAMPLE_MS;
  }
  return account;
}

// ---- the benchmark ---------------------------------------------------------------------------------------

const ms = (value: number) => `${value.toFixed(value < 10 ? 1 : 0)} ms`;
const sec = (value: number) => `${(value / 1000).toFixed(2)} s`;
/** One step's times per task; with git's calls in it per task: how many, how long. */
const row = (label: string, values: readonly number[], git?: { calls: number; ms: number }[]) =>
  `  ${label.padEnd(50)} median ${ms(median(values)).padStart(8)}  p90 ${ms(quantile(values, 0.9)).padStart(8)}  total ${sec(sum(values)).padStart(8)}` +
  (git === undefined
    ? ""
    : `  (git: ${median(git.map((g) => g.calls)).toFixed(0)} calls, median ${ms(median(git.map((g) => g.ms)))}, ` +
      `${((sum(git.map((g) => g.ms)) / Math.max(1, sum(values))) * 100).toFixed(0)}% of the step)`);

export async function benchSchedule(): Promise<BenchResult> {
  const chosen = process.env.ORCH_BENCH_SCHEDULE_DURATIONS;
  const profiles = chosen === undefined || chosen === "" ? PROFILES : [{ range: chosen, target: settings(chosen).minMs >= 1_000 ? 1.03 : 1.06, tag: ` (${chosen} s tasks)` }];
  const results: BenchResult[] = [];
  for (const profile of profiles) results.push(await scheduleProfile(settings(profile.range), profile.target, profile.tag));
  return { name: "schedule", metrics: results.flatMap((r) => r.metrics), notes: results.flatMap((r) => r.notes) };
}

async function scheduleProfile(s: Settings, targetRatio: number, tag: string): Promise<BenchResult> {
  const repo = makeRepo("schedule");
  try {
    const git = (...args: string[]) => execFileSync("git", args, { cwd: repo.root, stdio: ["ignore", "ignore", "pipe"] });
    // out/ is in the base commit, so each agent writes its file with a shell builtin, nothing to create first.
    mkdirSync(join(repo.root, "out"));
    writeFileSync(join(repo.root, "out", ".keep"), "");
    git("add", "out/.keep");
    git("commit", "--quiet", "-m", "out/");
    const tasks = randomDag(s);
    const graph = new TaskGraph(tasks);
    const edges = sum(tasks.map((t) => t.dependsOn.length));
    say(`schedule: ${s.tasks} tasks (seed ${s.seed}, ${edges} edges, ${tasks.filter((t) => t.dependsOn.length === 0).length} roots), concurrency ${s.concurrency}, sleeps ${sec(s.minMs)}–${sec(s.maxMs)}…`);
    const load = loadavg()[0] ?? 0;
    const run = await runPlan(repo, s, tasks);
    const journal = readJournal(join(repo.root, ".orch", "orch.db"), run.runId, tasks);
    if (journal.extra.length > 0) throw new Error(`the run made tasks the plan did not have (conflicts?): ${journal.extra.join(", ")}`);
    const calls = readGitTrace(run.tracePath);
    const { attributed, mergeStart } = attribute(calls, journal, run.runId, repo.root);
    const bare: number[] = [];
    for (let i = 0; i < WORKTREE_SAMPLES; i++) {
      const timed = await timeSpawn("git", ["worktree", "add", "--quiet", "-b", `bench/wt-${i}`, join(repo.tmp, `wt-${i}`), "HEAD"], repo.root);
      if (timed.exitCode !== 0) throw new Error(`git worktree add exited ${String(timed.exitCode)}`);
      bare.push(timed.ms);
    }

    // The bound, from what the agents really took (sleep plus the shell around it: work that no scheduler saves).
    const { timelines } = journal;
    const agentMs = new Map(timelines.map((t) => [t.task.id, t.agentMs]));
    const measured = (t: BenchTask) => agentMs.get(t.id) ?? 0;
    const critical = graph.criticalPath(measured);
    const work = graph.totalWork(measured);
    const bound = Math.max(critical.length, work / s.concurrency);
    const intended = Math.max(graph.criticalPath((t) => t.sleepMs).length, graph.totalWork((t) => t.sleepMs) / s.concurrency);
    const makespan = journal.finished - journal.started;
    const index = new Map(tasks.map((t, i) => [t.id, i]));
    const deps = tasks.map((t) => t.dependsOn.map((d) => index.get(d) ?? 0));
    const durations = tasks.map(measured);
    // Orch's order among ready tasks: priority (none here), then the longest chain of dependents (counted in
    // tasks: orch does not know durations), then plan position.
    const chains = graph.chainLengths();
    const orchRank = tasks.map((t, i) => -(chains.get(t.id) ?? 0) * tasks.length + i);
    const orchOrder = listSchedule(deps, durations, s.concurrency, orchRank);
    const levels = bottomLevels(deps, durations);
    const cpOrder = listSchedule(deps, durations, s.concurrency, levels.map((l) => -l));

    // The gap: a task's last dependency finished (integrated) → the task started, when a slot was free for it.
    const eligible = eligibleAt(timelines, s.concurrency);
    const gated = timelines.filter((t) => t.gate !== undefined);
    const gaps = gated.map((t) => t.at["task.started"] - t.ready);
    const freeGaps = gated.filter((t) => eligible[timelines.indexOf(t)] === t.ready).map((t) => t.at["task.started"] - t.ready);
    const edgeGaps = gated.flatMap((t) => t.task.dependsOn.map((d) => t.at["task.started"] - (timelines.find((o) => o.task.id === d)?.at["task.finished"] ?? 0)));
    const latency = timelines.map((t, i) => t.at["task.started"] - (eligible[i] ?? t.at["task.started"]));
    const gap = freeGaps.length > 0 ? median(freeGaps) : median(gaps);
    const bareMs = median(bare);

    // Per task, step by step (event times), with the git time inside each step (git's trace).
    const gitOf = (phase: Phase) => (t: Timeline) => {
      const mine = attributed.filter((a) => a.phase === phase && a.task === t.task.id);
      return { calls: mine.length, ms: sum(mine.map((a) => a.call.end - a.call.start)) };
    };
    // Tasks whose worktree stood ready on their base when they started: no git call between ready and started.
    const noGitStart = timelines.filter((t) => !attributed.some((a) => a.phase === "start" && a.task === t.task.id && a.call.end > t.ready)).length;
    const step = (from: (t: Timeline) => number, to: (t: Timeline) => number) => timelines.map((t) => to(t) - from(t));
    const mergeAt = (t: Timeline) => mergeStart.get(t.task.id) ?? t.at["task.integrated"];
    const integrations = [...timelines].sort((a, b) => mergeAt(a) - mergeAt(b));
    const service = integrations.map((t) => t.at["task.integrated"] - mergeAt(t));
    const restart = integrations.slice(1).flatMap((t, i) => {
      const before = integrations[i];
      return before !== undefined && t.at["attempt.finished"] < before.at["task.finished"] ? [mergeAt(t) - before.at["task.finished"]] : [];
    });
    const account = slotAccount(journal, s.concurrency);
    // The work each task needs beyond its agent (verify and commit, in its slot; merge and verify on the run branch,
    // one at a time), at its measured median, with no other latency at all: what the same order could reach.
    const holdMs = median(timelines.map((t) => t.at["attempt.finished"] - t.at["task.started"] - t.agentMs));
    const mergeMs = median(service);
    const gateMs = median(timelines.map((t) => t.at["task.assessed"] - t.at["attempt.finished"]));
    const withWork = queuedSchedule(deps, durations, s.concurrency, orchRank, holdMs, mergeMs, gateMs);
    const cpu = cpuShare(run.cpu, journal.started, journal.finished);
    const capacity = s.concurrency * makespan;
    const share = (value: number) => `${sec(value)} (${((value / capacity) * 100).toFixed(1)}%)`;
    const byCommand = new Map<string, number[]>();
    for (const { call } of attributed.filter((a) => a.phase !== "setup")) {
      const key = call.args.filter((a) => !a.startsWith("-c") && !a.includes("=")).slice(0, call.args[0] === "worktree" ? 2 : 1).join(" ");
      byCommand.set(key, [...(byCommand.get(key) ?? []), call.end - call.start]);
    }
    const commands = [...byCommand].sort((a, b) => sum(b[1]) - sum(a[1])).slice(0, 8);
    const setupCalls = attributed.filter((a) => a.phase === "setup");

    const notes = [
      `graph: ${s.tasks} tasks, ${edges} edges (in-degree 1.5 on average past the roots, from the ${3 * s.concurrency} tasks before), ` +
        `critical path ${critical.tasks.length} tasks; sleeps ${sec(s.minMs)}–${sec(s.maxMs)}, seed ${s.seed}; load average ${load.toFixed(1)} on start`,
      `bound: critical path ${sec(critical.length)}, total work / ${s.concurrency} ${sec(work / s.concurrency)} (agents' measured spawn→exit; the intended sleeps give ${sec(intended)}); ` +
        `orch's own start-up and plan before run.started: ${sec(run.cliMs - makespan)} of the CLI's ${sec(run.cliMs)}, ${setupCalls.length} git calls`,
      `schedules with no overhead at all (same durations): orch's order (longest chain of dependents, in tasks) ${sec(orchOrder)} = ${(orchOrder / bound).toFixed(3)}x the bound; ` +
        `longest-remaining-path first ${sec(cpOrder)} = ${(cpOrder / bound).toFixed(3)}x`,
      `the same order with each task's own work beyond its agent at its measured median and no other delay (held in its slot ${ms(holdMs)}: ` +
        `verify, commit; then judged by the approval gate, ${ms(gateMs)}; then merged one at a time, ${ms(mergeMs)}: merge, verify on the run branch): ${sec(withWork)} = ${(withWork / bound).toFixed(3)}x the bound; ` +
        `orch's makespan is ${(makespan / withWork).toFixed(3)}x that`,
      `parallelism: agents busy ${sec(account.agent)} over ${sec(makespan)} = ${(account.agent / makespan).toFixed(2)} of ${s.concurrency} slots; idle slot time ${sec(capacity - account.agent)}, of which:`,
      `  held by orch around an agent (spawn, verify, commit) ${share(account.held)}; free while a task was ready ${share(account.readyWaiting)}; ` +
        `free while tasks waited on done but unmerged work ${share(account.mergeWaiting)}; free with nothing to run ${share(account.nothing)}`,
      `gap, last dependency finished → started: slot free ${freeGaps.length} tasks median ${ms(median(freeGaps))} p90 ${ms(quantile(freeGaps, 0.9))}; ` +
        `all ${gaps.length} gated tasks median ${ms(median(gaps))} p90 ${ms(quantile(gaps, 0.9))}; all ${edgeGaps.length} edges median ${ms(median(edgeGaps))}; ` +
        `ready with a free slot → started, all ${latency.length} tasks: median ${ms(median(latency))} p90 ${ms(quantile(latency, 0.9))} max ${ms(Math.max(...latency))}`,
      `per task (event times; git's share from its trace):`,
      row("ready with a free slot → task.started", latency, timelines.map(gitOf("start"))),
      row("task.started → attempt.started", step((t) => t.at["task.started"], (t) => t.at["attempt.started"])),
      row("agent: spawn → exit", timelines.map((t) => t.agentMs)),
      row("attempt started→exited, beyond the agent", timelines.map((t) => t.at["attempt.exited"] - t.at["attempt.started"] - t.agentMs)),
      row("verify `true` (exited → verify.completed)", step((t) => t.at["attempt.exited"], (t) => t.at["verify.completed"])),
      row("commit (→ attempt.finished)", step((t) => t.at["verify.completed"], (t) => t.at["attempt.finished"]), timelines.map(gitOf("commit"))),
      row("approval gate: risk judged (→ task.assessed)", step((t) => t.at["attempt.finished"], (t) => t.at["task.assessed"])),
      row("merge queue wait (→ integration starts)", timelines.map((t) => mergeAt(t) - t.at["task.assessed"])),
      row("merge: check, merge, verify on the run branch", service, integrations.map(gitOf("merge"))),
      row("task.integrated → task.finished", step((t) => t.at["task.integrated"], (t) => t.at["task.finished"]), timelines.map(gitOf("finish"))),
      row("attempt.finished → task.finished (dependents wait)", step((t) => t.at["attempt.finished"], (t) => t.at["task.finished"])),
      cpu === undefined
        ? "orch's main thread: no schedstat samples"
        : `orch's main thread (the event loop) over the makespan: on a CPU ${(cpu.run * 100).toFixed(0)}%, runnable but waiting for one ${(cpu.wait * 100).toFixed(0)}%, ` +
          `so busy ${((cpu.run + cpu.wait) * 100).toFixed(0)}% of the time (${run.cpu.length} samples)`,
      `merge queue: busy merging ${sec(sum(service))} of ${sec(makespan)} (${((sum(service) / makespan) * 100).toFixed(0)}%); ` +
        `with a task already waiting, the next merge began ${ms(median(restart))} (median, p90 ${ms(quantile(restart, 0.9))}, total ${sec(sum(restart))}) after the last one's task.finished; ` +
        `${noGitStart} of ${timelines.length} tasks started with no git call (their worktree made ahead and already on their base)`,
      `between one git call of a step and the next (spawn, exit noticed, the event loop): start median ${ms(median(between(attributed, "start")))}, ` +
        `commit ${ms(median(between(attributed, "commit")))}, merge ${ms(median(between(attributed, "merge")))}`,
      `git: ${calls.length - setupCalls.length} calls during the run (${PHASES.filter((p) => p !== "setup").map((p) => `${p} ${attributed.filter((a) => a.phase === p).length}`).join(", ")}), ` +
        `${sec(sum(calls.map((c) => c.end - c.start)) - sum(setupCalls.map((a) => a.call.end - a.call.start)))} in git; ` +
        commands.map(([key, times]) => `${key} ×${times.length} median ${ms(median(times))}`).join(", "),
      `bare \`git worktree add\` in the same repository: ${bare.map((v) => v.toFixed(0)).join(", ")} ms`,
    ];
    return {
      name: "schedule",
      metrics: [
        {
          bench: "schedule",
          label: `makespan, ${s.tasks} tasks at concurrency ${s.concurrency}${tag}`,
          figure: makespan / 1000,
          unit: "s",
          baselines: [baseline("max(critical path, work/N)", bound / 1000, "s", makespan / 1000), baseline("no-overhead schedule, orch's order", orchOrder / 1000, "s", makespan / 1000)],
          target: `≤ ${targetRatio}x the bound`,
          pass: makespan / bound <= targetRatio,
        },
        {
          bench: "schedule",
          label: `dependency finished → dependent started, slot free (median of ${freeGaps.length > 0 ? freeGaps.length : gaps.length})${tag}`,
          figure: gap,
          unit: "ms",
          baselines: [baseline("bare git worktree add", bareMs, "ms", gap)],
          target: `< ${TARGET_GAP_MS} ms`,
          pass: gap < TARGET_GAP_MS,
        },
      ],
      notes,
    };
  } finally {
    repo.dispose();
  }
}

if (isMain(import.meta.url)) await runBenchMain(benchSchedule);
