import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { ReviewFinding, ReviewRecord } from "./review.js";
import { RUN_REVIEW_FAILURES, runReviewStep, type RunReviewInput } from "./run-review.js";

const P1: ReviewFinding = { file: "a.ts", severity: "P1", confidence: 0.9, what: "broken", why: "it fails" };
const P3: ReviewFinding = { ...P1, severity: "P3", what: "naming" };
const settings = { wholeRun: true, wholeRunFixes: 1 };
const record = (commit: string, round: number, approved: boolean, findings: ReviewFinding[] = approved ? [] : [P1]): ReviewRecord => ({
  commit,
  round,
  attempt: 1,
  verdict: approved ? "approve" : "request_changes",
  summary: approved ? "fine" : "not yet",
  findings,
  approved,
});
const base: RunReviewInput = { settings, baseSha: "base", tip: "tip1", tasks: [{ id: "a", status: "succeeded" }], attempts: [], approvedWhole: undefined };

describe("the whole-run review's next step", () => {
  it("is skipped without a reviewer, when turned off, with no work, and when a task's review already read the whole change", () => {
    expect(runReviewStep({ ...base, settings: undefined })).toMatchObject({ kind: "skip", why: "the run has no reviewer" });
    expect(runReviewStep({ ...base, settings: { ...settings, wholeRun: false } })).toMatchObject({ kind: "skip", why: expect.stringContaining("review.wholeRun: false") as unknown });
    expect(runReviewStep({ ...base, tip: "base" })).toMatchObject({ kind: "skip" });
    expect(runReviewStep({ ...base, approvedWhole: "c0ffee" })).toMatchObject({ kind: "skip", why: expect.stringContaining("c0ffee") as unknown });
  });

  it("reviews first in a new task, then goes on in the open one with the next attempt number", () => {
    expect(runReviewStep(base)).toEqual({ kind: "review", taskId: "_review-1", create: true, round: 1, number: 1, earlier: [] });
    const open = { ...base, tasks: [...base.tasks, { id: "_review-1", status: "running" }], attempts: [{ taskId: "_review-1", role: "reviewer" as const, number: 1, status: "failed", review: undefined }] };
    expect(runReviewStep(open)).toEqual({ kind: "review", taskId: "_review-1", create: false, round: 1, number: 2, earlier: [] });
  });

  it("holds delivery after the review gave no verdict in its tries, and never reviews again", () => {
    const failed = Array.from({ length: RUN_REVIEW_FAILURES }, (_, i) => ({ taskId: "_review-1", role: "reviewer" as const, number: i + 1, status: "failed", review: undefined }));
    expect(runReviewStep({ ...base, tasks: [...base.tasks, { id: "_review-1", status: "running" }], attempts: failed })).toMatchObject({ kind: "hold" });
    expect(runReviewStep({ ...base, tasks: [...base.tasks, { id: "_review-1", status: "failed" }], attempts: failed })).toMatchObject({ kind: "hold" });
  });

  it("sends blocking findings back as a task of fixes, reviews the new tip, and holds when they still block after the bound", () => {
    const judged = { ...base, tasks: [...base.tasks, { id: "_review-1", status: "succeeded" }], attempts: [{ taskId: "_review-1", role: "reviewer" as const, number: 1, status: "succeeded", review: record("tip1", 1, false) }] };
    const fix = runReviewStep(judged);
    expect(fix).toMatchObject({ kind: "fix", taskId: "_fix-1", goal: expect.stringContaining("P1 a.ts (confidence 0.9): broken — it fails") as unknown });
    const fixed = { ...judged, tip: "tip2", tasks: [...judged.tasks, { id: "_fix-1", status: "succeeded" }] };
    expect(runReviewStep(fixed)).toEqual({ kind: "review", taskId: "_review-2", create: true, round: 2, number: 1, earlier: [P1] });
    const reviewed = { ...fixed, tasks: [...fixed.tasks, { id: "_review-2", status: "succeeded" }] };
    const again = { ...reviewed, attempts: [...fixed.attempts, { taskId: "_review-2", role: "reviewer" as const, number: 1, status: "succeeded", review: record("tip2", 2, false) }] };
    expect(runReviewStep(again)).toMatchObject({ kind: "hold", reason: expect.stringMatching(/^the whole-run review \(round 2\) still asks for changes after 1 round\(s\) of fixes: P1 a\.ts/) as unknown });
    const approved = { ...reviewed, attempts: [...fixed.attempts, { taskId: "_review-2", role: "reviewer" as const, number: 1, status: "succeeded", review: record("tip2", 2, true, [P3]) }] };
    expect(runReviewStep(approved)).toMatchObject({ kind: "approved" });
  });

  it("always ends: whatever the reviewer answers, within a bounded number of reviews and fixes", () => {
    const answer = fc.constantFrom("approve", "blocks", "nits", "fails");
    fc.assert(
      fc.property(fc.array(answer, { minLength: 40, maxLength: 40 }), fc.integer({ min: 0, max: 3 }), (answers, fixes) => {
        let input: RunReviewInput = { ...base, settings: { wholeRun: true, wholeRunFixes: fixes } };
        let reviews = 0;
        for (let step = 0; step < 100; step++) {
          const next = runReviewStep(input);
          if (next.kind === "skip" || next.kind === "approved" || next.kind === "hold") {
            // At most (fixes + 1) verdicts, each after at most the allowed failures.
            expect(reviews).toBeLessThanOrEqual((fixes + 1) * RUN_REVIEW_FAILURES);
            return;
          }
          if (next.kind === "fix") {
            input = { ...input, tip: `tip-${step}`, tasks: [...input.tasks, { id: next.taskId, status: "succeeded" }] };
            continue;
          }
          const said = answers[reviews++ % answers.length];
          const tasks = next.create ? [...input.tasks, { id: next.taskId, status: "running" }] : input.tasks;
          const review = said === "fails" ? undefined : record(input.tip, next.round, said === "approve" || (said === "nits" && next.round > 1), said === "nits" ? [P3] : said === "blocks" ? [P1] : []);
          const failures = input.attempts.filter((a) => a.taskId === next.taskId && a.status === "failed").length + (review === undefined ? 1 : 0);
          const ended = review !== undefined ? "succeeded" : failures >= RUN_REVIEW_FAILURES ? "failed" : "running";
          input = {
            ...input,
            tasks: tasks.map((t) => (t.id === next.taskId ? { ...t, status: ended } : t)),
            attempts: [...input.attempts, { taskId: next.taskId, role: "reviewer", number: next.number, status: review === undefined ? "failed" : "succeeded", review }],
          };
        }
        throw new Error("the whole-run review did not end in 100 steps");
      }),
    );
  });
});
