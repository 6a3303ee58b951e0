// Runs programs under test as child processes — the built `orch` binary (dist/cli/main.js) the way a user
// would, or an agent CLI directly — bounded by a timeout and in a process group of their own that never
// outlives them; finds processes a test left behind; parses what `orch ... --json` prints.
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { readFile, readlink } from "node:fs/promises";
import { resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { z } from "zod";
import { listProcesses, parseProcStat } from "../../src/process/tree.js";

export const ORCH_MAIN = resolve(import.meta.dirname, "../../dist/cli/main.js");

export interface CliResult {
  /** The exit code; null when the process was killed by a signal (see `signal`). */
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Killed because it ran past `timeoutMs`. */
  timedOut: boolean;
  ms: number;
}

export interface CliOptions {
  cwd: string;
  /** The complete environment of the child (not merged over process.env). */
  env: NodeJS.ProcessEnv;
  timeoutMs: number;
  /** Written to stdin, which is then closed; without it stdin is /dev/null. */
  stdin?: string;
  /** Called with each chunk of stdout as it arrives (to stop the process early, say). */
  onStdout?: (chunk: string) => void;
}

export interface RunningProcess {
  readonly pid: number;
  /** Settles once it has exited and its output is read; past `timeoutMs` its group is SIGKILLed first. */
  readonly done: Promise<CliResult>;
  /** Whether it has not exited yet. */
  running(): boolean;
  /** Sends `signal` to the process alone, as a terminal's Ctrl-C reaches a foreground program. */
  signal(signal: NodeJS.Signals): void;
  /** SIGKILLs its process group unless it has exited; for `finally` and afterEach. */
  kill(): void;
}

/**
 * Starts `file ...args` in a process group of its own (so one kill reaches it and whatever it started there)
 * and returns at once; the caller must `await done` or `kill()`. The group is SIGKILLed once it has exited too.
 */
export function startProcess(file: string, args: readonly string[], options: CliOptions): RunningProcess {
  const started = performance.now();
  const child = spawn(file, args, {
    cwd: options.cwd,
    env: options.env,
    stdio: [options.stdin === undefined ? "ignore" : "pipe", "pipe", "pipe"],
    detached: true,
  });
  const exited = (): boolean => child.exitCode !== null || child.signalCode !== null;
  const kill = (): void => {
    if (child.pid === undefined || exited()) return;
    try {
      process.kill(-child.pid, "SIGKILL");
    } catch {
      child.kill("SIGKILL");
    }
  };
  let stdout = "";
  let stderr = "";
  child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
    stdout += chunk;
    options.onStdout?.(chunk);
  });
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  if (child.stdin !== null) {
    // A CLI that exits without reading its input must not fail the test with EPIPE.
    child.stdin.on("error", () => {});
    child.stdin.end(options.stdin ?? "");
  }
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    kill();
  }, options.timeoutMs);
  const done = new Promise<[number | null, NodeJS.Signals | null]>((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (c, s) => resolve([c, s]));
  })
    .then(([code, signal]): CliResult => ({ code, signal, stdout, stderr, timedOut, ms: performance.now() - started }))
    .finally(() => {
      clearTimeout(timer);
      kill();
    });
  const pid = child.pid;
  if (pid === undefined) {
    clearTimeout(timer);
    done.catch(() => {});
    throw new Error(`could not start ${file}`);
  }
  return {
    pid,
    done,
    running: () => !exited(),
    signal: (signal) => {
      if (!exited()) child.kill(signal);
    },
    kill,
  };
}

/** `file ...args` to its end; on timeout its whole process group is SIGKILLed. */
export function runProcess(file: string, args: readonly string[], options: CliOptions): Promise<CliResult> {
  return startProcess(file, args, options).done;
}

/** Starts `node dist/cli/main.js ...args` and returns at once (a detached run, `logs -f`, Ctrl-C). */
export function startOrch(args: readonly string[], options: CliOptions): RunningProcess {
  return startProcess(process.execPath, [ORCH_MAIN, ...args], options);
}

/** `node dist/cli/main.js ...args`, the way a user would run it, to its end. */
export function runOrch(args: readonly string[], options: CliOptions): Promise<CliResult> {
  return startOrch(args, options).done;
}

/** The non-empty lines of a CLI's JSON-lines output, parsed; a line that is not JSON becomes `{ type: "unparsed", raw }`. */
export function jsonLines(stdout: string): unknown[] {
  return stdout
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line): unknown => {
      try {
        return JSON.parse(line);
      } catch {
        return { type: "unparsed", raw: line };
      }
    });
}

export interface FoundProcess {
  pid: number;
  cmdline: string;
}

/**
 * Live processes (zombies excluded) whose command line, working directory or environment mentions `marker`
 * (a test's sandbox directory, say): what a test started and may have leaked. This process is never listed.
 */
