// Runs the built `orch` binary (dist/cli/main.js) as a child process, the way a user would, and finds
// processes a test left behind. The child is bounded by a timeout and never outlives the call.
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
  env: Record<string, string>;
  timeoutMs: number;
}

/** `node dist/cli/main.js ...args`; on timeout (or any throw) its whole process group is SIGKILLed. */
export async function runOrch(args: readonly string[], options: CliOptions): Promise<CliResult> {
  const started = performance.now();
  // Its own process group, so one kill reaches the CLI and anything in its group.
  const child = spawn(process.execPath, [ORCH_MAIN, ...args], {
    cwd: options.cwd,
    env: options.env,
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  const kill = (): void => {
    if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
    try {
      process.kill(-child.pid, "SIGKILL");
    } catch {
      child.kill("SIGKILL");
    }
  };
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    kill();
  }, options.timeoutMs);
  try {
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((done, fail) => {
      child.once("error", fail);
      child.once("close", (c, s) => done([c, s]));
    });
    return { code, signal, stdout, stderr, timedOut, ms: performance.now() - started };
  } finally {
    clearTimeout(timer);
    kill();
  }
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

// ---- a CLI left running while the test does other things (detached runs, `logs -f`, Ctrl-C) ----------------

export interface RunningOrch {
  readonly pid: number;
  /** Settles once it has exited and its output is read; past `timeoutMs` its group is SIGKILLed first. */
  readonly done: Promise<CliResult>;
  /** What it has printed so far. */
  output(): { stdout: string; stderr: string };
  /** Sends `signal` to the CLI process alone, as a terminal's Ctrl-C reaches a foreground program. */
  signal(signal: NodeJS.Signals): void;
  /** SIGKILLs its process group unless it has exited; for `finally` and afterEach. */
  kill(): void;
}

/** Starts `node dist/cli/main.js ...args` and returns at once; the caller must `await done` or `kill()`. */
export function startOrch(args: readonly string[], options: CliOptions): RunningOrch {
  const started = performance.now();
  const child = spawn(process.execPath, [ORCH_MAIN, ...args], {
    cwd: options.cwd,
    env: options.env,
    stdio: ["ignore", "pipe", "pipe"],
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
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
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
    throw new Error(`could not start ${process.execPath} ${ORCH_MAIN}`);
  }
  return {
    pid,
    done,
    output: () => ({ stdout, stderr }),
    signal: (signal) => {
      if (!exited()) child.kill(signal);
    },
    kill,
  };
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
  lastResult: z.string().nullable().optional(),
  report: z.string().nullable().optional(),
  tasks: z.array(z.object({ id: z.string(), title: z.string(), status: z.string(), attempts: z.number().int(), branch: z.string() })),
});

/** `orch list --json`. */
export const ListJson = z.array(z.object({ runId: z.string(), goal: z.string(), status: z.string(), createdAt: z.string() }));

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

/** Parses JSON lines (`orch logs --json`), one event per non-empty line. */
export function parseEventLines(text: string): EventJson[] {
  return text
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => parseJsonOutput(EventJson, line));
}
