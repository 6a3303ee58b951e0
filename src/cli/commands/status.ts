// `orch status` and `orch list`: where a run stands, from the journal alone, so they work for foreground
// and detached runs alike, and notice a run whose process is gone. On a terminal every line is bounded: long
// texts are cut to a line, long lists name a few and count the rest; `--json` has everything.
import { describeCost } from "../../core/cost-text.js";
import { formatDuration, formatTimestamp } from "../../core/duration.js";
import { PROGRESS_MEANS } from "../../core/progress.js";
import { describeFigures } from "../../core/figures.js";
import { describeRunDelivery } from "../../core/delivery-text.js";
import { firstLine, summarizeList } from "../../core/text.js";
import { describeSchedule } from "../../core/schedule-figures.js";
import { withJournalReader } from "../../app/journal-reader.js";
import { resolveRun } from "../../read/runs.js";
import { listView, statusView, type RunListItem, type RunStatusView } from "../../read/status-view.js";
import type { CliContext } from "../context.js";
import { EXIT } from "../exit-codes.js";

/** Warnings `orch status` prints, the newest; `--json` has them all. */
const SHOWN_WARNINGS = 3;
/** Escaped processes `orch status` names; `--json` has them all. */
const SHOWN_ESCAPED = 5;
/** Ids a sentence names before "… and N more" (the tasks ready to start, a task's dependencies). */
const LISTED_IDS = 5;
/** Task lines a planned run's status shows; the rest are counted by status. */
const SHOWN_TASKS = 20;
/** The longest goal, reason or warning shown, in characters. */
const TEXT_CHARS = 300;

export async function statusCommand(ctx: CliContext, ref: string | undefined, flags: { json?: boolean }): Promise<number> {
  return withJournalReader(ctx.cwd, async ({ journal: store }) => {
    const run = await resolveRun(store, ref);
    if (flags.json === true) {
      ctx.output.json(await statusView(store, run));
      return EXIT.ok;
    }
    const view = await statusView(store, run, Date.now(), { listed: LISTED_IDS });
    const lines = [
      `run ${view.runId}: ${view.status}${view.stale ? " — STALE: its supervisor is gone" : ""}${view.reason ? ` — ${bounded(view.reason)}` : ""}`,
      `  goal      ${bounded(view.goal)}`,
      view.schedule !== null ? `  attempts  ${view.attempts} in all, at most ${view.maxAttempts} a task` : `  attempt   ${view.attempts}/${view.maxAttempts}`,
      `  elapsed   ${formatDuration(view.elapsedMs)} of at most ${formatDuration(view.maxMs)}`,
      `  progress  ${Math.round(view.progress * 100)}% (${view.schedule !== null ? `the mean of its tasks'; each the ${PROGRESS_MEANS}` : PROGRESS_MEANS})`,
      `  cost      ${describeCost(view.costUsd, run.agent)} · tokens ${view.tokens.input} in / ${view.tokens.output} out`,
      `  last      ${view.lastResult ?? "—"}`,
      `  recovery  ${describeFigures(view.figures, formatDuration)}`,
      `  now       ${view.now ?? "—"}`,
      `  next      ${view.next}`,
      `  branch    ${view.branch}`,
      `  review    ${bounded(view.schedule === null && view.tasks[0]?.review != null ? view.tasks[0].review : view.reviewer)}`,
      `  approval  ${describeDecisions(view.decisions)}`,
    ];
    // A commit held for a human is named with what to type, in a run of one task as in a plan.
    for (const t of view.tasks) if (t.held !== null) lines.push(`  held      ${t.id}: ${bounded(t.held)} — orch approve ${view.runId}/${t.id}, or orch reject ${view.runId}/${t.id} --reason "…"`);
    if (view.schedule !== null) {
      lines.push(`  schedule  ${describeSchedule(view.schedule, view.schedule.concurrency, formatDuration)}`);
      const { shown, rest } = tasksToShow(view.tasks);
      for (const t of shown) {
        const after = t.dependsOn.length > 0 ? ` after ${summarizeList(t.dependsOn, LISTED_IDS)}` : "";
        lines.push(`    ${t.status.padEnd(9)} ${t.id}${t.role !== "implementer" ? ` (${t.role})` : ""} · ${t.attempts} attempt(s)${after}${t.integrated !== null ? ` · merged ${t.integrated.slice(0, 12)}` : ""}${t.review !== null ? ` · ${bounded(t.review)}` : ""}`);
      }
      if (rest.length > 0) lines.push(`    … and ${rest.length.toLocaleString("en-US")} more task(s): ${countByStatus(rest)} (\`orch status ${view.runId} --json\` lists them all)`);
    }
    for (const p of view.escaped.slice(0, SHOWN_ESCAPED)) {
      const owner = p.attempt !== null ? `attempt ${p.attempt} of ${p.taskId ?? "?"}` : `a verify command of ${p.taskId ?? "?"}`;
      lines.push(`  escaped   pid ${p.pid} (${owner}; ${p.why}): ${bounded(p.command)}`);
    }
    if (view.escaped.length > SHOWN_ESCAPED) lines.push(`            (${view.escaped.length - SHOWN_ESCAPED} more: \`orch status ${view.runId} --json\`)`);
    if (view.escaped.length > 0) lines.push(`            stop ${view.escaped.length === 1 ? "it" : "them"}: kill ${view.escaped.map((p) => p.pid).join(" ")}`);
    for (const warning of view.warnings.slice(-SHOWN_WARNINGS)) lines.push(`  warning   ${bounded(warning)}`);
    if (view.warnings.length > SHOWN_WARNINGS) lines.push(`            (${view.warnings.length - SHOWN_WARNINGS} earlier warning(s): \`orch logs ${view.runId}\`)`);
    for (const [i, outcome] of view.delivery.entries()) lines.push(`  ${i === 0 ? "delivery" : "        "}  ${bounded(describeRunDelivery(outcome))}`);
    if (view.report !== null) lines.push(`  report    ${view.report}`);
    ctx.output.out(lines.join("\n"));
    return EXIT.ok;
  });
}

