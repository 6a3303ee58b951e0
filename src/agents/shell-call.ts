// Which tool calls are shell commands, for each CLI orch drives, and the command each one ran: Claude Code's
// `Bash`, Codex's `exec_command` (its `bash -lc` wrapper already taken off), Gemini's `run_shell_command`,
// OpenCode's `bash`; the scripted agent's `run` steps call `Bash`. A command agent makes no tool calls.
import type { AgentEvent } from "../core/agent-event.js";
import { isRecord } from "./parse-line.js";

/** Tool name → the input field that holds the command. */
const SHELL_TOOLS: Readonly<Record<string, string>> = {
  Bash: "command",
  exec_command: "command",
  run_shell_command: "command",
  bash: "command",
};

/** The shell command a tool call ran, or undefined when the event is no shell call (or its input has none). */
export function shellCommandOf(event: AgentEvent): string | undefined {
  if (event.type !== "tool.called") return undefined;
  const field = SHELL_TOOLS[event.name];
  if (field === undefined || !Object.hasOwn(SHELL_TOOLS, event.name)) return undefined;
  const value = isRecord(event.input) ? event.input[field] : undefined;
  if (typeof value === "string" && value.trim() !== "") return value;
  // The summary is the command, shortened to one line, where the input was not kept.
  return event.summary.trim() === "" ? undefined : event.summary;
}
