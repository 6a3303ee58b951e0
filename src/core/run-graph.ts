// A run's graph as a fold of its journal: `evolve` folds one event into the state of every task the scheduler
// sees (pending, running, waiting in the merge queue, being resolved by an integrator, ended), and `decide` says
// what the scheduler does next (end tasks a failure blocks, run a task's loop, start a task, integrate one, end
// the run). Both are pure. The scheduler (engine/scheduler.ts) carries the steps out and journals what happened,
// which is folded again; a supervisor taking a run over folds the same journal, so live driving and takeover
// share one algorithm. What only the interpreter knows (which loops and merge it has under way, a loop that
// halted the run, a stop request) is `decide`'s input; what a takeover learns from git (a merge a dead supervisor
// left at the run branch's tip) enters as an event, `task.merge-found`.
import { worstSeverity, type GateReview } from "./approval.js";
import { TaskGraph } from "./dag.js";
import { formatDuration } from "./duration.js";
import type { Risk } from "./plan.js";
import type { NewEvent } from "./journal.js";
import type { TaskConclusion } from "./task-loop.js";
import type { TerminalTaskStatus } from "./task.js";

/** A task whose merge breaks the run's criteria this many times is blocked instead of sent back again. */
export const MAX_REVERTS = 2;

/** What the fold keeps of a task of the plan. */
export interface PlanTask {
  readonly id: string;
  readonly dependsOn: readonly string[];
  readonly priority: number;
  readonly position: number;
  readonly criteria: number;
  readonly branch: string;
}

export type NodePhase =
  | { readonly kind: "pending" }
  /** Its loop runs or is to run; `sentBack` says why, when its merge was reverted and it goes on. */
  | { readonly kind: "running"; readonly sentBack: string | undefined }
  /**
   * Its loop succeeded with `commit` (approved by its reviewer, if it has one): the approval gate judges it next.
   * `keepsSlot` as in the queue: the gate's judgement is part of the way to the merge a more urgent task waits for.
   */
  | { readonly kind: "gated"; readonly commit: string; readonly review: GateReview; readonly keepsSlot: boolean }
  /** The gate holds `commit` for a human (`orch approve` / `orch reject`) since `since`; only its dependents wait. */
  | { readonly kind: "awaiting"; readonly commit: string; readonly level: Risk; readonly why: string; readonly since: number }
  /**
   * Its loop succeeded with `commit`: it waits in the merge queue (or is being merged). `keepsSlot`: its agent
   * slot is kept for a more urgent task that only this merge holds back.
   */
  | { readonly kind: "queued"; readonly commit: string; readonly keepsSlot: boolean }
  /** Its merge conflicted and `integrator` resolves it in the run branch's worktree. */
  | { readonly kind: "conflicted"; readonly commit: string; readonly integrator: string }
  | { readonly kind: "ended"; readonly status: TerminalTaskStatus; readonly reason: string };

export interface GraphNode {
  readonly phase: NodePhase;
  /** How often its merge was reverted, and why the last time. */
  readonly reverts: number;
  readonly lastRevert: string | undefined;
  /** Why its loop last succeeded (a run of one task ends with these words). */
  readonly succeededWith: string | undefined;
}

export interface IntegratorNode {
  readonly id: string;
  /** The implementer whose merge it resolves. */
  readonly merged: string;
  readonly ended: boolean;
}

export interface RunGraph {
  /** The plan's implementers in plan order, and their nodes at the same index. */
  readonly plan: readonly PlanTask[];
  readonly nodes: readonly GraphNode[];
  readonly integrators: ReadonlyMap<string, IntegratorNode>;
  /** The queued task whose merge a dead supervisor left at the run branch's tip: it is settled before any other. */
  readonly settle: string | undefined;
}

export const emptyGraph: RunGraph = { plan: [], nodes: [], integrators: new Map(), settle: undefined };

