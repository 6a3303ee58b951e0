// Progress of a task: the mean score of its criteria (1 for a passing command, passed/total for a failing
// test run that printed counts), and stall detection over the sequence of attempts.
import type { CriterionResult } from "./journal.js";

export function progressOf(scores: readonly number[]): number {
  if (scores.length === 0) return 0;
  const sum = scores.reduce((a, b) => a + Math.min(1, Math.max(0, b)), 0);
  return sum / scores.length;
}

/** What a progress figure is, for a user reading one next to a count of criteria. */
export const PROGRESS_MEANS = "share of the criteria passing; a failing test run counts its passing tests";

/**
 * One verdict in words that say what each number is: `criteria 1/2 passed · progress 50%`, and, where the test
 * counts of a failing criterion moved the figure off the plain share, `criteria 0/1 passed · progress 50%,
 * counting the tests that pass in failing criteria`.
 */
export function describeVerdict(passed: number, total: number, progress: number): string {
  const pct = `${Math.round(progress * 100)}%`;
  const plain = total === 0 ? 0 : passed / total;
  const byTests = Math.abs(plain - progress) > 1e-9 ? ", counting the tests that pass in failing criteria" : "";
  return `criteria ${passed}/${total} passed · progress ${pct}${byTests}`;
}

/**
 * True when each of the last `stallAttempts` attempts failed to raise progress above the best figure
 * reached before it (the figure before the first attempt is 0). Progress lost and regained is no rise.
 */
export function isStalled(history: readonly number[], stallAttempts: number): boolean {
  return attemptsWithoutRise(history) >= stallAttempts && stallAttempts > 0;
}

/** How many of the latest attempts in a row did not raise the best progress so far. */
export function attemptsWithoutRise(history: readonly number[]): number {
  let best = 0;
  let streak = 0;
  for (const p of history) {
    if (p > best) {
      best = p;
      streak = 0;
    } else {
      streak += 1;
    }
  }
  return streak;
}

export interface VerifyOutcome {
  results: CriterionResult[];
  progress: number;
  allPassed: boolean;
  /** A criterion that could not run at all (not found, not executable): retrying the agent will not help. */
  broken: CriterionResult | undefined;
}

/** The verdict on `criteria` from the results of running them (all of them, or as many as ran before an abort). */
export function outcomeOf(criteria: readonly string[], results: CriterionResult[]): VerifyOutcome {
  return {
    results,
    progress: progressOf(results.map((r) => r.score)),
    allPassed: results.length === criteria.length && results.every((r) => r.passed),
    broken: results.find((r) => !r.passed && (r.exitCode === 127 || r.exitCode === 126)),
  };
}

/** How long one verify command may run: the run's verify timeout (its attempt timeout before there was one), within the time left. */
export function verifyTimeoutMs(limits: { attemptTimeoutMs: number; verifyTimeoutMs?: number | undefined }, msLeft: number): number {
  return Math.max(1_000, Math.min(limits.verifyTimeoutMs ?? limits.attemptTimeoutMs, msLeft));
}
