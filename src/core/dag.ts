// A run's tasks as a dependency graph: `validateGraph` names every duplicate id, unknown or self dependency
// and cycle; a `TaskGraph` (built only from tasks it accepts, so acyclic with every dependency known) says what
// is ready, what a failure blocks, whether the run can go on, and the critical path. Pure; queries are O(V+E).
import { cyclicComponents, Heap, shortestCycleThrough } from "./graph-algorithms.js";
import type { TaskStatus, TerminalTaskStatus } from "./task.js";
import { summarizeList } from "./text.js";

export interface GraphTask {
  readonly id: string;
  /** Ids of the tasks that must succeed before this one starts. */
  readonly dependsOn: readonly string[];
  /** Higher runs first among tasks that are ready together; 0 when absent. */
  readonly priority?: number | undefined;
}

/** Where in the task list an issue is: `[index, "id"]` or `[index, "dependsOn", position]`. */
export type GraphPath = readonly [number, "id"] | readonly [number, "dependsOn", number];

export type GraphIssue =
  | { kind: "duplicate-id"; id: string; index: number; firstIndex: number; path: GraphPath; message: string }
  | { kind: "unknown-dependency"; taskId: string; dependency: string; index: number; path: GraphPath; message: string }
  | { kind: "self-dependency"; taskId: string; index: number; path: GraphPath; message: string }
  /** `cycle` starts and ends with the same id; each task depends on the next. */
  | { kind: "cycle"; cycle: readonly string[]; index: number; path: GraphPath; message: string };

/** Statuses by task id; a task without one is pending. */
export type StatusOf = ReadonlyMap<string, TaskStatus>;

export type GraphStatus =
  | { state: "active"; running: string[]; ready: string[] }
  | { state: "finished"; succeeded: string[]; unsuccessful: { id: string; status: TerminalTaskStatus }[]; reason: string }
  /** Nothing runs and nothing can start: every waiting task depends on one that did not succeed. */
  | { state: "stuck"; waiting: { id: string; blockedBy: string[] }[]; reason: string };

export class InvalidGraphError extends Error {
  override readonly name = "InvalidGraphError";
  constructor(readonly issues: readonly GraphIssue[]) {
    super(issues.map((issue) => issue.message).join("; "));
  }
}

const MAX_LISTED_IDS = 30;
/** Ids a status's reason names (it is journaled and shown); the lists beside it are whole. */
const REASON_IDS = 10;

/** Every problem that keeps `tasks` from being a graph orch can run, in plan order within each kind. */
export function validateGraph(tasks: readonly GraphTask[]): GraphIssue[] {
  const issues: GraphIssue[] = [];
  const first = new Map<string, number>();
  tasks.forEach((task, index) => {
    const firstIndex = first.get(task.id);
    if (firstIndex === undefined) first.set(task.id, index);
    else {
      const message = `duplicate task id "${task.id}" (tasks[${firstIndex}] has it too)`;
      issues.push({ kind: "duplicate-id", id: task.id, index, firstIndex, path: [index, "id"], message });
    }
  });
  const known = listIds([...first.keys()]);
  const edges: number[][] = tasks.map(() => []);
  tasks.forEach((task, index) => {
    task.dependsOn.forEach((dependency, position) => {
      const path: GraphPath = [index, "dependsOn", position];
      const target = first.get(dependency);
      if (dependency === task.id) {
        issues.push({ kind: "self-dependency", taskId: task.id, index, path, message: `task "${task.id}" depends on itself` });
      } else if (target === undefined) {
        const message = `task "${task.id}" depends on unknown task id "${dependency}"; known ids: ${known}`;
        issues.push({ kind: "unknown-dependency", taskId: task.id, dependency, index, path, message });
      } else edges[index]?.push(target);
    });
  });
  for (const component of cyclicComponents(edges)) {
    const cycle = shortestCycleThrough(component, edges);
    const ids = cycle.map((index) => tasks[index]?.id ?? "?");
    const start = cycle[0] ?? 0;
    const position = tasks[start]?.dependsOn.indexOf(ids[1] ?? "") ?? 0;
    const message = `dependency cycle: ${ids.join(" → ")} (each task depends on the next, so none of them can start)`;
    issues.push({ kind: "cycle", cycle: ids, index: start, path: [start, "dependsOn", position], message });
  }
  const rank = { "duplicate-id": 0, "unknown-dependency": 1, "self-dependency": 2, cycle: 3 };
  return issues.sort((a, b) => rank[a.kind] - rank[b.kind]);
}