/** The events the graph folds; every other event leaves it as it is. */
export const GRAPH_EVENT_TYPES = [
  "task.created",
  "task.started",
  "attempt.finished",
  "task.assessed",
  "task.approved",
  "task.rejected",
  "task.merge-found",
  "task.integrated",
  "task.reverted",
  "task.finished",
  "task.reopened",
] as const;
/** The events by which a human decides on a task the gate holds (written by another process: `orch approve`). */
export const HUMAN_DECISION_TYPES = ["task.approved", "task.rejected"] as const;

// ---- the plan's structure, built once per plan ---------------------------------------------------------------------

interface Structure {
  readonly graph: TaskGraph<PlanTask>;
  readonly index: ReadonlyMap<string, number>;
  readonly dependents: readonly (readonly number[])[];
  /** Lower goes first: priority, then the longest chain of dependents (it gates the most), then plan order. */
  readonly rank: readonly number[];
  readonly byUrgency: readonly number[];
}

const structures = new WeakMap<readonly PlanTask[], Structure>();

/** The plan's graph, index and urgency, computed once for each plan (the plan only grows when tasks are created). */
export function structureOf(plan: readonly PlanTask[]): Structure {
  const known = structures.get(plan);
  if (known !== undefined) return known;
  const graph = new TaskGraph(plan);
  const index = new Map(plan.map((task, i) => [task.id, i]));
  const dependents: number[][] = plan.map(() => []);
  plan.forEach((task, i) => task.dependsOn.forEach((dep) => dependents[index.get(dep) ?? -1]?.push(i)));
  const chain = graph.chainLengths();
  const byUrgency = plan
    .map((_, i) => i)
    .sort((a, b) => {
      const x = plan[a] as PlanTask;
      const y = plan[b] as PlanTask;
      return y.priority - x.priority || (chain.get(y.id) ?? 0) - (chain.get(x.id) ?? 0) || x.position - y.position;
    });
  const rank: number[] = [];
  byUrgency.forEach((i, r) => (rank[i] = r));
  const structure = { graph, index, dependents, rank, byUrgency };
  structures.set(plan, structure);
  return structure;
}

// ---- evolve ----------------------------------------------------------------------------------------------------------

const fresh: GraphNode = { phase: { kind: "pending" }, reverts: 0, lastRevert: undefined, succeededWith: undefined };