export async function processesMentioning(marker: string): Promise<FoundProcess[]> {
  const found: FoundProcess[] = [];
  for (const stat of await listProcesses()) {
    if (stat.state === "Z" || stat.pid === process.pid) continue;
    const [cmdline, environ, cwd] = await Promise.all([
      readFile(`/proc/${stat.pid}/cmdline`, "utf8").catch(() => ""),
      readFile(`/proc/${stat.pid}/environ`, "utf8").catch(() => ""),
      readlink(`/proc/${stat.pid}/cwd`).catch(() => ""),
    ]);
    // No command line and no environment: its memory is gone, it is in the last instant of its exit (only its
    // working directory still names the sandbox). It can run no more code; the next look would not find it.
    if (cmdline === "" && environ === "") continue;
    if (cmdline.includes(marker) || environ.includes(marker) || cwd.includes(marker)) {
      found.push({ pid: stat.pid, cmdline: cmdline.replaceAll("\0", " ").trim() });
    }
  }
  return found;
}

/** SIGKILLs each process (already gone is fine). */
export function killAll(processes: readonly FoundProcess[]): void {
  for (const p of processes) {
    try {
      process.kill(p.pid, "SIGKILL");
    } catch {
      // Gone already.
    }
  }
}

// ---- processes ------------------------------------------------------------------------------------------

/** Whether `pid` runs; a zombie (exited, not reaped: PID 1 here may never reap orphans) does not count. */
export function isRunning(pid: number): boolean {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return false;
  }
  return parseProcStat(stat)?.state !== "Z";
}

/**
 * Processes mentioning `marker` that are still there after `graceMs` (a CLI that has just written a run's
 * final state may need a moment to exit); those are SIGKILLed and returned, for `expect(...).toEqual([])`.
 */
export async function leftoverProcesses(marker: string, graceMs = 3_000): Promise<FoundProcess[]> {
  const deadline = performance.now() + graceMs;
  let found = await processesMentioning(marker);
  while (found.length > 0 && performance.now() < deadline) {
    await sleep(100);
    found = await processesMentioning(marker);
  }
  killAll(found);
  return found;
}

/** Polls `check` until it returns something other than undefined; throws naming `what` after `timeoutMs`. */
export async function waitFor<T>(what: string, check: () => T | undefined | Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(50);
  }
}

// ---- what the CLI prints with --json (DESIGN.md: fields may be added, never renamed) ---------------------

/** `orch run --json`: one object at the end. */
export const RunResultJson = z.object({
  runId: z.string(),
  status: z.string(),
  branch: z.string(),
  attempts: z.number().int(),
  report: z.string().nullable(),
  reason: z.string().nullable().optional(),
});

/** `orch status RUN --json`. */
export const StatusJson = z.object({
  runId: z.string(),
  goal: z.string(),
  status: z.string(),
  reason: z.string().nullable().optional(),
  attempts: z.number().int(),
  maxAttempts: z.number().int(),
  progress: z.number().min(0).max(1),
  branch: z.string(),
  pid: z.number().int().nullable().optional(),
  processAlive: z.boolean().nullable().optional(),
  stale: z.boolean(),
  orphans: z.array(z.object({ attemptId: z.string(), pid: z.number().int() })),
  now: z.string().nullable(),
  next: z.string(),
  lastResult: z.string().nullable().optional(),
  report: z.string().nullable().optional(),
  tasks: z.array(z.object({ id: z.string(), title: z.string(), status: z.string(), attempts: z.number().int(), branch: z.string() })),
  warnings: z.array(z.string()),
  figures: z.object({
    failuresByKind: z.record(z.string(), z.number().int()),
    interrupted: z.number().int(),
    recovered: z.number().int(),
    escalated: z.number().int(),
    recoveryRate: z.number().nullable(),
    waitedMs: z.number(),
    retryCalls: z.number().int(),
  }),
});

/** `orch list --json`. */
export const ListJson = z.array(z.object({ runId: z.string(), goal: z.string(), status: z.string(), stale: z.boolean(), createdAt: z.string(), elapsedMs: z.number(), costUsd: z.number() }));

/** One line of `orch logs RUN --json`: a journal event. */
export const EventJson = z.object({
  seq: z.number().int(),
  type: z.string(),
  runId: z.string(),
  taskId: z.string().optional(),
  attemptId: z.string().optional(),
  at: z.number(),
  data: z.record(z.string(), z.unknown()),
});
export type EventJson = z.infer<typeof EventJson>;

/** Parses a JSON document the CLI printed, through `schema`; a mismatch fails with the text shown. */
export function parseJsonOutput<T>(schema: z.ZodType<T>, text: string): T {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new Error(`not JSON: ${error instanceof Error ? error.message : String(error)}\n${text}`);
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new Error(`unexpected JSON: ${parsed.error.message}\n${text}`);
  return parsed.data;
}

/** `orch run --json`'s one object; a mismatch fails showing the exit code, stdout and stderr. */
export function parseRunResult(result: CliResult): z.infer<typeof RunResultJson> {
  const context = `exit ${String(result.code)}${result.timedOut ? " (timed out)" : ""}\nstderr: ${result.stderr}`;
  try {
    return parseJsonOutput(RunResultJson, result.stdout);
  } catch (error) {
    throw new Error(`orch run --json: ${error instanceof Error ? error.message : String(error)}\n${context}`);
  }
}

/** Parses JSON lines (`orch logs --json`), one event per non-empty line. */
export function parseEventLines(text: string): EventJson[] {
  return text
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => parseJsonOutput(EventJson, line));
}
