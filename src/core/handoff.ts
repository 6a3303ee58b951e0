// The handoff: what a fresh attempt needs to know about the ones before it — what was tried, how it ended,
// and the verify output that failed — trimmed so the newest failure is shown in full and older attempts
// shrink to a line, keeping the prompt bounded however many attempts came before.
import type { AttemptChanges } from "./diff-excerpt.js";
import type { Failure } from "./failure.js";
import type { CriterionResult } from "./journal.js";
import { firstLine, tailLines } from "./text.js";

export interface AttemptSummary {
  number: number;
  agent: string;
  model?: string | undefined;
  /** How the attempt failed; `verify_failed` when the agent finished but criteria were not met. */
  failure?: Failure | undefined;
  criteria: CriterionResult[];
  /** The agent's last words (its final answer), if any. */
  finalText?: string | undefined;
  /** What it did, one short line per tool call: `Write src/sum.js`, `Bash npm test`. */
  actions: string[];
  /** Tools the CLI refused the agent (not allowed at the run's permission level). */
  deniedTools?: readonly string[] | undefined;
  progress: number;
  /** What it left changed in the worktree (a failed attempt): a diff stat and the most relevant hunks, bounded. */
  changes?: AttemptChanges | undefined;
  /** Its work passed the criteria and a reviewer asked for changes: what the reviewer said (core/review.ts). */
  review?: string | undefined;
}

export interface HandoffLimits {
  /** Attempts shown with their actions; older ones get one line each. */
  detailed: number;
  /** Output lines of each failing criterion of the newest attempt. */
  outputLines: number;
  outputChars: number;
  actions: number;
  /** Hard cap on the whole handoff. */
  maxChars: number;
}

export const DEFAULT_HANDOFF_LIMITS: HandoffLimits = { detailed: 3, outputLines: 80, outputChars: 4_000, actions: 12, maxChars: 12_000 };

export function buildHandoff(attempts: readonly AttemptSummary[], limits: HandoffLimits = DEFAULT_HANDOFF_LIMITS): string {
  if (attempts.length === 0) return "";
  const ordered = [...attempts].sort((a, b) => a.number - b.number);
  const newest = ordered[ordered.length - 1];
  const detailedFrom = Math.max(0, ordered.length - limits.detailed);
  const parts: string[] = [`Earlier attempts on this task: ${ordered.length}. Do not repeat what did not work.`];

  for (const [i, attempt] of ordered.entries()) {
    if (i < detailedFrom) {
      parts.push(`- Attempt ${attempt.number}: ${outcome(attempt)}`);
      continue;
    }
    const lines = [`### Attempt ${attempt.number} (${attempt.agent}${attempt.model ? `, ${attempt.model}` : ""})`, `Outcome: ${outcome(attempt)}`];
    if (attempt.actions.length > 0) {
      const shown = dedupe(attempt.actions).slice(-limits.actions);
      const hidden = attempt.actions.length - shown.length;
      lines.push(`What it did${hidden > 0 ? ` (last ${shown.length} of ${attempt.actions.length})` : ""}:`);
      lines.push(...shown.map((a) => `  - ${firstLine(a, 160)}`));
    }
    if (attempt.finalText) lines.push(`Its last words: ${firstLine(attempt.finalText, 300)}`);
    if (attempt.review !== undefined) lines.push(attempt.review);
    if (attempt.deniedTools !== undefined && attempt.deniedTools.length > 0) {
      lines.push(`Tools it was refused (not allowed in this run; do the work without them): ${attempt.deniedTools.join(", ")}`);
    }
    if (attempt === newest) {
      for (const c of attempt.criteria.filter((c) => !c.passed)) {
        lines.push(
          `Verify command \`${c.command}\` ${c.timedOut ? "timed out" : `exited ${c.exitCode ?? "by signal"}`}` +
            `${c.tests ? ` (${c.tests.passed} passed, ${c.tests.failed} failed of ${c.tests.total})` : ""}. Its output:`,
        );
        lines.push("```", tailLines(c.outputTail, limits.outputLines, limits.outputChars), "```");
      }
      // After the verify output, so that the handoff's hard cap cuts these first.
      if (attempt.changes !== undefined) {
        lines.push("What it changed (the worktree against its last commit; the changes are still there):", "```", attempt.changes.stat, "```");
        if (attempt.changes.hunks !== "") lines.push("The most relevant hunks:", "```diff", attempt.changes.hunks, "```");
      }
    }
    parts.push(lines.join("\n"));
  }
  const text = parts.join("\n\n");
  return text.length <= limits.maxChars ? text : `${text.slice(0, limits.maxChars)}\n[… handoff cut to ${limits.maxChars} characters]`;
}

function outcome(a: AttemptSummary): string {
  const met = a.criteria.filter((c) => c.passed).length;
  const criteria = a.criteria.length > 0 ? `; criteria met ${met}/${a.criteria.length}` : "";
  const progress = `progress ${Math.round(a.progress * 100)}%`;
  if (a.failure === undefined) return a.review !== undefined ? `all criteria met; the reviewer asked for changes (${progress})` : `all criteria met (${progress})`;
  const what = a.failure.kind === "verify_failed" ? "finished, but verification failed" : `${a.failure.kind}: ${firstLine(a.failure.detail, 200)}`;
  return `${what} (${progress}${criteria})`;
}

function dedupe(items: readonly string[]): string[] {
  const out: string[] = [];
  for (const item of items) if (out[out.length - 1] !== item) out.push(item);
  return out;
}