/** Folds one journal event into the run's graph. */
export function evolve(state: RunGraph, event: NewEvent): RunGraph {
  const taskId = event.taskId;
  if (taskId === undefined) return state;
  // The merge left at the tip is settled once its outcome is journaled.
  if (state.settle === taskId && (event.type === "task.integrated" || event.type === "task.reverted" || event.type === "task.finished")) state = { ...state, settle: undefined };
  switch (event.type) {
    case "task.merge-found":
      return phaseOf(state, taskId).kind === "queued" ? { ...state, settle: taskId } : state;
    case "task.created": {
      const { data } = event;
      if (data.role === "integrator") {
        const merged = data.dependsOn?.[0] ?? "";
        const integrators = new Map(state.integrators).set(taskId, { id: taskId, merged, ended: false });
        const node = nodeOf(state, merged);
        const next = node?.phase.kind === "queued" ? { ...node, phase: { kind: "conflicted", commit: node.phase.commit, integrator: taskId } as const } : undefined;
        return { ...withNode(state, merged, next), integrators };
      }
      if (data.role === "planner" || data.role === "reviewer") return state;
      return { ...state, plan: [...state.plan, planTaskOf(event, state.plan.length)], nodes: [...state.nodes, fresh] };
    }
    case "task.started": {
      const node = nodeOf(state, taskId);
      return node?.phase.kind === "pending" ? withNode(state, taskId, { ...node, phase: { kind: "running", sentBack: undefined } }) : state;
    }
    case "attempt.finished": {
      const node = nodeOf(state, taskId);
      if (node === undefined || node.phase.kind !== "running" || event.data.outcome !== "succeeded") return state;
      // A success a reviewer must approve first is not yet the task's: the approval is (core/task-loop.ts).
      const { review } = event.data;
      if (event.data.awaitsReview === true || (review !== undefined && !review.approved)) return state;
      const commit = review?.commit ?? event.data.commit ?? "";
      const number = review?.attempt ?? Number(event.attemptId?.slice(event.attemptId.lastIndexOf(".") + 1));
      const task = state.plan[structureOf(state.plan).index.get(taskId) ?? -1];
      const succeededWith = `all ${task?.criteria ?? 0} criteria met on attempt ${Number.isFinite(number) ? number : "?"}${review !== undefined ? "; approved by the reviewer" : ""}`;
      const gate: GateReview = review === undefined ? undefined : { worst: worstSeverity(review.findings.map((f) => f.severity)) };
      return withNode(state, taskId, { ...node, succeededWith, phase: { kind: "gated", commit, review: gate, keepsSlot: keepsSlot(state, taskId) } });
    }
    case "task.assessed": {
      const node = nodeOf(state, taskId);
      if (node?.phase.kind !== "gated" || node.phase.commit !== event.data.commit) return state;
      const { data } = event;
      const phase: NodePhase =
        data.decision === "integrate"
          ? { kind: "queued", commit: data.commit, keepsSlot: keepsSlot(state, taskId) }
          : { kind: "awaiting", commit: data.commit, level: data.level, why: data.why, since: event.at ?? 0 };
      return withNode(state, taskId, { ...node, phase });
    }
    case "task.approved": {
      const node = nodeOf(state, taskId);
      if (node?.phase.kind !== "awaiting" || node.phase.commit !== event.data.commit) return state;
      return withNode(state, taskId, { ...node, phase: { kind: "queued", commit: node.phase.commit, keepsSlot: keepsSlot(state, taskId) } });
    }
    case "task.rejected": {
      // Its end comes in the same write; folded here too, so a supervisor that only reads the decision agrees.
      const node = nodeOf(state, taskId);
      if (node?.phase.kind !== "awaiting" || node.phase.commit !== event.data.commit) return state;
      return withNode(state, taskId, { ...node, phase: { kind: "ended", status: "failed", reason: rejectedReason(event.data.by, event.data.reason) } });
    }
    case "task.reverted": {
      const node = nodeOf(state, taskId);
      if (node === undefined) return state;
      const reason = event.data.reason;
      return withNode(state, taskId, { ...node, reverts: node.reverts + 1, lastRevert: reason, phase: { kind: "running", sentBack: reason } });
    }
    case "task.integrated":
      // The task's end comes with it, in the same write.
      return state;
    case "task.finished": {
      const integrator = state.integrators.get(taskId);
      if (integrator !== undefined) {
        const integrators = new Map(state.integrators).set(taskId, { ...integrator, ended: true });
        // An integrator that ended without the merge (cut short by a crash, say) puts its task back in the queue;
        // an integrator's failure comes with its task's own end, in the same write.
        const merged = nodeOf(state, integrator.merged);
        const back =
          merged?.phase.kind === "conflicted" && merged.phase.integrator === taskId ? { ...merged, phase: { kind: "queued", commit: merged.phase.commit, keepsSlot: false } as const } : undefined;
        return { ...withNode(state, integrator.merged, back), integrators };
      }
      const node = nodeOf(state, taskId);
      return node === undefined ? state : withNode(state, taskId, { ...node, phase: { kind: "ended", status: event.data.status, reason: event.data.reason } });
    }
    case "task.reopened": {
      // New limits (`orch resume RUN --max-attempts N`): a task that ended on a limit runs on; one never started waits again.
      const node = nodeOf(state, taskId);
      if (node?.phase.kind !== "ended" || node.phase.status === "succeeded") return state;
      return withNode(state, taskId, { ...node, phase: event.data.to === "running" ? { kind: "running", sentBack: undefined } : { kind: "pending" } });
    }
    default:
      return state;
  }
}

/** A task's end when a human turned its work down. */
export function rejectedReason(by: string, reason: string): string {
  return `rejected by ${by}: ${reason}`;
}

function planTaskOf(event: Extract<NewEvent, { type: "task.created" }>, at: number): PlanTask {
  const { data } = event;
  return { id: event.taskId ?? "", dependsOn: data.dependsOn ?? [], priority: data.priority ?? 0, position: data.position ?? at, criteria: data.criteria.length, branch: data.branch };
}

