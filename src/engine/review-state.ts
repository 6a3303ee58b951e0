// What the report and the read side say of reviews: who reviews the run's tasks (or why nobody does), and where each task's review
// stands, from its reviewer attempts as the journal holds them. `orch status`, the report and the server say the same.
import { describeFinding } from "../core/review.js";
import type { RunSettings } from "../core/run-settings.js";
import type { AttemptRecord } from "../store/store.js";

/** The run's reviews in one line: who reviews and for how many rounds, or why its tasks go unreviewed. */
export function describeReviewer(settings: RunSettings): string {
  const review = settings.review;
  if (review === undefined) return "not reviewed: the run was made before orch reviewed tasks";
  if (!review.on) return `not reviewed: ${review.why}`;
  return `by ${review.reviewer.agent.name}${review.reviewer.model !== undefined ? `:${review.reviewer.model}` : ""}, at most ${review.maxRounds} round(s) a task`;
}

/** A task's review as it stands: null when the task has had none yet (or the run has none). */
export function taskReview(attempts: readonly AttemptRecord[]): string | null {
  const reviews = attempts.filter((a) => a.role === "reviewer");
  const last = reviews.at(-1);
  if (last === undefined) return null;
  const by = `${last.agent}${last.model !== undefined ? `:${last.model}` : ""}`;
  if (last.status === "starting" || last.status === "running" || last.status === "verifying") return `in review by ${by}`;
  const record = last.review;
  if (record === undefined) return `review ${last.number} failed (${last.failure?.kind ?? "no verdict"}); ${reviews.length} review attempt(s)`;
  const commit = record.commit.slice(0, 12);
  if (record.approved) return `approved by ${by} (commit ${commit}, round ${record.round}${record.findings.length > 0 ? `, ${record.findings.length} non-blocking finding(s)` : ""})`;
  const first = record.findings[0];
  return `changes requested by ${by} (commit ${commit}, round ${record.round}, ${record.findings.length} finding(s))${first !== undefined ? `: ${describeFinding(first)}` : ""}`;
}

/** How an attempt is named to a person: the implementer's `attempt 2`, a reviewer's `review 1`. */
export const attemptName = (a: Pick<AttemptRecord, "role" | "number">): string => (a.role === "reviewer" ? `review ${a.number}` : `attempt ${a.number}`);
