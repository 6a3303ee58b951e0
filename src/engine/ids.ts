// Identifiers people type and read: runs sort by time and are short enough for a branch name
// (`261121-0638-k3f9`); attempts name their run, task and number (`261121-0638-k3f9.fix-tests.2`).
// node:crypto is loaded when an id is made, not with this module: loading it costs a command that makes none
// (`orch status`) several ms.

const ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz";

export function newRunId(now: Date = new Date()): string {
  const p = (n: number) => String(n).padStart(2, "0");
  const stamp = `${p(now.getUTCFullYear() % 100)}${p(now.getUTCMonth() + 1)}${p(now.getUTCDate())}-${p(now.getUTCHours())}${p(now.getUTCMinutes())}`;
  const suffix = Array.from(process.getBuiltinModule("node:crypto").randomBytes(4), (b) => ALPHABET[b % ALPHABET.length]).join("");
  return `${stamp}-${suffix}`;
}

export const attemptId = (runId: string, taskId: string, n: number): string => `${runId}.${taskId}.${n}`;
/** A reviewer's attempts are `r1`, `r2` … of their task (`261121-0638-k3f9.fix-tests.r1`). */
export const reviewAttemptId = (runId: string, taskId: string, n: number): string => `${runId}.${taskId}.r${n}`;
export const taskBranch = (runId: string, taskId: string): string => `orch/${runId}/${taskId}`;