/**
 * Folds events in order: the same as `evolve` one by one, except that the plan's tasks, journaled together when the
 * run is made (10,000 of them in a big plan), join the plan in one step instead of one copy of the plan each.
 */
export function replay(events: Iterable<NewEvent>, from: RunGraph = emptyGraph): RunGraph {
  let state = from;
  let plan: PlanTask[] = [];
  const join = () => {
    if (plan.length === 0) return;
    state = { ...state, plan: [...state.plan, ...plan], nodes: [...state.nodes, ...plan.map(() => fresh)] };
    plan = [];
  };
  for (const event of events) {
    if (event.type === "task.created" && event.taskId !== undefined && event.data.role !== "integrator" && event.data.role !== "planner" && event.data.role !== "reviewer") {
      plan.push(planTaskOf(event, state.plan.length + plan.length));
      continue;
    }
    join();
    state = evolve(state, event);
  }
  join();
  return state;
}

function nodeOf(state: RunGraph, id: string): GraphNode | undefined {
  const i = structureOf(state.plan).index.get(id);
  return i === undefined ? undefined : state.nodes[i];
}

function withNode(state: RunGraph, id: string, node: GraphNode | undefined): RunGraph {
  const i = structureOf(state.plan).index.get(id);
  if (node === undefined || i === undefined) return state;
  const nodes = state.nodes.slice();
  nodes[i] = node;
  return { ...state, nodes };
}

/** The phase of a task of the plan (pending for an id the plan lacks). */
export function phaseOf(state: RunGraph, id: string): NodePhase {
  return nodeOf(state, id)?.phase ?? fresh.phase;
}

/** Whether the task's dependents may take its work as done: it is integrated. */
const integrated = (phase: NodePhase) => phase.kind === "ended" && phase.status === "succeeded";
/** Whether it is on its way there: its loop runs, or it waits to be merged, or it is merged. */
const underway = (phase: NodePhase) => phase.kind !== "pending" && (phase.kind !== "ended" || phase.status === "succeeded");

/**
 * A task that joins the merge queue keeps its slot through its merge when that merge is all a pending task
 * waits for (its other dependencies merged or queued) and that task is more urgent than any ready now: the slot
 * is then there for it the moment the merge is verified, instead of going to a less urgent task for the whole
 * of that task's run while the urgent one waits for the next slot to free.
 */
function keepsSlot(state: RunGraph, queuedId: string): boolean {
  const { index, dependents, rank, byUrgency } = structureOf(state.plan);
  const at = index.get(queuedId);
  if (at === undefined) return false;
  const merging = (dep: string) => {
    const phase = phaseOf(state, dep);
    return dep === queuedId || integrated(phase) || phase.kind === "queued" || phase.kind === "conflicted" || phase.kind === "gated";
  };
  const unlocked = (dependents[at] ?? []).filter((d) => state.nodes[d]?.phase.kind === "pending" && state.plan[d]?.dependsOn.every(merging));
  if (unlocked.length === 0) return false;
  const first = Math.min(...unlocked.map((d) => rank[d] ?? Infinity));
  const readyFirst = byUrgency.find((i) => isReady(state, i));
  return readyFirst === undefined || first < (rank[readyFirst] ?? Infinity);
}

function isReady(state: RunGraph, i: number): boolean {
  return state.nodes[i]?.phase.kind === "pending" && (state.plan[i]?.dependsOn ?? []).every((dep) => integrated(phaseOf(state, dep)));
}

// ---- decide ----------------------------------------------------------------------------------------------------------

/** What the scheduler knows besides the journal. */
export interface GraphInput {
  /** Tasks whose loop (or set-up) this supervisor has under way, integrators included. */
  readonly busy: ReadonlySet<string>;
  /** The task being merged now. */
  readonly merging: string | undefined;
  /** Tasks whose verified commit the approval gate is judging now. */
  readonly assessing: ReadonlySet<string>;
  /** The clock, and how long a held commit may wait for a human at each level before it is rejected. */
  readonly now: number;
  readonly rejectAfterMs: { readonly medium?: number | undefined; readonly high?: number | undefined };
  /** Tasks whose loop ended without ending the task (it waits for a human, or paused): not run again this turn. */
  readonly parked: ReadonlySet<string>;
  readonly concurrency: number;
  /** Why no task starts any more: a stop or pause was asked for, or a loop halted the run. */
  readonly halt: TaskConclusion | undefined;
  /** The run is aborted: nothing new starts, not even a merge. */
  readonly aborted: boolean;
  /** The run branch, as the run's end names it. */
  readonly runBranch: string;
}

