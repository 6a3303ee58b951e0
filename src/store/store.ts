// The journal port: events go in through `append` (one transaction: the event rows and the projections
// they change), state comes out as records. SQLite and Postgres implement it; one conformance suite
// checks both.
import type { TokenUsage } from "../core/agent-event.js";
import type { Failure } from "../core/failure.js";
import type { ReviewRecord } from "../core/review.js";
import type { CriterionResult, EventType, Limits, NewEvent, StoredEvent, TaskRole, TaskSpec } from "../core/journal.js";
import type { RunStatus, StopMode } from "../core/run.js";
import type { RunSettings } from "../core/run-settings.js";
import type { TaskStatus } from "../core/task.js";
import type { AttemptStatus } from "../core/attempt.js";
import type { WriteFence } from "./errors.js";

export type { WriteFence };

export interface RunRecord {
  id: string;
  goal: string;
  status: RunStatus;
  reason: string | undefined;
  repoRoot: string;
  baseBranch: string;
  baseSha: string;
  branch: string;
  agent: string;
  model: string | undefined;
  fallbackModels: string[];
  criteria: string[];
  limits: Limits;
  /** What the run was started with: agent, fallbacks, permission, recovery, planning, concurrency, gc. */
  settings: RunSettings;
  createdAt: number;
  startedAt: number | undefined;
  endedAt: number | undefined;
  pid: number | undefined;
  pidStartTime: string | undefined;
  host: string | undefined;
  detached: boolean;
  stopRequested: StopMode | undefined;
  /** The supervisor lease, while a process holds one. */
  lease: Lease | undefined;
  attempts: number;
  progress: number;
  costUsd: number;
  tokensIn: number;
  tokensOut: number;
  report: string | undefined;
}

export interface TaskRecord {
  runId: string;
  id: string;
  title: string;
  goal: string;
  criteria: string[];
  status: TaskStatus;
  reason: string | undefined;
  branch: string;
  worktree: string;
  attempts: number;
  progress: number;
  commit: string | undefined;
  createdAt: number;
  startedAt: number | undefined;
  endedAt: number | undefined;
  waitingUntil: number | undefined;
  waitingReason: string | undefined;
  role: TaskRole;
  dependsOn: string[];
  priority: number;
  risk: "low" | "medium" | "high";
  position: number;
  spec: TaskSpec | undefined;
  /** The merge commit that brought the task's work into the run branch. */
  integrated: string | undefined;
}

export interface AttemptRecord {
  id: string;
  runId: string;
  taskId: string;
  number: number;
  agent: string;
  model: string | undefined;
  status: AttemptStatus;
  pid: number | undefined;
  pidStartTime: string | undefined;
  sessionId: string | undefined;
  transcript: string;
  startedAt: number;
  endedAt: number | undefined;
  exitCode: number | undefined;
  signal: string | undefined;
  exitReason: string | undefined;
  durationMs: number | undefined;
  failure: Failure | undefined;
  progress: number | undefined;
  usage: TokenUsage | undefined;
  costUsd: number | undefined;
  criteria: CriterionResult[] | undefined;
  commit: string | undefined;
  /** Whose attempt: the task's implementer, or a reviewer of a commit it made. */
  role: "implementer" | "reviewer";
  /** A reviewer's attempt that answered: its verdict on the commit it judged. */
  review: ReviewRecord | undefined;
}

/** Who drives a run, until when, and how many takeovers the run has seen. */
export interface Lease {
  owner: string;
  until: number;
  fence: number;
}

export interface LeaseClaim {
  owner: string;
  /** Epoch ms until which the claim holds unless renewed. */
  until: number;
  now: number;
  /** A holder the caller found dead: its lease may be taken although it has not expired. */
  replacing?: string | undefined;
}

export type LeaseResult = { acquired: true; fence: number } | { acquired: false; holder: Lease | undefined };

