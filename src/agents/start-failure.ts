// Why an agent (or a verify command) cannot start, in words that name the fix. The preflight before a run and the
// classifiers after an attempt that could not start (kind `cannot_start`) share them, so both say the same thing.
import { isAbsolute } from "node:path";
import type { Failure } from "../core/failure.js";
import { commandExecutable, isBareName } from "../core/shell-command.js";
import { clipDetail, stderrLines } from "./classify-text.js";

/** A problem and what to do about it, each in a few plain words. */
export interface StartProblem {
  problem: string;
  fix: string;
}

/** Who runs a path: it is looked up in the task's worktree, where that one runs. */
export type Runner = "the agent command" | "the agent" | "the verify command";

/** A relative path (`./fixer.sh`) that the task's worktree does not hold. */
export function notInWorktree(path: string, runner: Runner = "the agent command"): StartProblem {
  return {
    problem: `\`${path}\` is not in the task's worktree`,
    fix: `${runner} runs there, in a checkout of the base commit that holds only committed files; commit it, or give an absolute path`,
  };
}

/** A bare name (`fixer`) that no directory on PATH holds. */
export function notOnPath(name: string): StartProblem {
  return { problem: `\`${name}\` is not on PATH`, fix: "install it, or give its absolute path" };
}

/** An absolute path to nothing. */
export function doesNotExist(path: string): StartProblem {
  return { problem: `\`${path}\` does not exist`, fix: "check the path" };
}

/** A file that is there but may not be run. */
export function notExecutable(path: string): StartProblem {
  const committed = isAbsolute(path) ? "" : ", and commit that";
  return { problem: `\`${path}\` is not executable`, fix: `chmod +x it${committed}, or start it through its interpreter (sh ${path})` };
}

/** The words for an executable the system could not find, by the way it was named. */
export function notFound(word: string, runner: Runner = "the agent command"): StartProblem {
  return isBareName(word) ? notOnPath(word) : isAbsolute(word) ? doesNotExist(word) : notInWorktree(word, runner);
}

/** One line for a failure's detail: the problem, then the fix. */
export function say(words: StartProblem): string {
  return `${words.problem}: ${words.fix}`;
}

/**
 * An agent whose process could not be started at all (spawn failed). `code` is the system's error code: ENOENT
 * for a file not found, EACCES for one that may not be run. Undefined for any other cause, which may pass.
 */
export function spawnFailure(agent: string, file: string, worktreeExists: boolean, code: string | undefined): Failure | undefined {
  if (!worktreeExists) {
    return {
      kind: "cannot_start",
      detail: `the task's worktree is gone, so the ${agent} agent cannot start in it: it was removed while the run went on; start the run again`,
    };
  }
  const cli = agent !== "command" && agent !== "scripted";
  if (code === "ENOENT" && cli && isBareName(file)) {
    const fix = `install it (\`orch doctor\` says how), or set agents.${agent}.bin in orch.config.yaml to where it is`;
    return { kind: "cannot_start", detail: `the ${agent} agent cannot start: ${notOnPath(file).problem}: ${fix}` };
  }
  if (code === "ENOENT") return { kind: "cannot_start", detail: `the ${agent} agent cannot start: ${say(notFound(file, "the agent"))}` };
  if (code === "EACCES") return { kind: "cannot_start", detail: `the ${agent} agent cannot start: ${say(notExecutable(file))}` };
  return undefined;
}

/**
 * A command agent that exited 127 (command not found) or 126 (found, not executable). When the shell's own
 * message names the command's first word, the command itself could not start, and the words name the fix;
 * otherwise a program it started was missing, which no retry mends either.
 */
export function commandCannotStart(command: string, exitCode: 126 | 127, stderrTail: string): Failure {
  const word = commandExecutable(command);
  const lines = stderrLines(stderrTail);
  if (word !== undefined && lines.some((line) => shellRefused(line, word))) {
    return { kind: "cannot_start", detail: say(exitCode === 127 ? notFound(word) : notExecutable(word)) };
  }
  const last = lines.at(-1);
  const what = exitCode === 127 ? "command not found" : "a file it runs is not executable";
  return {
    kind: "cannot_start",
    detail: `the agent command exited with code ${exitCode} (${what})${last === undefined ? "" : `: ${clipDetail(last)}`}; install what it needs, or fix the command`,
  };
}

/** `sh: 1: ./fixer.sh: not found`, `bash: line 1: fixer: command not found`, `sh: ./x: Permission denied`. */
function shellRefused(line: string, word: string): boolean {
  const at = line.indexOf(`${word}: `);
  if (at < 0) return false;
  return /^(not found|command not found|No such file or directory|Permission denied|cannot execute)/i.test(line.slice(at + word.length + 2));
}

/** A CLI agent that exited 126 or 127 with nothing else said: its launcher or interpreter cannot run. */
export function cliCannotStart(agent: string, exitCode: 126 | 127, lastLine: string | undefined): Failure {
  const what = exitCode === 127 ? "a program it needs (its interpreter, say) was not found" : "a file it needs is not executable";
  return {
    kind: "cannot_start",
    detail: `${agent} exited with code ${exitCode}${lastLine === undefined ? "" : `: ${clipDetail(lastLine)}`}; ${what}: reinstall it (\`orch doctor\` checks it)`,
  };
}
