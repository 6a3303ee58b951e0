// The run's task graph as SVG: tasks in layers by their longest chain of dependencies, edges from each dependency
// to its dependent, each node coloured by its task's live status. Names are SVG text nodes (never markup).
import type { JSX } from "preact";
import type { TaskView } from "../api/schemas.js";
import { layers } from "./layers.js";

const NODE_W = 168;
const NODE_H = 40;
const GAP_X = 56;
const GAP_Y = 14;

export function TaskGraph(props: { tasks: readonly TaskView[] }): JSX.Element {
  const tasks = props.tasks.filter((t) => t.role !== "planner");
  const layer = layers(tasks);
  const columns: TaskView[][] = [];
  for (const t of tasks) {
    const l = layer.get(t.id) ?? 0;
    (columns[l] ??= []).push(t);
  }
  const pos = new Map<string, { x: number; y: number }>();
  columns.forEach((column, c) => column.forEach((t, r) => pos.set(t.id, { x: 8 + c * (NODE_W + GAP_X), y: 8 + r * (NODE_H + GAP_Y) })));
  const width = 16 + Math.max(1, columns.length) * (NODE_W + GAP_X) - GAP_X;
  const height = 16 + Math.max(1, ...columns.map((c) => c.length)) * (NODE_H + GAP_Y) - GAP_Y;
  return (
    <div class="graph">
      <svg width={width} height={height} viewBox={`0 0 ${width} ${height}`} role="img" aria-label="task graph">
        {tasks.flatMap((t) =>
          (t.dependsOn ?? []).map((d) => {
            const from = pos.get(d);
            const to = pos.get(t.id);
            if (from === undefined || to === undefined) return null;
            const x1 = from.x + NODE_W;
            const y1 = from.y + NODE_H / 2;
            const x2 = to.x;
            const y2 = to.y + NODE_H / 2;
            const mid = (x1 + x2) / 2;
            return <path key={`${d}->${t.id}`} class="edge" d={`M${x1},${y1} C${mid},${y1} ${mid},${y2} ${x2},${y2}`} data-edge={`${d}->${t.id}`} />;
          }),
        )}
        {tasks.map((t) => {
          const p = pos.get(t.id) ?? { x: 0, y: 0 };
          const status = t.held !== null && t.held !== undefined ? "held" : t.status;
          return (
            <g key={t.id} class={`node s-${status}`} transform={`translate(${p.x},${p.y})`} data-task={t.id} data-status={status}>
              <title>{`${t.id}: ${t.title} (${status})`}</title>
              <rect width={NODE_W} height={NODE_H} rx={6} />
              <text x={8} y={16}>
                {clip(t.id, 24)}
              </text>
              <text x={8} y={32} class="muted">
                {`${status} · ${t.attempts} att.`}
              </text>
            </g>
          );
        })}
      </svg>
    </div>
  );
}

const clip = (text: string, max: number): string => (text.length > max ? `${text.slice(0, max - 1)}…` : text);
