// The reviewer's part of a task, pure: what a reviewer is asked (its prompt), what it must answer (a verdict with
// findings, validated with zod), and what its answer means for the task (approved, or changes that block). A
// review judges one commit; the fold (core/task-loop.ts) ties the verdict to that commit, so a later commit needs a
// review of its own. Only an answer that parses can approve: a reviewer that crashed, was cut short or printed no
// verdict has not reviewed anything.
import { z } from "zod";
import { extractJson } from "./json-answer.js";
import { firstLine, tailLines } from "./text.js";

export const SEVERITIES = ["P0", "P1", "P2", "P3"] as const;
export type Severity = (typeof SEVERITIES)[number];
/** From a later round on, only findings this severe or worse keep a task from its merge (no review loop on nits). */
export const BLOCKING_AFTER_FIRST_ROUND: readonly Severity[] = ["P0", "P1"];
export const DEFAULT_REVIEW_ROUNDS = 3;

export const ReviewFinding = z.object({
  file: z.string().trim().min(1),
  startLine: z.number().int().positive().optional(),
  endLine: z.number().int().positive().optional(),
  severity: z.enum(SEVERITIES),
  confidence: z.number().min(0).max(1),
  what: z.string().trim().min(1),
  why: z.string().trim().min(1),
});
export type ReviewFinding = z.infer<typeof ReviewFinding>;

/** What a reviewer answers. */
export const ReviewAnswer = z.object({
  verdict: z.enum(["approve", "request_changes"]),
  summary: z.string().default(""),
  findings: z.array(ReviewFinding).default([]),
});
export type ReviewAnswer = z.infer<typeof ReviewAnswer>;

/** A review as the journal keeps it (with the attempt that closes it): the commit judged and what came of it. */
export const ReviewRecord = z.object({
  commit: z.string(),
  /** The round of review of this task (1 for its first). */
  round: z.number().int().positive(),
  /** The implementer's attempt whose commit was judged. */
  attempt: z.number().int().positive(),
  verdict: ReviewAnswer.shape.verdict,
  summary: z.string(),
  findings: z.array(ReviewFinding),
  /** The verdict for the task: its findings did not block (approved), or they did. */
  approved: z.boolean(),
});
export type ReviewRecord = z.infer<typeof ReviewRecord>;

const ANSWER_SHAPE = '{"verdict": "approve" | "request_changes", "summary": "...", "findings": [...]}';

/** The reviewer's answer out of its last words, or why there is none. */
export function parseReview(text: string | undefined): { ok: true; answer: ReviewAnswer } | { ok: false; error: string } {
  if (text === undefined || text.trim() === "") return { ok: false, error: `the reviewer gave no answer; it must end with one JSON object ${ANSWER_SHAPE}` };
  const found = extractJson(text, ANSWER_SHAPE);
  if (!found.ok) return { ok: false, error: found.error };
  const parsed = ReviewAnswer.safeParse(found.value);
  if (parsed.success) return { ok: true, answer: parsed.data };
  const problems = parsed.error.issues.slice(0, 5).map((issue) => `${issue.path.length > 0 ? issue.path.join(".") : "the answer"}: ${issue.message}`);
  return { ok: false, error: `the reviewer's verdict is not valid: ${problems.join("; ")}` };
}

/**
 * The findings that keep the task from its merge. An approval blocks nothing (its findings are advice). Changes
 * requested in the first round block with every finding, or with the summary alone when none is given; from the
 * second round on only P0–P1 findings block, so a review cannot loop on new nits for ever.
 */
export function blockingFindings(answer: ReviewAnswer, round: number): { blocks: boolean; findings: ReviewFinding[] } {
  if (answer.verdict === "approve") return { blocks: false, findings: [] };
  if (round <= 1) return { blocks: true, findings: answer.findings };
  const findings = answer.findings.filter((f) => BLOCKING_AFTER_FIRST_ROUND.includes(f.severity));
  return { blocks: findings.length > 0, findings };
}

/** A journaled review of `commit` from the reviewer's answer. */
export function reviewRecord(answer: ReviewAnswer, at: { commit: string; round: number; attempt: number }): ReviewRecord {
  const { blocks } = blockingFindings(answer, at.round);
  return { ...at, verdict: answer.verdict, summary: answer.summary, findings: answer.findings, approved: !blocks };
}

