// Table shapes as Kysely sees them. Times are epoch milliseconds, JSON is stored as text, so that the same
// queries serve SQLite and Postgres; rows are parsed with zod on the way out (see rows.ts).
import type { Generated } from "kysely";

export interface RunsTable {
  id: string;
  goal: string;
  status: string;
  reason: string | null;
  repo_root: string;
  base_branch: string;
  base_sha: string;
  branch: string;
  agent: string;
  model: string | null;
  fallback_models: string;
  criteria: string;
  limits: string;
  config: string;
  created_at: number;
  started_at: number | null;
  ended_at: number | null;
  pid: number | null;
  pid_start_time: string | null;
  host: string | null;
  detached: number;
  stop_requested: string | null;
  attempts: number;
  progress: number;
  cost_usd: number;
  tokens_in: number;
  tokens_out: number;
  report: string | null;
  lease_owner: string | null;
  lease_until: number | null;
  lease_fence: number;
}

export interface TasksTable {
  run_id: string;
  id: string;
  title: string;
  goal: string;
  criteria: string;
  status: string;
  reason: string | null;
  branch: string;
  worktree: string;
  attempts: number;
  progress: number;
  commit_sha: string | null;
  created_at: number;
  started_at: number | null;
  ended_at: number | null;
  waiting_until: number | null;
  waiting_reason: string | null;
  role: string;
  depends_on: string;
  priority: number;
  risk: string;
  position: number;
  spec: string | null;
  integrated_sha: string | null;
}

export interface AttemptsTable {
  id: string;
  run_id: string;
  task_id: string;
  number: number;
  agent: string;
  model: string | null;
  status: string;
  pid: number | null;
  pid_start_time: string | null;
  session_id: string | null;
  transcript: string;
  started_at: number;
  ended_at: number | null;
  exit_code: number | null;
  signal: string | null;
  exit_reason: string | null;
  duration_ms: number | null;
  failure: string | null;
  progress: number | null;
  usage: string | null;
  cost_usd: number | null;
  criteria: string | null;
  commit_sha: string | null;
  /** "implementer" or "reviewer". */
  role: string;
  /** A reviewer's verdict (JSON of core/review.ts's ReviewRecord). */
  review: string | null;
}

export interface EventsTable {
  seq: Generated<number>;
  at: number;
  run_id: string;
  task_id: string | null;
  attempt_id: string | null;
  type: string;
  data: string;
}

export interface Database {
  runs: RunsTable;
  tasks: TasksTable;
  attempts: AttemptsTable;
  events: EventsTable;
}
