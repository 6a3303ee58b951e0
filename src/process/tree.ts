// What /proc says about processes (Linux): trees, groups, memory and start times. Invariant: a process that
// vanishes mid-read is treated as gone, never as an error; where /proc is missing every answer is "nothing".
import { readdir } from "node:fs/promises";
import { readWholeText } from "./proc-file.js";

const READ_BATCH = 64;

export interface ProcStat {
  pid: number;
  /** Kernel name of the executable; may hold spaces and parentheses. */
  comm: string;
  /** R, S, D, Z (zombie: exited, not yet reaped), T, … */
  state: string;
  ppid: number;
  pgrp: number;
  /** Clock ticks after boot; with the pid it names one process across pid reuse. */
  startTime: string;
  /** A thread of the kernel (PF_KTHREAD): no memory of its own, so no environment or command line. */
  kernelThread: boolean;
}

/** The PF_KTHREAD bit of the flags field of /proc/<pid>/stat. */
const PF_KTHREAD = 0x00200000;

/** Parses the text of /proc/<pid>/stat; undefined when it does not look like one. */
export function parseProcStat(text: string): ProcStat | undefined {
  // comm is wrapped in parentheses and may contain ") (": the last ")" ends it.
  const open = text.indexOf("(");
  const close = text.lastIndexOf(")");
  if (open < 0 || close < open) return undefined;
  const pid = Number(text.slice(0, open).trim());
  // Fields after comm, numbered from 3 (state) as in proc(5).
  const fields = text.slice(close + 1).trim().split(/\s+/);
  const state = fields[0];
  const ppid = Number(fields[1]);
  const pgrp = Number(fields[2]);
  const flags = Number(fields[6]);
  const startTime = fields[19];
  if (!Number.isInteger(pid) || state === undefined || startTime === undefined) return undefined;
  if (!Number.isInteger(ppid) || !Number.isInteger(pgrp) || !/^\d+$/.test(startTime)) return undefined;
  const kernelThread = Number.isInteger(flags) && (flags & PF_KTHREAD) !== 0;
  return { pid, comm: text.slice(open + 1, close), state, ppid, pgrp, startTime, kernelThread };
}

/** /proc/<pid>/stat, parsed; undefined for a process that does not exist. */
export function processStat(pid: number): ProcStat | undefined {
  const text = readWholeText(`/proc/${pid}/stat`);
  return text === undefined ? undefined : parseProcStat(text);
}

/**
 * The kernel's own threads: kthreadd and its children (`/proc/2/task/2/children`), when pid 2 is kthreadd (it is
 * not in a pid namespace of a container, where no kernel thread is seen). They have no environment, and asking for
 * one fails (ESRCH): a scan of every process's environment skips them instead of paying an exception for each,
 * most of its time where there are many. Empty when the kernel does not tell.
 */
export function kernelThreadPids(): ReadonlySet<number> {
  if (processStat(KTHREADD)?.kernelThread !== true) return new Set();
  const children = readWholeText(`/proc/${KTHREADD}/task/${KTHREADD}/children`);
  if (children === undefined) return new Set();
  const pids = new Set([KTHREADD]);
  for (const word of children.split(" ")) if (/^\d+$/.test(word)) pids.add(Number(word));
  return pids;
}

const KTHREADD = 2;

/** The start-time field of /proc/<pid>/stat, or undefined for a process that does not exist. */
export function processStartTime(pid: number): string | undefined {
  return processStat(pid)?.startTime;
}

/** Every process visible in /proc; empty where there is no /proc. */
export async function listProcesses(): Promise<ProcStat[]> {
  let names: string[];
  try {
    names = await readdir("/proc");
  } catch {
    return [];
  }
  const stats: ProcStat[] = [];
  let read = 0;
  // One file open at a time, read into the shared buffer: every attempt's RSS watch lists processes every second.
  for (const name of names) {
    if (!/^\d+$/.test(name)) continue;
    // Other work gets the event loop between batches: a busy machine has thousands of processes.
    if (++read % READ_BATCH === 0) await new Promise((resolve) => setImmediate(resolve));
    const stat = processStat(Number(name));
    if (stat !== undefined) stats.push(stat);
  }
  return stats;
}

/** A process and all its descendants, the process first; empty when it is gone. */
export async function processTree(pid: number): Promise<number[]> {
  const all = await listProcesses();
  if (!all.some((stat) => stat.pid === pid)) return [];
  const children = new Map<number, number[]>();
  for (const stat of all) {
    const siblings = children.get(stat.ppid);
    if (siblings === undefined) children.set(stat.ppid, [stat.pid]);
    else siblings.push(stat.pid);
  }
  const tree: number[] = [];
  const seen = new Set<number>();
  const queue = [pid];
  for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
    if (seen.has(next)) continue;
    seen.add(next);
    tree.push(next);
    queue.push(...(children.get(next) ?? []));
  }
  return tree;
}

/** Resident memory of one process in bytes; 0 when gone or a zombie. */
export async function processRss(pid: number): Promise<number> {
  const status = readWholeText(`/proc/${pid}/status`);
  if (status === undefined) return 0;
  const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status);
  return match?.[1] === undefined ? 0 : Number(match[1]) * 1024;
}

/** The summed resident memory in bytes of a process and all its descendants; 0 for a gone process. */
export async function processTreeRss(pid: number): Promise<number> {
  const sizes = await Promise.all((await processTree(pid)).map(processRss));
  return sizes.reduce((sum, size) => sum + size, 0);
}