/** One finding on a line: `P1 src/a.ts:10-12 (confidence 0.9): what — why`. */
export function describeFinding(f: ReviewFinding): string {
  const lines = f.startLine === undefined ? "" : f.endLine !== undefined && f.endLine !== f.startLine ? `:${f.startLine}-${f.endLine}` : `:${f.startLine}`;
  return `${f.severity} ${f.file}${lines} (confidence ${f.confidence}): ${firstLine(f.what, 300)} — ${firstLine(f.why, 300)}`;
}

/** What the implementer's next attempt is told of a review that asked for changes. */
export function reviewHandoff(record: ReviewRecord): string {
  const blocking = blockingFindings(record, record.round).findings;
  const lines = [`A reviewer of another model read your commit ${record.commit.slice(0, 12)} (review round ${record.round}) and asked for changes.`];
  if (record.summary.trim() !== "") lines.push(`Its summary: ${firstLine(record.summary, 600)}`);
  if (blocking.length > 0) lines.push("Fix these findings (the criteria must still pass):", ...blocking.map((f) => `  - ${describeFinding(f)}`));
  return lines.join("\n");
}

export interface ReviewPromptInput {
  goal: string;
  title?: string | undefined;
  criteria: readonly string[];
  acceptance?: readonly string[] | undefined;
  commit: string;
  round: number;
  /** The task's change as the commit has it: a stat and the diff, bounded by the caller. */
  stat: string;
  diff: string;
  /** The verify results of the attempt that made the commit. */
  results: readonly { command: string; passed: boolean; outputTail: string }[];
  /** The findings that blocked the round before, when this is a later round. */
  earlier?: readonly ReviewFinding[] | undefined;
}

/** The reviewer's prompt: the task, its criteria and their output, the exact diff judged, and the answer's form. */
export function reviewPrompt(input: ReviewPromptInput): string {
  const parts = [
    `You are the reviewer of a change another agent made for this task. Read it; do not edit any file.`,
    `## The task\n${input.title !== undefined ? `${input.title}\n\n` : ""}${input.goal}`,
  ];
  if (input.acceptance !== undefined && input.acceptance.length > 0) parts.push(`## Acceptance\n${input.acceptance.map((a) => `- ${a}`).join("\n")}`);
  const results = input.results.map((r) => `- \`${r.command}\`: ${r.passed ? "passed" : "failed"}${r.outputTail.trim() !== "" ? `\n\`\`\`\n${tailLines(r.outputTail, 20, 1_500)}\n\`\`\`` : ""}`);
  parts.push(`## Its criteria (all passed on this commit)\n${results.length > 0 ? results.join("\n") : input.criteria.map((c) => `- \`${c}\``).join("\n")}`);
  parts.push(`## The change: commit ${input.commit}\n\`\`\`\n${input.stat}\n\`\`\`\n\`\`\`diff\n${input.diff}\n\`\`\``);
  if (input.round > 1) {
    const earlier = (input.earlier ?? []).map((f) => `- ${describeFinding(f)}`);
    parts.push(
      `## Round ${input.round}\nAn earlier review asked for changes${earlier.length > 0 ? `:\n${earlier.join("\n")}` : "."}\nReport only what blocks a merge now (P0–P1): a bug, a broken contract, a security hole, a missing part of the task. Do not raise new style points.`,
    );
  }
  parts.push(answerSection("the change does the task correctly and safely"));
  return parts.join("\n\n");
}

/** The part of a reviewer's prompt that asks for the verdict: its form, and when to approve (`approveWhen`). */
export function answerSection(approveWhen: string): string {
  return [
    "## Your answer",
    "End with one JSON object in a ```json block and nothing after it:",
    "```json",
    '{"verdict": "approve", "summary": "one or two sentences", "findings": [{"file": "src/a.ts", "startLine": 10, "endLine": 12, "severity": "P1", "confidence": 0.8, "what": "what is wrong", "why": "why it matters"}]}',
    "```",
    `verdict: "approve" when ${approveWhen}, else "request_changes". severity: P0 (breaks the product or loses data), P1 (a real bug or a missing part), P2 (worth fixing, not blocking), P3 (a nit). confidence: 0 to 1.`,
  ].join("\n");
}
