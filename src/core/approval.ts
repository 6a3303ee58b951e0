// The approval gate, pure: who may let a task's verified work into the run branch. From the risk of its change
// (core/risk.ts) and its review (core/review.ts): low risk goes on its own once its criteria pass (and its reviewer,
// if it has one, approved); medium also needs a reviewer's approval with no finding above P2; high waits for a
// human. The graph's fold (core/run-graph.ts) holds the task until the decision is journaled.
import type { EventBody } from "./journal.js";
import type { Risk } from "./plan.js";
import { SEVERITIES, type Severity } from "./review.js";

/** What the gate knows of a task's review: none (not reviewed), or the approving review's worst finding. */
export type GateReview = { readonly worst: Severity | undefined } | undefined;

export interface GateDecision {
  readonly decision: "integrate" | "human";
  /** Why, in plain words, for the journal, `orch status` and the report. */
  readonly why: string;
}

/**
 * The gate's decisions in a run's journal: those orch made on its own (a commit let on, or rejected when no human
 * decided in time) and those a human made (`orch approve`, `orch reject`).
 */
export function countDecisions(events: readonly EventBody[]): { autonomous: number; human: number } {
  let autonomous = 0;
  let human = 0;
  for (const e of events) {
    if (e.type === "task.assessed" && e.data.decision === "integrate") autonomous++;
    else if (e.type === "task.approved" || (e.type === "task.rejected" && e.data.by !== "orch")) human++;
    else if (e.type === "task.rejected") autonomous++;
  }
  return { autonomous, human };
}

/** The highest severity among findings (P0 is the highest); undefined when there are none. */
export function worstSeverity(severities: readonly Severity[]): Severity | undefined {
  return SEVERITIES.find((s) => severities.includes(s));
}

export function gateDecision(level: Risk, review: GateReview): GateDecision {
  const reviewed = review === undefined ? "not reviewed" : `approved by the reviewer${review.worst !== undefined ? ` (worst finding ${review.worst})` : ""}`;
  switch (level) {
    case "low":
      return { decision: "integrate", why: `low risk; ${reviewed}` };
    case "medium":
      if (review !== undefined && (review.worst === undefined || review.worst === "P2" || review.worst === "P3")) {
        return { decision: "integrate", why: `medium risk; ${reviewed}, nothing above P2` };
      }
      return { decision: "human", why: review === undefined ? "medium risk and not reviewed: a human must approve" : `medium risk and the reviewer's findings include ${review.worst ?? "?"}: a human must approve` };
    case "high":
      return { decision: "human", why: `high risk: a human must approve (${reviewed})` };
  }
}
