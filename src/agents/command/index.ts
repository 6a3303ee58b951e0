// The `command` agent: any shell command, run in the worktree with the prompt on stdin and in ORCH_PROMPT.
// Its stdout lines are its transcript; exit 0 means it finished its turn and verification decides.
import { clip } from "../../core/agent-event.js";
import type { AgentAdapter, AgentCommand, AgentInvocation } from "../agent.js";
import { classifyExit } from "../classify-text.js";
import { commandCannotStart } from "../start-failure.js";
import { orchEnv } from "../env.js";

export function createCommandAdapter(command: string): AgentAdapter {
  return {
    name: "command",
    build(invocation: AgentInvocation): AgentCommand {
      return {
        file: "/bin/sh",
        args: ["-c", command],
        env: { ...orchEnv(invocation), ORCH_PROMPT: invocation.prompt },
        stdin: invocation.prompt,
      };
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
