// The whole-run review before delivery, pure: when every task is integrated, the reviewer reads the run branch's
// whole diff against its base (what the pull request would show), and its verdict decides the delivery. Blocking
// findings go back to the run as one task of fixes, at most `wholeRunFixes` times; a review that gave no verdict is
// tried again, then the run is held from delivery. Invariant: what comes next is derived from the journal alone (the
// run's tasks and attempts and the run branch's tip), so a supervisor that dies mid-review and the one that takes
// over reach the same step, and every path ends: each round either approves, holds, or spends one of a bounded
// number of fix tasks.
import { answerSection, blockingFindings, describeFinding, type ReviewFinding, type ReviewRecord } from "./review.js";
import { firstLine } from "./text.js";

/** Tasks orch makes for the whole-run review (`_review-1` …) and for its fixes (`_fix-1` …): a plan's ids never start with `_`. */
export const RUN_REVIEW_PREFIX = "_review-";
export const RUN_FIX_PREFIX = "_fix-";
/** Reviews of one tip in a row that gave no verdict before the run is held from delivery. */
export const RUN_REVIEW_FAILURES = 3;

export interface RunReviewSettings {
  wholeRun: boolean;
  wholeRunFixes: number;
}

export interface RunReviewInput {
  /** Undefined: the run has no reviewer (or reviews are off). */
  settings: RunReviewSettings | undefined;
  baseSha: string;
  /** The run branch's tip: the commit the pull request would deliver. */
  tip: string;
  tasks: readonly { id: string; status: string }[];
  /**
   * A commit a task's reviewer approved whose review was of the run's whole change: the run integrated that one task
   * only, and the tip's tree is that commit's (its merge changed nothing more). The same change needs no other review.
   */
  approvedWhole: string | undefined;
  attempts: readonly { taskId: string; role: "implementer" | "reviewer"; number: number; status: string; review: ReviewRecord | undefined }[];
}

export type RunReviewStep =
  /** Deliver without a whole-run review; `why` says why none was needed. */
  | { readonly kind: "skip"; readonly why: string }
  /** Run a review attempt on task `taskId` (made first when `create`). */
  | { readonly kind: "review"; readonly taskId: string; readonly create: boolean; readonly round: number; readonly number: number; readonly earlier: readonly ReviewFinding[] }
  /** The tip has a verdict: approved (deliver), or blocking findings that go back as the task `fix` or hold the delivery. */
  | { readonly kind: "approved"; readonly record: ReviewRecord }
  | { readonly kind: "fix"; readonly record: ReviewRecord; readonly taskId: string; readonly goal: string }
  | { readonly kind: "hold"; readonly reason: string };

const ordinal = (id: string, prefix: string): number => Number(id.slice(prefix.length));

/** Why the run has no whole-run review at all, whatever its journal holds; undefined when it has one. */
export function runReviewOff(settings: RunReviewInput["settings"]): string | undefined {
  if (settings === undefined) return "the run has no reviewer";
  if (!settings.wholeRun) return "the whole-run review is turned off (review.wholeRun: false)";
  return undefined;
}

