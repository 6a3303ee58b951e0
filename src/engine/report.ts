// The run report: markdown at .orch/reports/<run>.md saying what was asked, what happened on every attempt
// (agent, model, time, tokens, cost, failure, criteria) and what to merge. Built from the journal and git
// alone, so `orch report` can rebuild it at any time.
import { readsAsPlan } from "../core/run.js";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { escapeControls } from "../core/terminal-text.js";
import { describeCost, money } from "../core/cost-text.js";
import { formatDuration } from "../core/duration.js";
import { PROGRESS_MEANS } from "../core/progress.js";
import type { RecoveryFigures } from "../core/figures.js";
import { firstLine } from "../core/text.js";
import { DELIVERY_EVENT_TYPES, describeDelivery } from "../core/notify.js";
import { describeRunDelivery } from "../core/delivery-text.js";
import type { DeliveryOutcome } from "../core/journal.js";
import { diffStat, worktreeStatus, type DiffStat } from "../git/index.js";
import type { AttemptRecord, RunRecord, TaskRecord, JournalReader } from "../store/store.js";
import { describeSchedule, type ScheduleFigures } from "../core/schedule-figures.js";
import { revParse } from "../git/compare.js";
import { collectFigures, collectScheduleFigures, concurrencyOf } from "./figures.js";
import { countDecisions } from "../core/approval.js";
import { describeFinding } from "../core/review.js";
import type { StoredEvent } from "../core/journal.js";
import { attemptName, describeReviewer } from "./review-state.js";

export interface ReportData {
  run: RunRecord;
  tasks: TaskRecord[];
  attempts: AttemptRecord[];
  diff: DiffStat | undefined;
  uncommitted: string[];
  notes: string[];
  /** Webhook deliveries of the run's notices, one line each, in journal order. */
  deliveries: string[];
  figures: RecoveryFigures;
  /** A planned run's scheduling figures; undefined for a run of one task. */
  schedule: (ScheduleFigures & { concurrency: number }) | undefined;
  /** The run branch's tip, when it moved past the base. */
  runTip: string | undefined;
  /** A run of one task: whether its worktree is still there (`orch gc` removes it, its branch stays). */
  worktreeKept: boolean;
  /** The approval gate's judgements and the human decisions, in journal order. */
  gate: StoredEvent[];
  /** How a run that succeeded was delivered (push, pull request), oldest first; empty before or without delivery. */
  delivery: DeliveryOutcome[];
}

/** What a report reads from git (the run branch's tip and diff, the task's worktree); the rest is the journal's. */
export type ReportGit = Pick<ReportData, "diff" | "uncommitted" | "runTip" | "worktreeKept">;

/**
 * The report's facts. `git`, from a report of the same run written moments before, is used instead of asking git
 * again: the report written after delivery differs only in what the journal says of the delivery.
 */
export async function collectReport(store: JournalReader, runId: string, git?: ReportGit): Promise<ReportData> {
  const run = await store.getRun(runId);
  if (run === undefined) throw new Error(`no run ${runId}`);
  const tasks = await store.listTasks(runId);
  const attempts = await store.listAttempts({ runId });
  const notes = (await store.readEvents({ runId, types: ["run.noted"] })).flatMap((e) => (e.type === "run.noted" ? [e.data.message] : []));
  const deliveries = (await store.readEvents({ runId, types: [...DELIVERY_EVENT_TYPES] })).flatMap((e) =>
    e.type === "notify.sent" || e.type === "notify.failed" || e.type === "notify.dropped" ? [describeDelivery(e).text] : [],
  );
  const planned = readsAsPlan(run.settings.plan, tasks);
  const { diff, uncommitted, runTip, worktreeKept } = git ?? (await readReportGit(run, tasks, planned));
  const schedule = planned ? { ...(await collectScheduleFigures(store, run, Date.now())), concurrency: concurrencyOf(run) } : undefined;
  const gate = await store.readEvents({ runId, types: ["task.assessed", "task.approved", "task.rejected"] });
  const delivery = (await store.readEvents({ runId, types: ["run.delivered"] })).flatMap((e) => (e.type === "run.delivered" ? [e.data] : []));
  return { run, tasks, attempts, diff, uncommitted, notes, deliveries, figures: await collectFigures(store, runId), schedule, runTip, worktreeKept, gate, delivery };
}