export class TaskGraph<T extends GraphTask> {
  /** Plan order. */
  readonly tasks: readonly T[];
  /** Dependencies first; among tasks free at the same point, higher priority, then plan order. */
  readonly order: readonly T[];
  private readonly indexOf = new Map<string, number>();
  private readonly deps: number[][];
  private readonly dependents: number[][];
  private readonly position: number[];
  private readonly orderIndexes: readonly number[];

  constructor(tasks: readonly T[]) {
    const issues = validateGraph(tasks);
    if (issues.length > 0) throw new InvalidGraphError(issues);
    this.tasks = tasks;
    tasks.forEach((task, index) => this.indexOf.set(task.id, index));
    this.deps = tasks.map((task) => [...new Set(task.dependsOn.map((id) => this.index(id)))]);
    this.dependents = tasks.map(() => []);
    this.deps.forEach((deps, index) => deps.forEach((dep) => this.dependents[dep]?.push(index)));
    this.orderIndexes = this.topologicalOrder();
    this.position = [];
    this.orderIndexes.forEach((index, position) => (this.position[index] = position));
    this.order = this.orderIndexes.map((index) => this.at(index));
  }

  has(id: string): boolean {
    return this.indexOf.has(id);
  }
  get(id: string): T {
    return this.at(this.index(id));
  }
  dependenciesOf(id: string): T[] {
    return (this.deps[this.index(id)] ?? []).map((index) => this.at(index));
  }
  dependentsOf(id: string): T[] {
    return (this.dependents[this.index(id)] ?? []).map((index) => this.at(index));
  }

  /** Pending tasks whose dependencies all succeeded: higher priority first, then plan order. */
  ready(statuses: StatusOf): T[] {
    const status = (index: number): TaskStatus => statuses.get(this.at(index).id) ?? "pending";
    const ready: number[] = [];
    this.deps.forEach((deps, index) => {
      if (status(index) === "pending" && deps.every((dep) => status(dep) === "succeeded")) ready.push(index);
    });
    return ready.sort((a, b) => this.before(a, b)).map((index) => this.at(index));
  }

  /** Every task that depends on `id`, directly or not, in topological order: what its failure blocks. */
  blockedBy(id: string): T[] {
    const seen = new Set<number>();
    const stack = [this.index(id)];
    for (let next = stack.pop(); next !== undefined; next = stack.pop()) {
      for (const dependent of this.dependents[next] ?? []) {
        if (seen.has(dependent)) continue;
        seen.add(dependent);
        stack.push(dependent);
      }
    }
    return [...seen].sort((a, b) => (this.position[a] ?? 0) - (this.position[b] ?? 0)).map((index) => this.at(index));
  }

  /** Whether the graph still runs, has finished, or can make no progress, and why. */
  status(statuses: StatusOf): GraphStatus {
    const status = (index: number): TaskStatus => statuses.get(this.at(index).id) ?? "pending";
    const ids = (indexes: number[]): string[] => indexes.map((index) => this.at(index).id);
    const all = this.tasks.map((_, index) => index);
    const running = all.filter((index) => status(index) === "running");
    const ready = this.ready(statuses);
    if (running.length > 0 || ready.length > 0) return { state: "active", running: ids(running), ready: ready.map((t) => t.id) };
    const pending = all.filter((index) => status(index) === "pending");
    if (pending.length === 0) {
      const succeeded = all.filter((index) => status(index) === "succeeded");
      const unsuccessful = all.flatMap((index) => {
        const s = status(index);
        return s === "succeeded" || s === "pending" || s === "running" ? [] : [{ id: this.at(index).id, status: s }];
      });
      const reason =
        unsuccessful.length === 0
          ? `all ${all.length} tasks succeeded`
          : `${succeeded.length} of ${all.length} tasks succeeded; ${summarizeList(unsuccessful.map((u) => `${u.id} ${u.status}`), REASON_IDS)}`;
      return { state: "finished", succeeded: ids(succeeded), unsuccessful, reason };
    }
    // Nothing runs and nothing is ready, so each pending task waits, through pending tasks, on one that did
    // not succeed: collect those causes in topological order, where every dependency is settled first.
    const causes = new Map<number, Set<number>>();
    for (const index of this.orderIndexes) {
      if (status(index) !== "pending") continue;
      const mine = new Set<number>();
      for (const dep of this.deps[index] ?? []) {
        const s = status(dep);
        if (s === "pending") causes.get(dep)?.forEach((cause) => mine.add(cause));
        else if (s !== "succeeded") mine.add(dep);
      }
      causes.set(index, mine);
    }
    const waiting = pending.map((index) => ({ id: this.at(index).id, blockedBy: ids([...(causes.get(index) ?? [])].sort((a, b) => a - b)) }));
    const blocks = new Map<string, string[]>();
    for (const w of waiting) {
      for (const cause of w.blockedBy) {
        const blocked = blocks.get(cause) ?? [];
        blocked.push(w.id);
        blocks.set(cause, blocked);
      }
    }
    const parts = [...blocks].map(([cause, blocked]) => `${cause} (${status(this.index(cause))}) blocks ${summarizeList(blocked, REASON_IDS)}`);
    const shown = parts.slice(0, REASON_IDS).join("; ");
    const more = parts.length > REASON_IDS ? `; and ${parts.length - REASON_IDS} more failed task(s) block others` : "";
    return { state: "stuck", waiting, reason: `no task can start: ${shown}${more}` };
  }

