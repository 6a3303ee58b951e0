// How a delivery outcome reads, the same in `orch logs`, `orch status` and the report: one sentence each.
import type { DeliveryOutcome } from "./journal.js";

export function describeRunDelivery(outcome: DeliveryOutcome): string {
  switch (outcome.outcome) {
    case "pushed":
      return `pushed ${outcome.branch} to ${outcome.remote} at ${outcome.sha.slice(0, 12)}`;
    case "push-failed":
      return `push of ${outcome.branch} to ${outcome.remote} failed: ${outcome.reason}`;
    case "push-skipped":
      return `not pushed: ${outcome.reason}`;
    case "pr-opened":
      return `pull request opened: ${outcome.url}`;
    case "pr-updated":
      return `pull request updated: ${outcome.url}`;
    case "pr-failed":
      return `pull request not opened: ${outcome.reason}`;
    case "pr-skipped":
      return `no pull request: ${outcome.reason}`;
  }
}

/** A word as a POSIX shell reads it back unchanged: bare when it is plain, else in single quotes. */
export function shellWord(word: string): string {
  return /^[A-Za-z0-9_./:@%+=,-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** A pull request's title from a run's goal: its first line without a list marker, at most 120 characters. */
export function pullRequestTitle(goal: string): string {
  const line = goal.trim().split("\n")[0]?.replace(/^\s*([-*•]|\d+[.)])\s+/, "").trim() ?? "";
  const title = line === "" ? "orch run" : line;
  return title.length > 120 ? `${title.slice(0, 119)}…` : title;
}

/** GitHub refuses a pull request body over 65,536 characters: a longer report is cut, and says where the rest is. */
export const PR_BODY_MAX_CHARS = 65_536;

export function pullRequestBody(report: string, reportName: string, max = PR_BODY_MAX_CHARS): string {
  if (report.length <= max) return report;
  const tail = `\n\n… the report was cut here; the whole of it is \`${reportName}\` in the repository's .orch/reports.\n`;
  return `${report.slice(0, max - tail.length)}${tail}`;
}
