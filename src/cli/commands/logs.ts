// `orch logs RUN|RUN/TASK|ATTEMPT [-f]`: the normalized transcript from the journal, with the loop's own
// milestones between agent events; `-f` follows a live run until it ends. In a planned run every line of a task
// names it (`api#2`: task api, attempt 2), since tasks run side by side; `RUN/TASK` shows one task's lines only.
import { formatDuration, formatTimestamp } from "../../core/duration.js";
import type { StoredEvent } from "../../core/journal.js";
import { describeDelivery } from "../../core/notify.js";
import { isTerminalRun, readsAsPlan } from "../../core/run.js";
import { describeFinding } from "../../core/review.js";
import { firstLine } from "../../core/text.js";
import { describeRunDelivery } from "../../core/delivery-text.js";
import { followJournal } from "../../read/feed.js";
import { resolveTranscript } from "../../read/transcript.js";
import { withJournalReader } from "../../app/journal-reader.js";
import { agentLine, attemptLabel } from "../agent-lines.js";
import { type CliContext } from "../context.js";
import { EXIT } from "../exit-codes.js";

/** One journal event as lines of `orch logs`; `withTask`: the run has several tasks, so each line names its own. */
export function formatEvent(event: StoredEvent, withTask = false): string | undefined {
  const time = formatTimestamp(event.at);
  const who = attemptLabel(event.taskId, event.attemptId, withTask);
  const prefix = `${time}${who === "" ? "" : ` ${who}`} `;
  const line = (text: string) => `${prefix}${text}`;
  switch (event.type) {
    case "agent.emitted":
      return agentLine(prefix, event.data);
    case "run.created":
      return line(`── run ${event.runId} created: ${event.data.goal}`);
    case "run.started":
      return line(`── run started (pid ${event.data.pid}${event.data.detached ? ", detached" : ""})`);
    case "run.stop-requested":
      return line(`── ${event.data.mode} requested by ${event.data.by}`);
    case "run.waiting":
      return line(`── waiting for a human: ${event.data.reason}`);
    case "run.paused":
      return line(`── run paused: ${event.data.reason}`);
    case "run.resumed": {
      const after = event.data.from === "crashed" ? "after its supervisor died" : `after it was ${event.data.from}`;
      const found = event.data.reconciled.map((r) => `\n${" ".repeat(time.length + 1)}· ${r}`).join("");
      return line(`── run resumed ${after} (pid ${event.data.pid}${event.data.detached ? ", detached" : ""})${found}`);
    }
    case "run.collected": {
      const removed = event.data.worktrees.filter((w) => w.removed).length;
      const wip = event.data.worktrees.filter((w) => w.wipCommit !== undefined).length;
      const branches = (event.data.branches ?? []).map((b) => `${b.name} (was ${b.sha.slice(0, 12)})`);
      const deleted = branches.length > 0 ? `branches deleted: ${branches.join(", ")}` : "";
      if (removed === 0 && wip === 0) return line(`── ${deleted} by ${event.data.by}`);
      return line(`── ${removed} worktree(s) removed by ${event.data.by}${wip > 0 ? `; unverified work kept in ${wip} commit(s) on the task branch` : ""}${deleted !== "" ? `; ${deleted}` : ""}`);
    }
    case "run.finished":
      return line(`── run ${event.data.status}: ${event.data.reason}`);
    case "run.delivered":
      return line(`── ${describeRunDelivery(event.data)}`);
    case "run.noted":
      return line(`── ${event.data.message}`);
    case "run.extended": {
      const { maxAttempts, maxMs, previous, by } = event.data;
      return line(`── limits extended by ${by}: ${previous.maxAttempts} → ${maxAttempts} attempts, ${formatDuration(previous.maxMs)} → ${formatDuration(maxMs)}`);
    }
    case "task.reopened":
      return `${time} ── task ${event.taskId ?? ""} reopened (${event.data.to}): it had ended with "${event.data.reason}"`;
    case "task.created":
    case "task.started":
      return undefined;
    case "task.finished":
      // It names its task in its words already.
      return `${time} ── task ${event.taskId ?? ""} ${event.data.status}: ${event.data.reason}`;
    case "task.assessed":
      return `${time} ── task ${event.taskId ?? ""}: commit ${event.data.commit.slice(0, 12)} is ${event.data.level} risk; ${event.data.decision === "integrate" ? "it goes on to be merged" : "held for a human"} (${event.data.why})${event.data.rules.map((r) => `\n${time}    ${r}`).join("")}`;
    case "task.approved":
      return `${time} ── task ${event.taskId ?? ""}: commit ${event.data.commit.slice(0, 12)} approved by ${event.data.by}${event.data.reason !== undefined ? `: ${event.data.reason}` : ""}`;
    case "task.rejected":
      return `${time} ── task ${event.taskId ?? ""}: commit ${event.data.commit.slice(0, 12)} rejected by ${event.data.by}: ${event.data.reason}`;
    case "task.waited":
      return line(`── waiting ${formatDuration(event.data.delayMs)}: ${event.data.reason}`);
    case "attempt.started":
      return line(
        event.data.role === "reviewer"
          ? `── review ${event.data.number} of ${(event.data.reviews ?? "").slice(0, 12)} started (${event.data.agent}${event.data.model ? `, ${event.data.model}` : ""})`
          : `── attempt ${event.data.number} started (${event.data.agent}${event.data.model ? `, ${event.data.model}` : ""})`,
      );
    case "attempt.spawned":
      return undefined;
    case "attempt.exited":
      return line(
        `── agent exited (${event.data.signal ? `signal ${event.data.signal}` : `code ${event.data.exitCode}`}, ${formatDuration(event.data.durationMs)})${event.data.failure ? `: ${event.data.failure.kind} — ${event.data.failure.detail}` : ""}`,
      );
    case "verify.completed":
      return event.data.criteria
        .map((c) => line(`${c.passed ? "✔ pass" : "✖ FAIL"} \`${c.command}\`${c.tests ? ` (${c.tests.passed}/${c.tests.total} tests)` : ""}`))
        .join("\n");
    case "notify.sent":
    case "notify.failed":
    case "notify.dropped":
      return line(`── ${describeDelivery(event).text}`);
    case "attempt.finished":
      if (event.data.review !== undefined) {
        const r = event.data.review;
        const findings = r.findings.map((f) => `\n${line(`   ${describeFinding(f)}`)}`).join("");
        return `${line(`── review of ${r.commit.slice(0, 12)} (round ${r.round}): ${r.approved ? "approved" : "changes requested"}${r.summary.trim() !== "" ? ` — ${firstLine(r.summary, 200)}` : ""}`)}${findings}`;
      }
      if (event.data.awaitsReview === true) return line(`── attempt succeeded, commit ${(event.data.commit ?? "").slice(0, 12)}; it goes to review`);
      return line(`── attempt ${event.data.outcome}, progress ${Math.round(event.data.progress * 100)}%${event.data.commit ? `, commit ${event.data.commit.slice(0, 12)}` : ""}`);
  }
}

export async function logsCommand(ctx: CliContext, ref: string, flags: { follow?: boolean; json?: boolean }): Promise<number> {
  return withJournalReader(ctx.cwd, async ({ journal: store }) => {
    const target = await resolveTranscript(store, ref);
    const run = await store.getRun(target.runId);
    const withTask = run !== undefined && readsAsPlan(run.settings.plan, await store.listTasks(target.runId));
    const print = (events: readonly StoredEvent[]) => {
      for (const event of events) {
        if (flags.json === true) ctx.output.out(JSON.stringify(event));
        else {
          const text = formatEvent(event, withTask);
          if (text !== undefined) ctx.output.out(text);
        }
      }
    };
    // Without -f the follow ends at once, after reading everything there is.
    const done = async () => {
      if (flags.follow !== true) return true;
      const run = await store.getRun(target.runId);
      return run === undefined || isTerminalRun(run.status) || run.status === "waiting";
    };
    for await (const events of followJournal({ store, query: target.query, afterSeq: 0, done })) print(events);
    return EXIT.ok;
  });
}