export interface TaskEnding {
  readonly taskId: string;
  readonly status: TerminalTaskStatus;
  readonly reason: string;
}

export type GraphStep =
  /** End these tasks in one write: pending tasks a failure blocks, a task whose merge broke the run too often. */
  | { readonly kind: "end-tasks"; readonly endings: readonly TaskEnding[] }
  /** A started task's loop goes on (after a takeover, or sent back after a revert), or an integrator's begins. */
  | { readonly kind: "run"; readonly taskId: string; readonly sentBack: string | undefined }
  /** Make the task's worktree (from the run branch's tip), journal its start and run its loop. */
  | { readonly kind: "start"; readonly taskId: string }
  | { readonly kind: "integrate"; readonly taskId: string; readonly commit: string }
  /** No human decided on a held commit within its level's time: reject it. */
  | { readonly kind: "expire"; readonly taskId: string; readonly commit: string; readonly reason: string }
  /** Judge the task's verified commit at the approval gate (its risk, with its review) and journal the decision. */
  | { readonly kind: "assess"; readonly taskId: string; readonly commit: string; readonly review: GateReview }
  /** Nothing to do until something under way finishes. */
  | { readonly kind: "wait" }
  | { readonly kind: "end"; readonly conclusion: TaskConclusion; readonly endings: readonly TaskEnding[] };

/**
 * The scheduler's next steps. Endings come first and alone (they change what is ready); otherwise loops to run
 * again, a merge and new starts, all at once; `wait` while anything is under way; `end` when nothing is.
 */
export function decide(state: RunGraph, input: GraphInput): GraphStep[] {
  const endings = forcedEndings(state);
  if (endings.length > 0) return [{ kind: "end-tasks", endings }];
  const { byUrgency, rank } = structureOf(state.plan);
  const steps: GraphStep[] = [];
  if (!input.aborted) {
    state.plan.forEach((task, i) => {
      const phase = state.nodes[i]?.phase;
      if (phase?.kind === "running" && !input.busy.has(task.id) && !input.parked.has(task.id)) steps.push({ kind: "run", taskId: task.id, sentBack: phase.sentBack });
    });
    for (const integrator of state.integrators.values()) {
      if (!integrator.ended && !input.busy.has(integrator.id)) steps.push({ kind: "run", taskId: integrator.id, sentBack: undefined });
    }
  }
  if (!input.aborted) {
    state.plan.forEach((task, i) => {
      const phase = state.nodes[i]?.phase;
      if (phase?.kind === "gated" && !input.assessing.has(task.id)) steps.push({ kind: "assess", taskId: task.id, commit: phase.commit, review: phase.review });
      const expiry = phase?.kind === "awaiting" ? expiresAt(phase, input) : undefined;
      if (phase?.kind === "awaiting" && expiry !== undefined && input.now >= expiry) {
        steps.push({ kind: "expire", taskId: task.id, commit: phase.commit, reason: `no human approved it within ${formatDuration(expiry - phase.since)} (${phase.level} risk; approval.rejectAfter)` });
      }
    });
  }
  // One merge at a time: an integrator resolving a conflict holds the run branch's worktree until it ends.
  const resolving = [...state.integrators.values()].some((integrator) => !integrator.ended);
  if (input.merging === undefined && !resolving && !input.aborted) {
    const queued = byUrgency.filter((i) => state.nodes[i]?.phase.kind === "queued");
    const settle = state.settle === undefined ? undefined : structureOf(state.plan).index.get(state.settle);
    const next = settle !== undefined && queued.includes(settle) ? settle : queued[0];
    const phase = next === undefined ? undefined : state.nodes[next]?.phase;
    if (next !== undefined && phase?.kind === "queued") steps.push({ kind: "integrate", taskId: state.plan[next]?.id ?? "", commit: phase.commit });
  }
  if (input.halt === undefined && !input.aborted) {
    const reserved = state.nodes.filter((node) => (node.phase.kind === "queued" || node.phase.kind === "gated") && node.phase.keepsSlot).length;
    let taken = input.busy.size + steps.filter((step) => step.kind === "run").length + reserved;
    for (const i of byUrgency) {
      if (taken >= input.concurrency) break;
      if (!isReady(state, i) || input.busy.has(state.plan[i]?.id ?? "")) continue;
      steps.push({ kind: "start", taskId: state.plan[i]?.id ?? "" });
      taken++;
    }
  }
  steps.sort((a, b) => order(a) - order(b) || rankOf(a) - rankOf(b));
  function rankOf(step: GraphStep): number {
    return "taskId" in step ? (rank[structureOf(state.plan).index.get(step.taskId) ?? -1] ?? 0) : 0;
  }
  if (steps.length > 0) return steps;
  if (input.busy.size > 0 || input.merging !== undefined || input.assessing.size > 0) return [{ kind: "wait" }];
  const conclusion = conclude(state, input);
  return [{ kind: "end", conclusion, endings: conclusion.status === "waiting" || conclusion.status === "paused" ? [] : endingsAtEnd(state, conclusion) }];
}

