// The agent port: how one CLI is started headless, how its stdout lines become normalized events, and how
// its exit is classified. Adapters are pure descriptions; process supervision and journaling live elsewhere.
import type { AgentEvent } from "../core/agent-event.js";
import type { Failure } from "../core/failure.js";
import type { Permission } from "./permission.js";

export interface AgentInvocation {
  prompt: string;
  /**
   * A file holding exactly `prompt` (mode 0600), written before the agent starts, when the caller could write
   * one. The prompt never travels in one argument or environment string of unbounded size (Linux refuses a
   * string over 128 KiB with E2BIG): adapters send it on stdin, and the command agent names this file too.
   */
  promptFile?: string | undefined;
  /** The task's worktree; the agent runs there. */
  cwd: string;
  model?: string | undefined;
  /** A session id from an earlier attempt, to continue that conversation. */
  resumeSessionId?: string | undefined;
  runId: string;
  taskId: string;
  /** 1-based attempt number within the task. */
  attempt: number;
  /** The environment the agent inherits (the user's, plus anything orch adds). */
  env: NodeJS.ProcessEnv;
  /** What the agent may do; each adapter maps it to its CLI's flags. */
  permission: Permission;
  /**
   * Tools the CLI denied in an earlier attempt that the permission level allows: adapters that allow tools one
   * by one (Claude Code as root) add them; the others already allow everything the level allows.
   */
  grantedTools?: readonly string[] | undefined;
}

export interface AgentCommand {
  file: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  /** Written to the agent's stdin, which is then closed; without it stdin is empty. */
  stdin?: string;
}

/** Stateful per attempt (tool ids, partial results); never throws, whatever the line holds. */
export interface AgentParser {
  parseLine(line: string): AgentEvent[];
}

/** The event that ends a turn: the final word on how the CLI thinks it went. */
export type ResultEvent = Extract<AgentEvent, { type: "result" }>;

export interface AgentExit {
  exitCode: number | null;
  signal: string | null;
  /** The last few KiB of stderr. */
  stderrTail: string;
  /** The final `result` event, when the CLI printed one. */
  result: ResultEvent | undefined;
  /** Every `retry` event seen: the CLI's own API retries, useful to tell rate limits from crashes. */
  retries: Extract<AgentEvent, { type: "retry" }>[];
  /** Epoch milliseconds when the process ended. */
  endedAt: number;
}

export interface AgentAdapter {
  readonly name: string;
  build(invocation: AgentInvocation): AgentCommand;
  /** The invocation `build` was given, for parsers that need it (a resumed session's earlier token totals). */
  createParser(invocation?: AgentInvocation): AgentParser;
  /** `undefined` means the agent finished its turn cleanly and verification decides. */
  classify(exit: AgentExit): Failure | undefined;
}
