// Short commands for verification and git: one call, one bounded result. Invariant: a command never
// outlives the call (its own process group, stopped on timeout or abort), and its output never grows past
// the limit.
import type { ProcessGroups } from "./groups.js";
import { HeadTailBuffer } from "./head-tail-buffer.js";
import { supervise, type EscapedProcess } from "./supervise.js";

export const DEFAULT_OUTPUT_LIMIT_BYTES = 1024 * 1024;

interface RunCommandCommon {
  cwd: string;
  /** Defaults to this process's environment. */
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Over this, the output keeps its first and last halves with a marker between. */
  outputLimitBytes?: number;
  stdin?: string;
  killGraceMs?: number;
  groups?: ProcessGroups;
}

/** A shell string run with `/bin/sh -c`, or a file and its arguments run directly. */
export type RunCommandOptions = RunCommandCommon &
  ({ command: string; file?: never; args?: never } | { file: string; args?: string[]; command?: never });

export interface CommandResult {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  /** stdout and stderr interleaved in arrival order, bounded. */
  output: string;
  durationMs: number;
  timedOut: boolean;
  aborted: boolean;
  /** The command could not be started at all (missing file, bad cwd). */
  spawnError?: Error;
  /** What it left running outside its process group (setsid): stopped when it ended. */
  escaped: EscapedProcess[];
}

export async function runCommand(options: RunCommandOptions): Promise<CommandResult> {
  const output = new HeadTailBuffer(options.outputLimitBytes ?? DEFAULT_OUTPUT_LIMIT_BYTES);
  const [file, args] =
    options.command === undefined ? [options.file, options.args ?? []] : ["/bin/sh", ["-c", options.command]];
  const exit = await supervise({
    file,
    args,
    cwd: options.cwd,
    env: options.env ?? process.env,
    stdin: options.stdin,
    onStdout: (chunk) => output.push(chunk),
    onStderr: (chunk) => output.push(chunk),
    timeoutMs: options.timeoutMs,
    signal: options.signal,
    killGraceMs: options.killGraceMs,
    groups: options.groups,
    stderrTailBytes: 0,
  });
  return {
    exitCode: exit.exitCode,
    signal: exit.signal,
    output: output.toString(),
    durationMs: exit.durationMs,
    timedOut: exit.reason === "timeout",
    aborted: exit.reason === "aborted",
    escaped: exit.escaped,
    ...(exit.reason === "spawn_failed" && exit.error !== undefined ? { spawnError: exit.error } : {}),
  };
}
