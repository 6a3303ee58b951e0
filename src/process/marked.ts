// Processes found by the marks orch puts in the environment of what it starts (Linux: /proc/<pid>/environ), and
// stopping them. A child that leaves its process group (`setsid nohup sleep 300 &`) is beyond a group signal,
// but it keeps the environment it was started with, and so do its own children. Invariant: only a process whose
// environment holds the exact mark is ever signalled, and a pid is killed only while its start time is the one
// seen when it was found (never a process that reused the pid); where /proc is missing nothing is found.
import { readdirSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";
import { readWhole, readWholeText } from "./proc-file.js";
import { kernelThreadPids, processStat } from "./tree.js";

/**
 * The variable `supervise` gives every child, a value of its own per spawn: whatever carries it when the
 * supervised call ends was started by that child and got away from its group.
 */
export const SPAWN_MARK = "ORCH_SPAWN_ID";

/** A command line is cut to this many characters: enough to name it, not a place to store an argument list. */
const COMMAND_CHARS = 300;
const READ_BATCH = 64;
const POLL_MS = 20;
/** How long a process whose environment reads as empty is given to finish its exec (it takes microseconds). */
const EXEC_SETTLE_MS = 200;

export interface MarkedProcess {
  pid: number;
  /** With the pid, names the process across pid reuse. */
  startTime: string;
  ppid: number;
  pgrp: number;
  /** Its command line, arguments joined by spaces, cut to 300 characters; raw (controls are not escaped). */
  command: string;
  /** The ORCH_* variables of its environment. */
  marks: ReadonlyMap<string, string>;
}

/**
 * Live processes (zombies and this process excluded) whose environment `matches`; they are given only their
 * ORCH_* variables. A process another user owns cannot be read and is never found.
 */
export async function findMarked(matches: (marks: ReadonlyMap<string, string>) => boolean): Promise<MarkedProcess[]> {
  let names: string[];
  try {
    names = await readdir("/proc");
  } catch {
    return [];
  }
  const kernel = kernelThreadPids();
  const pids = names.filter((name) => /^\d+$/.test(name)).map(Number).filter((pid) => pid !== process.pid && !kernel.has(pid));
  const found: MarkedProcess[] = [];
  // The environment first, for every process (one read each, no stat); the rest only for the few that match.
  // In batches: one open file per process at once could exhaust descriptors on a busy machine.
  for (let from = 0; from < pids.length; from += READ_BATCH) {
    const batch = await Promise.all(
      pids.slice(from, from + READ_BATCH).map(async (pid): Promise<MarkedProcess | undefined> => {
        const marks = orchMarks(pid);
        if (marks.size === 0 || !matches(marks)) return undefined;
        const stat = processStat(pid);
        if (stat === undefined || stat.state === "Z") return undefined;
        return { pid, startTime: stat.startTime, ppid: stat.ppid, pgrp: stat.pgrp, command: await commandLine(pid, stat.comm), marks };
      }),
    );
    for (const marked of batch) if (marked !== undefined) found.push(marked);
  }
  return found;
}

/**
 * Stops every process whose environment has `name=value`: SIGTERM to each, then SIGKILL to those still there
 * after `graceMs`. Returns what it found (and stopped or saw go), in pid order.
 */
export async function stopMarked(name: string, value: string, graceMs: number): Promise<MarkedProcess[]> {
  const found = await describe(await pidsWith(`${name}=${value}`));
  if (found.length === 0) return [];
  for (const p of found) signalSame(p, "SIGTERM");
  const deadline = performance.now() + graceMs;
  while (found.some(stillThere) && performance.now() < deadline) await sleep(POLL_MS);
  for (const p of found.filter(stillThere)) signalSame(p, "SIGKILL");
  // Its own children may have been started between the scan and the signals: one more pass, at once SIGKILL.
  for (const late of await describe(await pidsWith(`${name}=${value}`))) {
    signalSame(late, "SIGKILL");
    if (!found.some((p) => p.pid === late.pid)) found.push(late);
  }
  return found.sort((a, b) => a.pid - b.pid);
}

/**
 * The pids (this process excluded) whose environment holds the variable `entry` ("NAME=value") exactly. Every
 * supervised call ends with this pass, so it is kept cheap: one open, read and close per process into one reused
 * buffer, no promise per file (a quarter of the CPU of reading each with fs/promises), and a stat only for the
 * few whose environment reads as empty.
 */
export async function pidsWith(entry: string): Promise<number[]> {
  let names: string[];
  try {
    names = readdirSync("/proc");
  } catch {
    return [];
  }
  const needle = Buffer.from(`${entry}\0`, "latin1");
  const kernel = kernelThreadPids();
  const found: number[] = [];
  const blank: number[] = [];
  let read = 0;
  for (const name of names) {
    // Other work gets the event loop between batches: a busy machine has thousands of processes.
    if (++read % READ_BATCH === 0) await new Promise((resolve) => setImmediate(resolve));
    const first = name.charCodeAt(0);
    if (first < 48 || first > 57) continue;
    const pid = Number(name);
    if (pid === process.pid || kernel.has(pid)) continue;
    const bytes = readWhole(`/proc/${pid}/environ`);
    if (bytes === undefined) continue;
    if (bytes.length === 0) blank.push(pid);
    else if (holdsEntry(bytes, needle)) found.push(pid);
  }
  for (const pid of blank) if (await settledHolds(pid, needle)) found.push(pid);
  return found;
}

/** The environment holds `needle` ("NAME=value\0") as a whole variable: at the start, or right after a NUL. */
function holdsEntry(bytes: Buffer, needle: Buffer): boolean {
  for (let at = bytes.indexOf(needle); at >= 0; at = bytes.indexOf(needle, at + 1)) if (at === 0 || bytes[at - 1] === 0) return true;
  return false;
}

/**
 * For a process whose environment read as empty: a kernel thread or a zombie has none, but a process in the
 * middle of an exec reads as empty too, for the moment between its new memory and its new stack (a background
 * `setsid nohup sleep &` execs three times in a row, and a scan right after its parent exits lands in that
 * window about one time in forty). Read again until the exec is done.
 */
async function settledHolds(pid: number, needle: Buffer): Promise<boolean> {
  const deadline = performance.now() + EXEC_SETTLE_MS;
  do {
    const bytes = readWhole(`/proc/${pid}/environ`);
    if (bytes === undefined) return false;
    if (bytes.length > 0) return holdsEntry(bytes, needle);
  } while (await mayBeExecing(pid, deadline));
  return false;
}

/**
 * After a read of a process found empty: whether it may be in the middle of an exec (alive, not a zombie, not a
 * kernel thread, before `deadline`), after waiting a millisecond for it to get on.
 */
async function mayBeExecing(pid: number, deadline: number): Promise<boolean> {
  const stat = processStat(pid);
  if (stat === undefined || stat.state === "Z" || stat.kernelThread || performance.now() >= deadline) return false;
  await sleep(1);
  return true;
}

/** What is known of each pid that still runs (zombies left out): start time, parents, command line and marks. */
async function describe(pids: readonly number[]): Promise<MarkedProcess[]> {
  const found: MarkedProcess[] = [];
  for (const pid of pids) {
    const stat = processStat(pid);
    if (stat === undefined || stat.state === "Z") continue;
    found.push({ pid, startTime: stat.startTime, ppid: stat.ppid, pgrp: stat.pgrp, command: await commandLine(pid, stat.comm), marks: orchMarks(pid) });
  }
  return found;
}

/** The ORCH_* variables of a process's environment; empty when it is gone or not ours to read. */
function orchMarks(pid: number): Map<string, string> {
  const marks = new Map<string, string>();
  const environ = readWholeText(`/proc/${pid}/environ`, "latin1");
  if (environ === undefined || !environ.includes("ORCH_")) return marks;
  for (const entry of environ.split("\0")) {
    if (!entry.startsWith("ORCH_")) continue;
    const eq = entry.indexOf("=");
    if (eq > 0) marks.set(entry.slice(0, eq), entry.slice(eq + 1));
  }
  return marks;
}

async function commandLine(pid: number, comm: string): Promise<string> {
  let text = await readCmdline(pid);
  // A process in the middle of an exec has no arguments for a moment (as its environment reads empty): read again.
  const deadline = performance.now() + EXEC_SETTLE_MS;
  while (text === "" && (await mayBeExecing(pid, deadline))) text = await readCmdline(pid);
  // A kernel thread, or a process that blanked its arguments: its executable's name is all there is.
  const joined = text.replaceAll("\0", " ").trim() || `[${comm}]`;
  return joined.length > COMMAND_CHARS ? `${joined.slice(0, COMMAND_CHARS - 1)}…` : joined;
}

async function readCmdline(pid: number): Promise<string> {
  try {
    return await readFile(`/proc/${pid}/cmdline`, "utf8");
  } catch {
    return "";
  }
}

/** Alive, not a zombie, and still the process that was found (same start time). */
function stillThere(p: MarkedProcess): boolean {
  const stat = processStat(p.pid);
  return stat !== undefined && stat.state !== "Z" && stat.startTime === p.startTime;
}

function signalSame(p: MarkedProcess, signal: NodeJS.Signals): void {
  if (!stillThere(p)) return;
  try {
    process.kill(p.pid, signal);
  } catch {
    // Gone since, or not ours to signal: nothing more to do for it.
  }
}