/** What the whole-run review does next, from the journal. */
export function runReviewStep(input: RunReviewInput): RunReviewStep {
  const { settings, tip } = input;
  if (settings === undefined || !settings.wholeRun) return { kind: "skip", why: runReviewOff(settings) ?? "" };
  if (tip === input.baseSha) return { kind: "skip", why: "the run branch holds no work beyond its base" };
  if (input.approvedWhole !== undefined) return { kind: "skip", why: `its whole change is the commit ${input.approvedWhole.slice(0, 12)}, which its task's reviewer approved` };
  const reviewTasks = input.tasks.filter((t) => t.id.startsWith(RUN_REVIEW_PREFIX)).sort((a, b) => ordinal(a.id, RUN_REVIEW_PREFIX) - ordinal(b.id, RUN_REVIEW_PREFIX));
  const ofRun = new Set(reviewTasks.map((t) => t.id));

  const verdicts = input.attempts.filter((a) => ofRun.has(a.taskId) && a.review !== undefined).map((a) => a.review as ReviewRecord);
  const judged = verdicts.filter((r) => r.commit === tip).at(-1);
  if (judged !== undefined) {
    if (judged.approved) return { kind: "approved", record: judged };
    const fixes = input.tasks.filter((t) => t.id.startsWith(RUN_FIX_PREFIX)).length;
    const blocking = blockingFindings(judged, judged.round).findings;
    if (fixes < settings.wholeRunFixes) return { kind: "fix", record: judged, taskId: `${RUN_FIX_PREFIX}${fixes + 1}`, goal: fixGoal(judged) };
    const listed = blocking.slice(0, 3).map(describeFinding).join("; ");
    return {
      kind: "hold",
      reason: `the whole-run review (round ${judged.round}) still asks for changes after ${fixes} round(s) of fixes${listed !== "" ? `: ${listed}` : `: ${firstLine(judged.summary, 300)}`}`,
    };
  }
  const last = reviewTasks.at(-1);
  // A review that gave no verdict in its tries ended its task as failed: the run is held, never reviewed for ever.
  if (last?.status === "failed") return { kind: "hold", reason: `the whole-run review gave no verdict in ${RUN_REVIEW_FAILURES} tries` };
  const open = last !== undefined && (last.status === "pending" || last.status === "running") ? last : undefined;
  const taskId = open?.id ?? `${RUN_REVIEW_PREFIX}${reviewTasks.length + 1}`;
  const mine = input.attempts.filter((a) => a.taskId === taskId);
  const failures = mine.filter((a) => a.status === "failed").length;
  if (failures >= RUN_REVIEW_FAILURES) return { kind: "hold", reason: `the whole-run review of ${tip.slice(0, 12)} gave no verdict in ${failures} tries` };
  const before = verdicts.at(-1);
  return {
    kind: "review",
    taskId,
    create: open === undefined,
    round: verdicts.length + 1,
    number: mine.length + 1,
    earlier: before === undefined ? [] : blockingFindings(before, before.round).findings,
  };
}

/** The goal of the task that fixes what a whole-run review found. */
export function fixGoal(record: ReviewRecord): string {
  const blocking = blockingFindings(record, record.round).findings;
  const lines = [
    `A reviewer of another model read the whole change of this run (commit ${record.commit.slice(0, 12)} against the run's base) and asked for changes before it is delivered.`,
  ];
  if (record.summary.trim() !== "") lines.push(`Its summary: ${firstLine(record.summary, 600)}`);
  if (blocking.length > 0) lines.push("Fix these findings; every criterion must still pass:", ...blocking.map((f) => `  - ${describeFinding(f)}`));
  return lines.join("\n");
}

export interface RunReviewPromptInput {
  goal: string;
  criteria: readonly string[];
  base: string;
  tip: string;
  /** The run's tasks, each with its title: what the change was made of. */
  tasks: readonly { id: string; title: string }[];
  stat: string;
  diff: string;
  round: number;
  earlier: readonly ReviewFinding[];
}

/** The whole-run reviewer's prompt: the goal, the tasks, the run's criteria (they pass on the tip), the whole diff. */
export function runReviewPrompt(input: RunReviewPromptInput): string {
  const parts = [
    "You are the reviewer of a whole run of work other agents did toward one goal, before it is delivered as a pull request. Each task was verified and reviewed on its own; judge the change as a whole: does it reach the goal, do the parts fit together, is anything broken, unsafe or missing? Read it; do not edit any file.",
    `## The goal\n${input.goal}`,
    `## Its tasks\n${input.tasks.map((t) => `- ${t.id}: ${firstLine(t.title, 200)}`).join("\n")}`,
    `## The run's criteria (all pass on ${input.tip.slice(0, 12)})\n${input.criteria.length > 0 ? input.criteria.map((c) => `- \`${c}\``).join("\n") : "- (none)"}`,
    `## The whole change: ${input.base.slice(0, 12)}..${input.tip}\n\`\`\`\n${input.stat}\n\`\`\`\n\`\`\`diff\n${input.diff}\n\`\`\``,
  ];
  if (input.round > 1) {
    const earlier = input.earlier.map((f) => `- ${describeFinding(f)}`);
    parts.push(
      `## Round ${input.round}\nAn earlier whole-run review asked for changes${earlier.length > 0 ? `:\n${earlier.join("\n")}` : "."}\nReport only what blocks delivery now (P0–P1). Do not raise new style points.`,
    );
  }
  parts.push(answerSection("the run's change reaches the goal correctly and safely"));
  return parts.join("\n\n");
}