/** Judgements and merges go first (the queue is serial, and every task waits on it), then loops, then new starts. */
const order = (step: GraphStep) => (step.kind === "assess" || step.kind === "expire" || step.kind === "integrate" ? 0 : step.kind === "run" ? 1 : 2);

/** When a held commit is rejected for want of a decision, if its level has a limit. */
export function expiresAt(phase: Extract<NodePhase, { kind: "awaiting" }>, input: Pick<GraphInput, "rejectAfterMs">): number | undefined {
  const limit = phase.level === "high" ? input.rejectAfterMs.high : phase.level === "medium" ? input.rejectAfterMs.medium : undefined;
  return limit === undefined ? undefined : phase.since + limit;
}

/**
 * Endings the graph forces: a task whose merge broke the run's criteria too often is blocked; every pending task
 * that depends, directly or not, on a task that ended without success is blocked, naming that task.
 */
function forcedEndings(state: RunGraph): TaskEnding[] {
  const endings: TaskEnding[] = [];
  const cause = new Map<number, string | null>();
  const causeOf = (i: number): string | null => {
    const known = cause.get(i);
    if (known !== undefined) return known;
    cause.set(i, null);
    let found: string | null = null;
    for (const dep of state.plan[i]?.dependsOn ?? []) {
      const at = structureOf(state.plan).index.get(dep);
      const phase = at === undefined ? undefined : state.nodes[at]?.phase;
      if (phase?.kind === "ended" && phase.status !== "succeeded") found = dep;
      else if (phase?.kind === "pending" && at !== undefined) found = causeOf(at);
      if (found !== null) break;
    }
    cause.set(i, found);
    return found;
  };
  state.plan.forEach((task, i) => {
    const node = state.nodes[i];
    if (node?.phase.kind === "running" && node.reverts >= MAX_REVERTS) {
      endings.push({ taskId: task.id, status: "blocked", reason: `its merge broke the run's criteria ${node.reverts} times: ${node.lastRevert ?? "?"}` });
    } else if (node?.phase.kind === "pending") {
      const failed = causeOf(i);
      if (failed !== null) endings.push({ taskId: task.id, status: "blocked", reason: `depends on task ${failed}, which did not succeed` });
    }
  });
  return endings;
}