type TaskLine = RunStatusView["tasks"][number];

/**
 * At most SHOWN_TASKS of a run's tasks, in the run's order: those running first, then those that ended without
 * success, then the rest from the top; `rest` is everything left out.
 */
/** The gate's decisions in one line: how many orch made on its own, how many a human made, what waits. */
function describeDecisions(d: { autonomous: number; human: number; held: number }): string {
  const all = d.autonomous + d.human;
  if (all === 0 && d.held === 0) return "no decision yet";
  const share = all === 0 ? "" : ` (${Math.round((d.autonomous / all) * 100)}% autonomous)`;
  return `${d.autonomous} decided by orch, ${d.human} by a human${share}${d.held > 0 ? `; ${d.held} held for a human` : ""}`;
}

function tasksToShow(tasks: readonly TaskLine[]): { shown: TaskLine[]; rest: TaskLine[] } {
  if (tasks.length <= SHOWN_TASKS) return { shown: [...tasks], rest: [] };
  const rank = (t: TaskLine): number => (t.status === "running" ? 0 : t.status === "succeeded" || t.status === "pending" ? 2 : 1);
  const picked = new Set(
    tasks
      .map((t, index) => ({ index, rank: rank(t) }))
      .sort((a, b) => a.rank - b.rank || a.index - b.index)
      .slice(0, SHOWN_TASKS)
      .map((p) => p.index),
  );
  return { shown: tasks.filter((_, i) => picked.has(i)), rest: tasks.filter((_, i) => !picked.has(i)) };
}

/** "9,000 pending, 980 succeeded": how many tasks are in each status, most first. */
function countByStatus(tasks: readonly TaskLine[]): string {
  const counts = new Map<string, number>();
  for (const t of tasks) counts.set(t.status, (counts.get(t.status) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1]).map(([status, n]) => `${n.toLocaleString("en-US")} ${status}`).join(", ");
}

/** A text shown on one line of at most TEXT_CHARS characters, with "…" where anything was left out. */
function bounded(text: string): string {
  const line = firstLine(text, TEXT_CHARS);
  return line.endsWith("…") || line === text.trim() ? line : `${line} …`;
}

export async function listCommand(ctx: CliContext, flags: { json?: boolean }): Promise<number> {
  let runs: RunListItem[];
  try {
    runs = await withJournalReader(ctx.cwd, ({ journal: store }) => listView(store));
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
  const rows = runs.map((r) => [r.runId, r.stale ? `${r.status} (stale: supervisor gone)` : r.status, `${Math.round(r.progress * 100)}%`, `${r.attempts}/${r.maxAttempts}`, formatTimestamp(Date.parse(r.createdAt), { zone: false }), firstLine(r.goal, 60)]);
  const header = ["RUN", "STATUS", "PROGRESS", "ATTEMPTS", "CREATED (UTC)", "GOAL"];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? "").length)));
  const fmt = (row: string[]) => row.map((c, i) => (i === row.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join("  ");
  ctx.output.out([fmt(header), ...rows.map(fmt)].join("\n"));
  return EXIT.ok;
}

