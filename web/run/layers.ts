// The task graph's layout: each task's column is its longest chain of dependencies, so every edge points right.
// Pure, for the SVG in task-graph.tsx and for tests.

export interface GraphTask {
  id: string;
  dependsOn?: readonly string[] | null | undefined;
}

/** Each task's layer: 0 for a task with no (known) dependency, else one more than its deepest dependency's. */
export function layers(tasks: readonly GraphTask[]): Map<string, number> {
  const byId = new Map(tasks.map((t) => [t.id, t]));
  const layer = new Map<string, number>();
  const visiting = new Set<string>();
  const visit = (id: string): number => {
    const known = layer.get(id);
    if (known !== undefined) return known;
    if (visiting.has(id)) return 0; // a cycle cannot come from orch's plans; do not loop on one
    visiting.add(id);
    const deps = (byId.get(id)?.dependsOn ?? []).filter((d) => byId.has(d));
    const value = deps.length === 0 ? 0 : Math.max(...deps.map(visit)) + 1;
    visiting.delete(id);
    layer.set(id, value);
    return value;
  };
  for (const t of tasks) visit(t.id);
  return layer;
}