/** How the run ends: every task integrated; or why not, naming the tasks. A run of one task ends as its task did. */
export function conclude(state: RunGraph, input: Pick<GraphInput, "halt" | "aborted" | "runBranch">): TaskConclusion {
  const { halt } = input;
  if (halt !== undefined && (halt.status === "waiting" || halt.status === "paused")) return halt;
  const succeeded = state.plan.filter((_, i) => integrated(state.nodes[i]?.phase ?? fresh.phase));
  const only = state.plan.length === 1 ? state.nodes[0] : undefined;
  if (succeeded.length === state.plan.length) {
    const reason = only !== undefined ? (only.succeededWith ?? "its task succeeded") : `all ${state.plan.length} tasks integrated into ${input.runBranch}; the run's criteria pass there`;
    return { status: "succeeded", reason, commit: "" };
  }
  if (halt !== undefined) return halt;
  if (input.aborted) return { status: "aborted", reason: "aborted" };
  // Nothing else can move: the run waits for the human the gate asked for.
  const held = state.plan.flatMap((task, i) => {
    const phase = state.nodes[i]?.phase;
    return phase?.kind === "awaiting" ? [`${task.id} (${phase.why})`] : [];
  });
  if (held.length > 0) return { status: "waiting", reason: `waiting for a human to approve or reject ${held.join(", ")}: orch approve RUN/TASK, or orch reject RUN/TASK --reason "…"` };
  if (only?.phase.kind === "ended" && only.phase.status !== "succeeded") return { status: only.phase.status, reason: only.phase.reason };
  const others = state.plan.filter((_, i) => !integrated(state.nodes[i]?.phase ?? fresh.phase)).map((task) => `${task.id} (${statusWord(phaseOf(state, task.id))})`);
  return { status: "failed", reason: `${succeeded.length} of ${state.plan.length} tasks integrated into ${input.runBranch}; not done: ${others.join(", ")}` };
}

/** A run that ends takes every unfinished task with it, each saying why. */
function endingsAtEnd(state: RunGraph, conclusion: TaskConclusion): TaskEnding[] {
  const final: TerminalTaskStatus = conclusion.status === "aborted" ? "aborted" : "stopped";
  const why = conclusion.status === "aborted" || conclusion.status === "stopped" ? `the run was ${conclusion.status}` : `the run ended (${conclusion.status}: ${conclusion.reason})`;
  const endings: TaskEnding[] = [];
  state.plan.forEach((task, i) => {
    const phase = state.nodes[i]?.phase;
    if (phase === undefined || phase.kind === "ended") return;
    const reason = phase.kind === "queued" || phase.kind === "conflicted" || phase.kind === "gated" || phase.kind === "awaiting" ? `its work is committed on ${task.branch} but was not integrated: ${why}` : phase.kind === "pending" ? `not started: ${why}` : why;
    endings.push({ taskId: task.id, status: final, reason });
  });
  for (const integrator of state.integrators.values()) if (!integrator.ended) endings.push({ taskId: integrator.id, status: final, reason: why });
  return endings;
}

/** A task's state in a word, as `orch status` says it. */
export function statusWord(phase: NodePhase): string {
  switch (phase.kind) {
    case "pending":
      return "pending";
    case "running":
      return "running";
    case "queued":
    case "conflicted":
    case "gated":
      return "running";
    case "awaiting":
      return "waiting";
    case "ended":
      return phase.status;
  }
}

/** Whether the task's dependencies have all started (it will be ready next): its worktree may be made ahead. */
export function nextUp(state: RunGraph, id: string): boolean {
  const at = structureOf(state.plan).index.get(id);
  return at !== undefined && state.nodes[at]?.phase.kind === "pending" && (state.plan[at]?.dependsOn ?? []).every((dep) => underway(phaseOf(state, dep)));
}

/** The pending dependents whose only dependency not yet integrated is `merged`: a merge of it makes them ready. */
export function unlockedBy(state: RunGraph, merged: string): string[] {
  const { index, dependents } = structureOf(state.plan);
  return (dependents[index.get(merged) ?? -1] ?? [])
    .filter((d) => state.nodes[d]?.phase.kind === "pending" && (state.plan[d]?.dependsOn ?? []).every((dep) => dep === merged || integrated(phaseOf(state, dep))))
    .map((d) => state.plan[d]?.id ?? "");
}

/** Plan ids in urgency order. */
export function urgencyOrder(state: RunGraph): string[] {
  return structureOf(state.plan).byUrgency.map((i) => state.plan[i]?.id ?? "");
}
