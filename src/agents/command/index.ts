// The `command` agent: any shell command, run in the worktree with the prompt on stdin, in the file that
// ORCH_PROMPT_FILE names, and in ORCH_PROMPT when it is small enough for one environment string (Linux refuses a
// string over 128 KiB, and the whole environment counts against the argument limit). Its stdout lines are its
// transcript; exit 0 means it finished its turn and verification decides.
import { clip } from "../../core/agent-event.js";
import type { AgentAdapter, AgentCommand, AgentInvocation } from "../agent.js";
import { classifyExit } from "../classify-text.js";
import { commandCannotStart } from "../start-failure.js";
import { orchEnv } from "../env.js";

/** The largest prompt (UTF-8 bytes) also passed in ORCH_PROMPT; a larger one is in ORCH_PROMPT_FILE and on stdin only. */
export const MAX_ENV_PROMPT_BYTES = 64 * 1024;

export function createCommandAdapter(command: string): AgentAdapter {
  return {
    name: "command",
    build(invocation: AgentInvocation): AgentCommand {
      return { file: "/bin/sh", args: ["-c", command], env: promptEnv(invocation), stdin: invocation.prompt };
    },
    createParser() {
      return {
        parseLine(line: string) {
          return line.trim() === "" ? [] : [{ type: "text" as const, text: clip(line) }];
        },
      };
    },
    classify(exit) {
      if (exit.exitCode === 0 && exit.signal === null) return undefined;
      // The shell's "not found" (127) and "cannot execute" (126): no retry mends them, so they end the task at once.
      if (exit.signal === null && (exit.exitCode === 127 || exit.exitCode === 126)) return commandCannotStart(command, exit.exitCode, exit.stderrTail);
      return classifyExit(exit.exitCode, exit.signal, exit.stderrTail);
    },
  };
}

/** orch's environment with the prompt's variables: ORCH_PROMPT only when small, never an inherited one. */
function promptEnv(invocation: AgentInvocation): NodeJS.ProcessEnv {
  const env = orchEnv(invocation);
  delete env["ORCH_PROMPT"];
  delete env["ORCH_PROMPT_FILE"];
  if (Buffer.byteLength(invocation.prompt, "utf8") <= MAX_ENV_PROMPT_BYTES) env["ORCH_PROMPT"] = invocation.prompt;
  if (invocation.promptFile !== undefined) env["ORCH_PROMPT_FILE"] = invocation.promptFile;
  return env;
}