/** The run branch's tip and its diff from the base; a run of one task that did not succeed: what its worktree holds. */
async function readReportGit(run: RunRecord, tasks: readonly TaskRecord[], planned: boolean): Promise<ReportGit> {
  let diff: DiffStat | undefined;
  let uncommitted: string[] = [];
  const task = tasks[0];
  let runTip: string | undefined;
  try {
    runTip = await revParse(run.repoRoot, run.branch);
    if (runTip === run.baseSha) runTip = undefined;
    const to = runTip;
    if (to !== undefined) diff = await diffStat({ repo: { root: run.repoRoot }, from: run.baseSha, to });
  } catch {
    diff = undefined;
  }
  try {
    if (!planned && task !== undefined && task.status !== "succeeded") uncommitted = (await worktreeStatus(task.worktree)).paths;
  } catch {
    uncommitted = [];
  }
  return { diff, uncommitted, runTip, worktreeKept: task !== undefined && existsSync(task.worktree) };
}

export function renderReport(data: ReportData, now: number = Date.now()): string {
  const { run, tasks, attempts } = data;
  const out: string[] = [];
  const ended = run.endedAt ?? now;
  const elapsed = run.startedAt === undefined ? 0 : ended - run.startedAt;
  const task = tasks[0];
  out.push(`# orch run ${run.id}`, "", `**Goal:** ${run.goal}`, "");
  out.push(`**Outcome:** ${run.status}${run.reason ? ` — ${run.reason}` : ""}`, "");
  out.push("| | |", "|---|---|");
  out.push(`| Repository | \`${run.repoRoot}\` |`);
  out.push(`| Base | \`${run.baseBranch}\` at \`${run.baseSha.slice(0, 12)}\` |`);
  // Every run's work is integrated into its run branch; a run of one task names its task's verified commit too.
  const verified = data.schedule === undefined && task?.status === "succeeded" && task.commit !== undefined ? `, task commit \`${task.commit.slice(0, 12)}\`` : "";
  out.push(`| ${run.status === "succeeded" ? "Branch to merge" : "Run branch"} | \`${run.branch}\`${data.runTip !== undefined ? ` (at \`${data.runTip.slice(0, 12)}\`${verified})` : " (nothing integrated)"} |`);
  const pr = pullRequestOf(data.delivery);
  if (pr !== undefined) out.push(`| Pull request | ${pr} |`);
  out.push(`| Agent | ${run.agent}${run.model ? ` (${run.model})` : ""}${run.fallbackModels.length > 0 ? `, fallback ${run.fallbackModels.join(", ")}` : ""} |`);
  out.push(`| Attempts | ${run.attempts} of at most ${run.limits.maxAttempts} |`);
  out.push(`| Review | ${describeReviewer(run.settings)} |`);
  out.push(`| Time | ${formatDuration(elapsed)} of at most ${formatDuration(run.limits.maxMs)} |`);
  out.push(`| Tokens | ${run.tokensIn} in, ${run.tokensOut} out |`);
  out.push(`| Cost | ${describeCost(run.costUsd, run.agent)}${run.limits.budgetUsd !== undefined ? ` of a ${money(run.limits.budgetUsd)} budget` : ""} |`);
  if (attempts.some((a) => a.role === "reviewer")) out.push(`| By role | ${byRole(attempts)} |`);
  out.push(`| Progress | ${pct(run.progress)} (${data.schedule !== undefined ? `the mean of its tasks'; each the ${PROGRESS_MEANS}` : PROGRESS_MEANS}) |`, "");

  if (data.schedule !== undefined) out.push(...tasksSection(tasks, data.schedule));

  out.push("## Criteria", "");
  const last = [...attempts].reverse().find((a) => a.criteria !== undefined);
  for (const command of run.criteria) {
    const result = last?.criteria?.find((c) => c.command === command);
    const mark = result?.passed === true ? "x" : " ";
    const detail = result === undefined ? "not run" : result.passed ? "passed" : `failed (exit ${result.exitCode ?? "signal"}${result.tests ? `, ${result.tests.passed}/${result.tests.total} tests passed` : ""})`;
    out.push(`- [${mark}] \`${command}\` — ${detail}`);
  }
  out.push("");

  out.push("## Attempts", "");
  if (attempts.length === 0) {
    out.push("No attempt was made.", "");
  } else {
    // A planned run's tasks each count their attempts from 1: the task column tells their rows apart.
    const byTask = data.schedule !== undefined;
    out.push(
      `|${byTask ? " task |" : ""} # | agent | model | duration | tokens in/out | cost | result | criteria passed | progress |`,
      `|${byTask ? "---|" : ""}---|---|---|---|---|---|---|---|---|`,
    );
    for (const a of attempts) {
      const met = a.criteria === undefined ? "—" : `${a.criteria.filter((c) => c.passed).length}/${a.criteria.length}`;
      const result =
        a.review !== undefined ? (a.review.approved ? "approved" : "changes requested") : a.status === "succeeded" ? "succeeded" : a.failure !== undefined ? a.failure.kind : a.status;
      out.push(
        `|${byTask ? ` \`${a.taskId}\` |` : ""} ${a.role === "reviewer" ? `r${a.number}` : a.number} | ${a.agent} | ${a.model ?? "default"} | ${a.durationMs === undefined ? "—" : formatDuration(a.durationMs)} | ${a.usage ? `${a.usage.inputTokens}/${a.usage.outputTokens}` : "—"} | ${a.costUsd === undefined ? "—" : money(a.costUsd)} | ${result} | ${met} | ${a.progress === undefined ? "—" : pct(a.progress)} |`,
      );
    }
    out.push("");
    for (const a of attempts) {
      const name = attemptName(a);
      out.push(data.schedule !== undefined ? `### Task ${a.taskId}, ${name}` : `### ${name[0]?.toUpperCase() ?? ""}${name.slice(1)}`, "");
      if (a.review !== undefined) {
        const r = a.review;
        out.push(`- Reviewed commit \`${r.commit.slice(0, 12)}\` (attempt ${r.attempt}, round ${r.round}): **${r.approved ? "approved" : "changes requested"}** (verdict ${r.verdict})`);
        if (r.summary.trim() !== "") out.push(`- Summary: ${firstLine(r.summary, 400)}`);
        for (const f of r.findings) out.push(`- Finding: ${describeFinding(f)}`);
      }
      if (a.failure !== undefined) out.push(`- Failure: **${a.failure.kind}** — ${firstLine(a.failure.detail, 400)}`);
      if (a.exitCode !== undefined || a.signal !== undefined) out.push(`- Agent exit: ${a.signal ? `signal ${a.signal}` : `code ${a.exitCode}`}${a.exitReason && a.exitReason !== "exited" ? ` (${a.exitReason})` : ""}`);
      if (a.sessionId !== undefined) out.push(`- Session: \`${a.sessionId}\``);
      if (a.commit !== undefined) out.push(`- Commit: \`${a.commit.slice(0, 12)}\``);
      for (const c of a.criteria ?? []) {
        out.push(`- \`${c.command}\`: ${c.passed ? "passed" : c.timedOut ? "timed out" : `exit ${c.exitCode ?? "signal"}`}${c.tests ? ` — ${c.tests.passed} passed, ${c.tests.failed} failed, ${c.tests.skipped} skipped (${c.tests.runner})` : ""} in ${formatDuration(c.durationMs)}`);
      }
      out.push(`- Transcript: \`${a.transcript}\``, "");
    }
  }

  if (data.gate.length > 0) out.push(...gateSection(data.gate));

  out.push("## Recovery", "");
  out.push(recoverySection(data.figures), "");

  if (data.notes.length > 0) out.push("## Notes", "", ...data.notes.map((n) => `- ${n}`), "");
  if (data.deliveries.length > 0) out.push("## Notifications", "", ...data.deliveries.map((n) => `- ${n}`), "");

  out.push("## Changes", "");
  if (data.diff !== undefined) {
    out.push(`${data.diff.files} file(s) changed, ${data.diff.insertions} insertion(s), ${data.diff.deletions} deletion(s).`, "");
    if (data.diff.text !== "") out.push("```", data.diff.text, "```", "");
  } else if (data.uncommitted.length > 0) {
    out.push(`No verified commit. The last attempt left ${data.uncommitted.length} uncommitted change(s) in \`${task?.worktree ?? ""}\`:`, "");
    out.push(...data.uncommitted.slice(0, 50).map((p) => `- \`${p}\``), "");
  } else {
    out.push("No changes.", "");
  }

  if (data.delivery.length > 0) out.push("## Delivery", "", ...data.delivery.map((d) => `- ${describeRunDelivery(d)}`), "");

  out.push("## Next", "");
  out.push(...deliveryNext(data.delivery));
  if (data.schedule !== undefined) {
    out.push(
      run.status === "succeeded"
        ? `Merge the verified work: \`git merge ${run.branch}\` (from \`${run.baseBranch}\`). Every task on it passed its criteria, and the run's criteria pass on it.`
        : `The run branch \`${run.branch}\` holds the tasks that were integrated (each verified); the others are listed above with why they stopped.`,
    );
  } else if (task?.status === "succeeded") {
    out.push(`Merge the verified work: \`git merge ${run.branch}\` (from \`${run.baseBranch}\`).`);
    out.push(
      data.worktreeKept
        ? `Look first: \`git diff ${run.baseBranch}...${run.branch}\`. The task's worktree is \`${task.worktree}\`; \`orch gc\` removes it.`
        : `Look first: \`git diff ${run.baseBranch}...${run.branch}\`. The task's worktree was removed once its work was integrated; the branch holds the work.`,
    );
  } else if (task !== undefined) {
    out.push(
      data.worktreeKept
        ? `Nothing was verified. The work in progress is in \`${task.worktree}\` (branch \`${task.branch}\`); see the attempts above for why it stopped.`
        : `Nothing was verified. Its worktree was removed (\`orch gc\`, which first commits what was left uncommitted there): the work in progress is on branch \`${task.branch}\`; see the attempts above for why it stopped.`,
    );
  }
  out.push("");
  // It quotes agents and their commands: shown as text wherever it is read (`cat`, a pager), never obeyed.
  return escapeControls(out.join("\n"));
}