  /** The longest chain of dependent work: with unlimited workers, no schedule finishes sooner. */
  criticalPath(duration: (task: T) => number): { length: number; tasks: T[] } {
    const finish: number[] = [];
    const via: (number | undefined)[] = [];
    let last: number | undefined;
    for (const index of this.orderIndexes) {
      let start = 0;
      for (const dep of this.deps[index] ?? []) {
        const end = finish[dep] ?? 0;
        if (via[index] === undefined || end > start) [start, via[index]] = [end, dep];
      }
      finish[index] = start + durationOf(this.at(index), duration);
      if (last === undefined || (finish[index] ?? 0) > (finish[last] ?? 0)) last = index;
    }
    const path: T[] = [];
    for (let index = last; index !== undefined; index = via[index]) path.unshift(this.at(index));
    return { length: last === undefined ? 0 : (finish[last] ?? 0), tasks: path };
  }

  /**
   * For each task, how many tasks the longest chain of dependents that starts with it holds (itself included):
   * the critical-path rank when durations are unknown, so a scheduler that starts the highest first keeps the
   * longest chain moving.
   */
  chainLengths(): Map<string, number> {
    const length: number[] = [];
    for (const index of [...this.orderIndexes].reverse()) {
      length[index] = 1 + Math.max(0, ...(this.dependents[index] ?? []).map((dependent) => length[dependent] ?? 0));
    }
    return new Map(this.tasks.map((task, index) => [task.id, length[index] ?? 1]));
  }

  /** The sum of every task's duration: the time one worker would need. */
  totalWork(duration: (task: T) => number): number {
    return this.tasks.reduce((sum, task) => sum + durationOf(task, duration), 0);
  }

  private index(id: string): number {
    const index = this.indexOf.get(id);
    if (index === undefined) throw new RangeError(`no task "${id}" in this graph`);
    return index;
  }
  private at(index: number): T {
    const task = this.tasks[index];
    if (task === undefined) throw new RangeError(`no task at index ${index}`);
    return task;
  }
  /** Sort order among tasks free together: higher priority, then earlier in the plan. */
  private before(a: number, b: number): number {
    return (this.at(b).priority ?? 0) - (this.at(a).priority ?? 0) || a - b;
  }

  /** Kahn's algorithm with a heap of the free tasks, so that ties go by priority then plan order. */
  private topologicalOrder(): number[] {
    const unmet = this.deps.map((deps) => deps.length);
    const heap = new Heap((a, b) => this.before(a, b) < 0);
    unmet.forEach((count, index) => count === 0 && heap.push(index));
    const order: number[] = [];
    for (let next = heap.pop(); next !== undefined; next = heap.pop()) {
      order.push(next);
      for (const dependent of this.dependents[next] ?? []) {
        unmet[dependent] = (unmet[dependent] ?? 0) - 1;
        if (unmet[dependent] === 0) heap.push(dependent);
      }
    }
    return order;
  }
}

function durationOf<T>(task: T & GraphTask, duration: (task: T) => number): number {
  const value = duration(task);
  if (!Number.isFinite(value) || value < 0) throw new RangeError(`task "${task.id}" has duration ${value}; expected a number ≥ 0`);
  return value;
}

function listIds(ids: readonly string[]): string {
  if (ids.length === 0) return "(none)";
  const shown = ids.slice(0, MAX_LISTED_IDS).join(", ");
  return ids.length > MAX_LISTED_IDS ? `${shown} (and ${ids.length - MAX_LISTED_IDS} more)` : shown;
}
