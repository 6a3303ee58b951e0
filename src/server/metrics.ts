// `/metrics`: orch's figures from the journal, read fresh on each scrape, plus the server's own (its live streams).
// Counters are totals the journal holds (they only grow while it is kept); gauges are what stands now. Labels are
// bounded sets (statuses, failure kinds, agents and models), never free text.
import { PACING_REASON } from "../core/figures.js";
import { readRecovery } from "../engine/figures.js";
import { isTerminalRun, TERMINAL_RUN_STATUSES, type RunStatus } from "../core/run.js";
import { TERMINAL_TASK_STATUSES } from "../core/task.js";
import { FAILURE_KINDS } from "../core/failure.js";
import { supervisorAlive } from "../engine/lease.js";
import type { RunRecord, Store } from "../store/store.js";
import { renderFamilies, Tally, type Family } from "./prometheus.js";
import type { SseCounters } from "./sse.js";

const RUN_STATUSES: readonly RunStatus[] = ["pending", "planning", "running", "paused", "waiting", ...TERMINAL_RUN_STATUSES];
const TASK_STATUSES = ["pending", "running", ...TERMINAL_TASK_STATUSES] as const;

/** What one run adds to the counters; a run that has ended adds the same until it changes. */
interface RunCounters {
  attempts: Tally;
  failures: Map<string, number>;
  calls: Tally;
  tokens: Tally;
  cost: Tally;
  interrupted: number;
  recovered: number;
  escalated: number;
  waitedMs: number;
  waits: number;
  /** Attempts under way now (a running run's). */
  busy: number;
}

/**
 * The counters of runs that have ended, kept between scrapes: a journal with a long history is read once, not on
 * every scrape (a Prometheus scrapes every 15 s). A run that changes (resumed, given more attempts) is read again.
 */
export class EndedRunCounters {
  readonly #kept = new Map<string, { version: string; counters: RunCounters }>();

  async of(store: Store, run: RunRecord): Promise<RunCounters> {
    if (!isTerminalRun(run.status)) return countRun(store, run);
    const version = `${run.status}|${run.endedAt ?? ""}|${run.attempts}`;
    const kept = this.#kept.get(run.id);
    if (kept?.version === version) return kept.counters;
    const counters = await countRun(store, run);
    this.#kept.set(run.id, { version, counters });
    return counters;
  }