/** What each role's attempts spent: tokens in and out, and cost where the agents reported one. */
function byRole(attempts: readonly AttemptRecord[]): string {
  const roles: AttemptRecord["role"][] = ["implementer", "reviewer"];
  return roles
    .map((role) => {
      const mine = attempts.filter((a) => a.role === role);
      const tokensIn = mine.reduce((sum, a) => sum + (a.usage?.inputTokens ?? 0), 0);
      const tokensOut = mine.reduce((sum, a) => sum + (a.usage?.outputTokens ?? 0), 0);
      const reported = mine.filter((a) => a.costUsd !== undefined);
      const cost = reported.length === 0 ? "no cost reported" : money(reported.reduce((sum, a) => sum + (a.costUsd ?? 0), 0));
      return `${role}: ${mine.length} attempt(s), ${tokensIn} in / ${tokensOut} out, ${cost}`;
    })
    .join("; ");
}

/** Each commit the gate judged (its risk and the rules that fired) and who let it on: orch by itself, or a human. */
function gateSection(events: readonly StoredEvent[]): string[] {
  const { autonomous, human } = countDecisions(events);
  const all = autonomous + human;
  const lines = ["## Approval", "", `${autonomous} decision(s) made by orch on its own, ${human} by a human${all > 0 ? ` (${Math.round((autonomous / all) * 100)}% autonomous)` : ""}.`, ""];
  for (const e of events) {
    const task = `\`${e.taskId ?? "?"}\``;
    if (e.type === "task.assessed") {
      lines.push(`- ${task} commit \`${e.data.commit.slice(0, 12)}\`: **${e.data.level} risk**, ${e.data.decision === "integrate" ? "let on by orch" : "held for a human"} — ${e.data.why}`);
      for (const rule of e.data.rules) lines.push(`  - ${rule}`);
    } else if (e.type === "task.approved") {
      lines.push(`- ${task} commit \`${e.data.commit.slice(0, 12)}\`: approved by ${e.data.by}${e.data.reason !== undefined ? `: ${e.data.reason}` : ""}`);
    } else if (e.type === "task.rejected") {
      lines.push(`- ${task} commit \`${e.data.commit.slice(0, 12)}\`: rejected by ${e.data.by}: ${e.data.reason}`);
    }
  }
  lines.push("");
  return lines;
}