export interface EventQuery {
  runId?: string;
  taskId?: string;
  attemptId?: string;
  afterSeq?: number;
  types?: EventType[];
  /**
   * Rows, not events: agent output packed into one row (`packed-output.ts`) comes back as its several events, all
   * with the row's seq, so a page may hold more events than this, never a part of a row.
   */
  limit?: number;
  /** Newest first instead of oldest first. */
  descending?: boolean;
}

export interface AppendOptions {
  /**
   * Write only while the run's lease fence is still this one: checked in the append's own transaction, and
   * a `StaleWriterError` (nothing written) when it moved on. Without it the append is not fenced (run
   * creation, a CLI's stop request).
   */
  fence?: WriteFence | undefined;
  /**
   * Write only while the run has no stop, pause or abort request: checked in the append's own transaction, and a
   * `StopRequestedError` (nothing written) when it has one. For what must never happen after a request (a task's
   * start), where a read before the write would leave a gap a request can fall into.
   */
  unlessStopRequested?: boolean | undefined;
}

/**
 * What reading the journal takes: the read side of `Store`, which the read model, `orch status`, `orch list` and
 * `orch logs` need and nothing more. A reader never writes (`store/sqlite/reader.ts` opens a SQLite journal without
 * the query layer a writer needs).
 */
export interface JournalReader {
  getRun(id: string): Promise<RunRecord | undefined>;
  /** The run's pending stop, pause or abort request, read alone (the supervisor asks at every journal change). */
  stopRequestOf(runId: string): Promise<StopMode | undefined>;
  /** Runs whose id starts with `prefix`, newest first. */
  findRuns(prefix: string): Promise<RunRecord[]>;
  listRuns(options?: { limit?: number }): Promise<RunRecord[]>;
  listTasks(runId: string): Promise<TaskRecord[]>;
  getTask(runId: string, taskId: string): Promise<TaskRecord | undefined>;
  listAttempts(query: { runId: string; taskId?: string }): Promise<AttemptRecord[]>;
  getAttempt(id: string): Promise<AttemptRecord | undefined>;
  readEvents(query: EventQuery): Promise<StoredEvent[]>;
  /**
   * Calls `listener` when the journal may hold new events: written by this process, or (where the dialect can
   * tell) by another. A hint to read again, never a promise of a new row; returns a function that stops it.
   */
  onChange(listener: () => void): () => void;
  close(): Promise<void>;
}

export interface Store extends JournalReader {
  /** Appends the events in order, in one transaction with the projections they change; all or nothing. */
  append(events: readonly NewEvent[], options?: AppendOptions): Promise<StoredEvent[]>;
  /**
   * The same as `append` without handing the events back: the path for high-volume agent output. Consecutive agent
   * text (or unparsed) lines of one attempt may share a row (`packed-output.ts`); `readEvents` gives them back one
   * event each, with the row's seq and time.
   */
  ingest(events: readonly NewEvent[], options?: AppendOptions): Promise<void>;
  /**
   * The transcripts' retention, in the journal: deletes the attempt's oldest rows of agent output (text, unparsed
   * lines, tool output) beyond its newest `keepChars` characters of them, and returns how many rows went. State
   * changes and every agent event the task loop reads (session, tool calls, usage, result) are never deleted, nor is
   * the attempt's newest output. Under a fence, as `append`: a stale one deletes nothing (`StaleWriterError`).
   */
  dropOutput(attemptId: string, keepChars: number, options?: AppendOptions): Promise<number>;
  /**
   * Takes the run's supervisor lease when nobody holds it, it expired, it is `claim.owner`'s own, or it is held by
   * `claim.replacing`: one atomic compare-and-set, so of two claimants at most one wins.
   */
  acquireLease(runId: string, claim: LeaseClaim): Promise<LeaseResult>;
  /** Extends the lease while `owner` still holds it; false when it was lost (taken over, or the run is gone). */
  renewLease(runId: string, owner: string, until: number): Promise<boolean>;
  /** Gives the lease up, if `owner` holds it. */
  releaseLease(runId: string, owner: string): Promise<void>;
}
