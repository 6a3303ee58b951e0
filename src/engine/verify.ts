// Runs the acceptance criteria in a worktree: each verify command through the shell, bounded in time and
// output, scored by its exit code and, where the output has them, by its test counts. The output is redacted
// before its tail is cut, so that no cut leaves half a secret the redactor would not know.
import type { CriterionResult } from "../core/journal.js";
import type { Redactor } from "../core/redact.js";
import { outcomeOf, type VerifyOutcome } from "../core/progress.js";
export type { VerifyOutcome } from "../core/progress.js";
import { criterionScore, parseTestCounts } from "../core/test-counts.js";
import { runCommand } from "../process/run-command.js";
import type { ProcessGroups } from "../process/groups.js";
import { escapedNote } from "./leftovers.js";

export interface VerifyOptions {
  criteria: readonly string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** Hides the secrets of `env` (and known credential shapes) in what the commands print. */
  redactor: Redactor;
  timeoutMs: number;
  signal: AbortSignal;
  groups: ProcessGroups;
  /**
   * Whose criteria these are: put in the commands' environment (ORCH_RUN_ID, ORCH_TASK_ID, ORCH_VERIFY=1), so that a
   * supervisor taking the run over finds and stops a verify its dead predecessor left running.
   */
  owner: { runId: string; taskId: string };
  /** Told (for the journal, as a warning) of processes a command left running outside its group, which were stopped. */
  note?: (message: string) => void;
}

/** Output kept per criterion in the journal; the handoff trims it further. */
const OUTPUT_TAIL_CHARS = 16_000;

export async function verify(options: VerifyOptions): Promise<VerifyOutcome> {
  const results: CriterionResult[] = [];
  for (const command of options.criteria) {
    if (options.signal.aborted) break;
    const run = await runCommand({
      command,
      cwd: options.cwd,
      env: { ...options.env, CI: options.env.CI ?? "1", FORCE_COLOR: "0", ORCH_RUN_ID: options.owner.runId, ORCH_TASK_ID: options.owner.taskId, ORCH_VERIFY: "1" },
      timeoutMs: options.timeoutMs,
      signal: options.signal,
      groups: options.groups,
      outputLimitBytes: 256 * 1024,
    });
    if (run.escaped.length > 0) options.note?.(escapedNote(`the verify command \`${command}\``, run.escaped));
    const output = options.redactor.redact(run.spawnError !== undefined ? `could not start: ${run.spawnError.message}` : run.output);
    const tests = parseTestCounts(output);
    const passed = run.exitCode === 0 && !run.timedOut;
    results.push({
      command,
      exitCode: run.exitCode,
      passed,
      score: passed ? 1 : criterionScore(run.exitCode, tests),
      durationMs: Math.round(run.durationMs),
      timedOut: run.timedOut,
      ...(tests !== undefined ? { tests } : {}),
      outputTail: output.length > OUTPUT_TAIL_CHARS ? output.slice(output.length - OUTPUT_TAIL_CHARS) : output,
    });
  }
  return outcomeOf(options.criteria, results);
}