/** Writes the run's report to `path`; `git` as for collectReport. Returns its text, and what it read from git. */
export async function writeReport(store: JournalReader, runId: string, path: string, git?: ReportGit): Promise<{ markdown: string; git: ReportGit }> {
  const data = await collectReport(store, runId, git);
  const markdown = renderReport(data);
  mkdirSync(dirname(path), { recursive: true });
  // It quotes failures and criteria output: for its owner's eyes, like the rest of .orch/.
  writeFileSync(path, markdown, { mode: 0o600 });
  return { markdown, git: { diff: data.diff, uncommitted: data.uncommitted, runTip: data.runTip, worktreeKept: data.worktreeKept } };
}

/** A planned run's tasks: where each stands, what it waited for, the merge that integrated it; and the figures. */
function tasksSection(tasks: readonly TaskRecord[], schedule: ScheduleFigures & { concurrency: number }): string[] {
  const rows = tasks.map((t) => {
    const why = t.reason === undefined ? "" : firstLine(t.reason, 120);
    return `| \`${t.id}\` | ${t.role} | ${t.title} | ${t.dependsOn.map((d) => `\`${d}\``).join(", ") || "—"} | ${t.status} | ${t.attempts} | ${t.integrated === undefined ? "—" : `\`${t.integrated.slice(0, 12)}\``} | ${why} |`;
  });
  return [
    "## Tasks",
    "",
    "| task | role | title | after | status | attempts | merge | why |",
    "|---|---|---|---|---|---|---|---|",
    ...rows,
    "",
    describeSchedule(schedule, schedule.concurrency, formatDuration),
    "",
  ];
}

function recoverySection(f: RecoveryFigures): string {
  const kinds = Object.entries(f.failuresByKind);
  const interrupted = f.interrupted === 0 ? "" : ` ${f.interrupted} attempt${f.interrupted === 1 ? " was" : "s were"} interrupted from outside (Ctrl-C, a stop, an abort or the time limit); ${f.interrupted === 1 ? "it is" : "they are"} not counted as failures.`;
  if (kinds.length === 0) return `No attempt failed.${interrupted}`;
  const lines = ["| failure | attempts |", "|---|---|", ...kinds.map(([kind, n]) => `| ${kind} | ${n} |`), ""];
  if (interrupted !== "") lines.push(interrupted.trim(), "");
  if (f.recoveryRate === null) lines.push("Every failure was a failed verification: the loop's ordinary work, nothing to recover from.");
  else {
    lines.push(
      `Agent failures recovered without a human: ${f.recovered} of ${f.recovered + f.escalated} (${Math.round(f.recoveryRate * 100)}%).`,
    );
  }
  lines.push(`Time spent waiting on limits and backoff: ${formatDuration(f.waitedMs)}. Model calls spent on retries: ${f.retryCalls}.`);
  return lines.join("\n");
}

/** The pull request the run opened or updated, if any. */
function pullRequestOf(delivery: readonly DeliveryOutcome[]): string | undefined {
  return delivery.flatMap((d) => (d.outcome === "pr-opened" || d.outcome === "pr-updated" ? [d.url] : [])).at(-1);
}

/** What delivery leaves to do: review the pull request, or the exact commands that push the branch and open one. */
function deliveryNext(delivery: readonly DeliveryOutcome[]): string[] {
  const pr = pullRequestOf(delivery);
  if (pr !== undefined) return [`Review and merge the pull request: ${pr}`, ""];
  const lines: string[] = [];
  for (const d of delivery) {
    if (d.outcome === "push-skipped" && d.command !== undefined) lines.push(`The branch was not pushed (${d.reason}). To push it: \`${d.command}\``);
    else if (d.outcome === "push-failed") lines.push(`The push failed (${d.reason}). Once that is mended, push it: \`${d.command}\``);
    else if ((d.outcome === "pr-skipped" || d.outcome === "pr-failed") && d.command !== undefined) lines.push(`No pull request was opened (${d.reason}). To open one: \`${d.command}\``);
  }
  return lines.length > 0 ? [...lines, ""] : [];
}

const pct = (p: number) => `${Math.round(p * 100)}%`;
