// `orch status` and `orch list`: where a run stands, from the journal alone, so they work for foreground
// and detached runs alike, and notice a run whose process is gone.
import { formatClock, formatDuration } from "../../core/duration.js";
import { describeFigures } from "../../core/figures.js";
import { firstLine } from "../../core/text.js";
import { describeSchedule } from "../../core/schedule-figures.js";
import { withRepoStore } from "../../app/compose.js";
import { resolveRun } from "../../read/runs.js";
import { listView, statusView, type RunListItem } from "../../read/status-view.js";
import type { CliContext } from "../context.js";
import { EXIT } from "../exit-codes.js";

/** Warnings `orch status` prints, the newest; `--json` has them all. */
const SHOWN_WARNINGS = 3;
/** Escaped processes `orch status` names; `--json` has them all. */
const SHOWN_ESCAPED = 5;

export async function statusCommand(ctx: CliContext, ref: string | undefined, flags: { json?: boolean }): Promise<number> {
  return withRepoStore(ctx.cwd, false, async ({ store }) => {
    const run = await resolveRun(store, ref);
    const view = await statusView(store, run);
    if (flags.json === true) {
      ctx.output.json(view);
      return EXIT.ok;
    }
    const lines = [
      `run ${view.runId}: ${view.status}${view.stale ? " — STALE: its supervisor is gone" : ""}${view.reason ? ` — ${view.reason}` : ""}`,
      `  goal      ${view.goal}`,
      view.schedule !== null ? `  attempts  ${view.attempts} in all, at most ${view.maxAttempts} a task` : `  attempt   ${view.attempts}/${view.maxAttempts}`,
      `  elapsed   ${formatClock(view.elapsedMs)} of ${formatDuration(view.maxMs)}`,
      `  progress  ${Math.round(view.progress * 100)}%`,
      `  cost      $${view.costUsd.toFixed(4)} · tokens ${view.tokens.input} in / ${view.tokens.output} out`,
      `  last      ${view.lastResult ?? "—"}`,
      `  recovery  ${describeFigures(view.figures, formatDuration)}`,
      `  now       ${view.now ?? "—"}`,
      `  next      ${view.next}`,
      `  branch    ${view.branch}`,
    ];
    if (view.schedule !== null) {
      lines.push(`  schedule  ${describeSchedule(view.schedule, view.schedule.concurrency, formatDuration)}`);
      for (const t of view.tasks) {
        const after = t.dependsOn.length > 0 ? ` after ${t.dependsOn.join(", ")}` : "";
        lines.push(`    ${t.status.padEnd(9)} ${t.id}${t.role !== "implementer" ? ` (${t.role})` : ""} · ${t.attempts} attempt(s)${after}${t.integrated !== null ? ` · merged ${t.integrated.slice(0, 12)}` : ""}`);
      }
    }
    for (const p of view.escaped.slice(0, SHOWN_ESCAPED)) {
      const owner = p.attempt !== null ? `attempt ${p.attempt} of ${p.taskId ?? "?"}` : `a verify command of ${p.taskId ?? "?"}`;
      lines.push(`  escaped   pid ${p.pid} (${owner}; ${p.why}): ${p.command}`);
    }
    if (view.escaped.length > SHOWN_ESCAPED) lines.push(`            (${view.escaped.length - SHOWN_ESCAPED} more: \`orch status ${view.runId} --json\`)`);
    if (view.escaped.length > 0) lines.push(`            stop ${view.escaped.length === 1 ? "it" : "them"}: kill ${view.escaped.map((p) => p.pid).join(" ")}`);
    for (const warning of view.warnings.slice(-SHOWN_WARNINGS)) lines.push(`  warning   ${warning}`);
    if (view.warnings.length > SHOWN_WARNINGS) lines.push(`            (${view.warnings.length - SHOWN_WARNINGS} earlier warning(s): \`orch logs ${view.runId}\`)`);
    if (view.report !== null) lines.push(`  report    ${view.report}`);
    ctx.output.out(lines.join("\n"));
    return EXIT.ok;
  });
}

export async function listCommand(ctx: CliContext, flags: { json?: boolean }): Promise<number> {
  let runs: RunListItem[];
  try {
    runs = await withRepoStore(ctx.cwd, false, ({ store }) => listView(store));
  } catch (error) {
    // A repository without a journal simply has no runs yet.
    if (error instanceof Error && error.name === "NotFoundError") runs = [];
    else throw error;
  }
  if (flags.json === true) {
    ctx.output.json(runs.map(({ maxAttempts: _max, ...item }) => item));
    return EXIT.ok;
  }
  if (runs.length === 0) {
    ctx.output.out('No runs yet. Start one with: orch run "<goal>" --verify "<command>"');
    return EXIT.ok;
  }
  // A run the journal calls running whose supervisor is gone says so: it runs no more until resumed.
  const rows = runs.map((r) => [r.runId, r.stale ? `${r.status} (stale: supervisor gone)` : r.status, `${Math.round(r.progress * 100)}%`, `${r.attempts}/${r.maxAttempts}`, r.createdAt.slice(0, 16).replace("T", " "), firstLine(r.goal, 60)]);
  const header = ["RUN", "STATUS", "PROGRESS", "ATTEMPTS", "CREATED (UTC)", "GOAL"];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? "").length)));
  const fmt = (row: string[]) => row.map((c, i) => (i === row.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join("  ");
  ctx.output.out([fmt(header), ...rows.map(fmt)].join("\n"));
  return EXIT.ok;
}

