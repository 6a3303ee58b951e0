// The scheduling figures of a planned run: how far the graph is, how many attempts ("cycles") a task took, how
// long an attempt lasts, how much parallelism the run achieved against its concurrency, how long agent slots
// stood idle, and the share of finished tasks that succeeded. Pure: the callers read the journal.

export interface ScheduleFacts {
  concurrency: number;
  /** When the run started, and when it ended (or now). */
  startedAt: number;
  endedAt: number;
  tasks: readonly { id: string; role: string; status: string }[];
  attempts: readonly { taskId: string; startedAt: number; endedAt: number | undefined }[];
}

export interface ScheduleFigures {
  tasks: { total: number; succeeded: number; failed: number; blocked: number; running: number; pending: number };
  /** Attempts per implementer task that started: convergence cycles. */
  cyclesPerTask: number;
  avgAttemptMs: number;
  /** Agent time over wall time: how many agents worked at once, on average. */
  parallelism: number;
  /** Slot time no agent used: concurrency × wall time − agent time. */
  idleSlotMs: number;
  /** Succeeded / finished implementer tasks; null while none has finished. */
  successRate: number | null;
}

const FAILED = new Set(["failed", "stalled", "aborted", "stopped"]);

export function scheduleFigures(facts: ScheduleFacts): ScheduleFigures {
  const implementers = facts.tasks.filter((t) => t.role === "implementer");
  const count = (test: (status: string) => boolean) => implementers.filter((t) => test(t.status)).length;
  const succeeded = count((s) => s === "succeeded");
  const failed = count((s) => FAILED.has(s));
  const blocked = count((s) => s === "blocked");
  const wall = Math.max(0, facts.endedAt - facts.startedAt);
  const durations = facts.attempts.map((a) => Math.max(0, (a.endedAt ?? facts.endedAt) - a.startedAt));
  const busy = durations.reduce((sum, d) => sum + d, 0);
  const implementerIds = new Set(implementers.map((t) => t.id));
  const started = new Set(facts.attempts.filter((a) => implementerIds.has(a.taskId)).map((a) => a.taskId));
  const implementerAttempts = facts.attempts.filter((a) => implementerIds.has(a.taskId)).length;
  const finished = succeeded + failed + blocked;
  return {
    tasks: { total: implementers.length, succeeded, failed, blocked, running: count((s) => s === "running"), pending: count((s) => s === "pending") },
    cyclesPerTask: started.size === 0 ? 0 : implementerAttempts / started.size,
    avgAttemptMs: durations.length === 0 ? 0 : busy / durations.length,
    parallelism: wall === 0 ? 0 : busy / wall,
    idleSlotMs: Math.max(0, facts.concurrency * wall - busy),
    successRate: finished === 0 ? null : succeeded / finished,
  };
}

export function describeSchedule(f: ScheduleFigures, concurrency: number, duration: (ms: number) => string): string {
  const t = f.tasks;
  const parts = [
    `${t.succeeded}/${t.total} tasks done`,
    ...(t.running > 0 ? [`${t.running} running`] : []),
    ...(t.failed > 0 ? [`${t.failed} failed`] : []),
    ...(t.blocked > 0 ? [`${t.blocked} blocked`] : []),
    `parallelism ${f.parallelism.toFixed(1)} of ${concurrency}`,
    `idle slots ${duration(f.idleSlotMs)}`,
    `${f.cyclesPerTask.toFixed(1)} attempts a task, ${duration(f.avgAttemptMs)} each`,
    ...(f.successRate !== null ? [`success ${Math.round(f.successRate * 100)}%`] : []),
  ];
  return parts.join(" · ");
}