  /** Forgets runs that are no longer in the journal (`orch gc` may delete them). */
  keepOnly(ids: ReadonlySet<string>): void {
    for (const id of this.#kept.keys()) if (!ids.has(id)) this.#kept.delete(id);
  }
}

async function countRun(store: Store, run: RunRecord): Promise<RunCounters> {
  const { attempts: runAttempts, retriesByAttempt, waits, figures } = await readRecovery(store, run.id);
  const counters: RunCounters = {
    attempts: new Tally(),
    failures: new Map(),
    calls: new Tally(),
    tokens: new Tally(),
    cost: new Tally(),
    interrupted: figures.interrupted,
    recovered: figures.recovered,
    escalated: figures.escalated,
    waitedMs: figures.waitedMs,
    waits: waits.filter((w) => w.reason !== PACING_REASON).length,
    busy: runAttempts.filter((a) => a.status === "starting" || a.status === "running" || a.status === "verifying").length,
  };
  for (const a of runAttempts) {
    const labels = { agent: a.agent, model: a.model ?? "default" };
    counters.attempts.add({ ...labels, status: a.status }, 1);
    if (a.status === "failed" && a.failure !== undefined) counters.failures.set(a.failure.kind, (counters.failures.get(a.failure.kind) ?? 0) + 1);
    counters.calls.add(labels, 1 + (retriesByAttempt.get(a.id)?.count ?? 0));
    if (a.usage !== undefined) {
      counters.tokens.add({ ...labels, kind: "input" }, a.usage.inputTokens);
      counters.tokens.add({ ...labels, kind: "output" }, a.usage.outputTokens);
      counters.tokens.add({ ...labels, kind: "cache_read" }, a.usage.cacheReadTokens ?? 0);
      counters.tokens.add({ ...labels, kind: "cache_write" }, a.usage.cacheWriteTokens ?? 0);
    }
    if (a.costUsd !== undefined) counters.cost.add(labels, a.costUsd);
  }
  return counters;
}

export async function renderMetrics(store: Store, sse: SseCounters, ended = new EndedRunCounters(), now = Date.now()): Promise<string> {
  const runs = await store.listRuns();
  ended.keepOnly(new Set(runs.map((r) => r.id)));
  const runsByStatus = new Map<string, number>(RUN_STATUSES.map((s) => [s, 0]));
  let stale = 0;
  const liveTasks = new Map<string, number>(TASK_STATUSES.map((s) => [s, 0]));
  let waitingTasks = 0;
  let slots = 0;
  let busy = 0;
  const attempts = new Tally();
  const failures = new Map<string, number>(FAILURE_KINDS.map((k) => [k, 0]));
  const calls = new Tally();
  const tokens = new Tally();
  const cost = new Tally();
  let interrupted = 0;
  let recovered = 0;
  let escalated = 0;
  let waitedMs = 0;
  let waits = 0;
  for (const run of runs) {
    runsByStatus.set(run.status, (runsByStatus.get(run.status) ?? 0) + 1);
    if (supervisorAlive(run, now) === false) stale++;
    const counters = await ended.of(store, run);
    attempts.addAll(counters.attempts);
    calls.addAll(counters.calls);
    tokens.addAll(counters.tokens);
    cost.addAll(counters.cost);
    for (const [kind, n] of counters.failures) failures.set(kind, (failures.get(kind) ?? 0) + n);
    interrupted += counters.interrupted;
    recovered += counters.recovered;
    escalated += counters.escalated;
    waitedMs += counters.waitedMs;
    waits += counters.waits;
    if (!isTerminalRun(run.status)) {
      const tasks = await store.listTasks(run.id);
      for (const t of tasks) {
        liveTasks.set(t.status, (liveTasks.get(t.status) ?? 0) + 1);
        if (t.waitingUntil !== undefined && t.waitingUntil > now) waitingTasks++;
      }
      if (run.status === "running" && supervisorAlive(run, now) === true) {
        slots += run.settings.concurrency;
        busy += counters.busy;
      }
    }
  }
  const memory = process.memoryUsage();
  const families: Family[] = [
    { name: "orch_runs", help: "Runs in the journal by status.", type: "gauge", samples: [...runsByStatus].map(([status, value]) => ({ labels: { status }, value })) },
    { name: "orch_runs_stale", help: "Runs the journal calls driven whose supervisor is gone.", type: "gauge", samples: [{ value: stale }] },
    { name: "orch_tasks", help: "Tasks of runs that have not ended, by status (pending ones are the queue).", type: "gauge", samples: [...liveTasks].map(([status, value]) => ({ labels: { status }, value })) },
    { name: "orch_tasks_waiting", help: "Tasks waiting now before their next attempt (a limit's reset, a backoff).", type: "gauge", samples: [{ value: waitingTasks }] },
    { name: "orch_slots", help: "Agent slots of running runs: configured (their concurrency) and busy (attempts under way).", type: "gauge", samples: [{ labels: { state: "configured" }, value: slots }, { labels: { state: "busy" }, value: busy }] },
    { name: "orch_attempts_total", help: "Attempts by agent, model and status.", type: "counter", samples: attempts.samples() },
    { name: "orch_attempt_failures_total", help: "Failed attempts by failure kind.", type: "counter", samples: [...failures].map(([kind, value]) => ({ labels: { kind }, value })) },
    { name: "orch_attempts_interrupted_total", help: "Attempts stopped from outside (Ctrl-C, abort, a drain, the time limit).", type: "counter", samples: [{ value: interrupted }] },
    { name: "orch_recoveries_total", help: "Agent failures recovered without a human (a later attempt got the work done) or escalated.", type: "counter", samples: [{ labels: { outcome: "recovered" }, value: recovered }, { labels: { outcome: "escalated" }, value: escalated }] },
    { name: "orch_model_calls_total", help: "Model calls by agent and model: one per attempt plus the CLI's own retries.", type: "counter", samples: calls.samples() },
    { name: "orch_tokens_total", help: "Tokens the agents reported, by agent, model and kind.", type: "counter", samples: tokens.samples() },
    { name: "orch_cost_usd_total", help: "Cost the agents reported, in US dollars, by agent and model.", type: "counter", samples: cost.samples() },
    { name: "orch_waits_total", help: "Waits between attempts on limits, quotas and backoff (not the pacing interval).", type: "counter", samples: [{ value: waits }] },
    { name: "orch_wait_seconds_total", help: "Time waited on limits, quotas and backoff, by orch and by the agent CLIs.", type: "counter", samples: [{ value: waitedMs / 1000 }] },
    { name: "orch_server_resident_memory_bytes", help: "The server process's resident memory.", type: "gauge", samples: [{ value: memory.rss }] },
    { name: "orch_server_heap_bytes", help: "The server's JavaScript heap: used and total.", type: "gauge", samples: [{ labels: { kind: "used" }, value: memory.heapUsed }, { labels: { kind: "total" }, value: memory.heapTotal }] },
    { name: "orch_server_external_bytes", help: "Memory held outside the JavaScript heap (buffers) by the server.", type: "gauge", samples: [{ value: memory.external }] },
    { name: "orch_server_sse_clients", help: "Live event streams open now.", type: "gauge", samples: [{ value: sse.connected }] },
    { name: "orch_server_sse_dropped_clients_total", help: "Streams closed with a refetch because the client fell too far behind.", type: "counter", samples: [{ value: sse.dropped }] },
    { name: "orch_server_sse_events_sent_total", help: "Events written to live streams.", type: "counter", samples: [{ value: sse.framesSent }] },
  ];
  return renderFamilies(families);
}
