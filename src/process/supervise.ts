// Runs one child in its own process group and sees it through to the end. Invariant: the promise settles only
// after the leader has exited, its group is gone (or was SIGKILLed), stdout has been read to the end (or
// given up on after a short bound) and every timer and listener is released; the first stop reason wins.
// Memory is watched by sampling the RSS of the child's group and descendants, one sample in flight at a time.
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import type { Readable } from "node:stream";
import { toError } from "../core/errors.js";
import { groupIsAlive, signalGroup } from "./groups.js";
import type { ProcessGroups } from "./groups.js";
import { LineSplitter } from "./line-splitter.js";
import { SPAWN_MARK, stopMarked } from "./marked.js";
import { groupTreeRss } from "./rss.js";
import { DEFAULT_TAIL_BYTES, TailBuffer } from "./tail-buffer.js";

export interface SuperviseOptions {
  file: string;
  args: string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** Written to stdin, which is then closed (a child that exits without reading is fine); without it
   * stdin is /dev/null. */
  stdin?: string;
  /** Each stdout line, without its newline; without it stdout is not split into lines at all. */
  onLine?(line: string): void;
  /** Raw stdout bytes, for the transcript file. */
  onStdout?(chunk: Buffer): void;
  /** Asked after each stdout chunk: a promise means the consumer is full, and stdout is not read again until
   * it settles, so a fast child blocks on its pipe instead of our memory growing. A rejection stops the child
   * as a callback error would. */
  stdoutBackpressure?(): Promise<void> | undefined;
  onStderr?(chunk: Buffer): void;
  onSpawn?(pid: number): void;
  /** No output on stdout or stderr for this long: stop it, reason "hung". */
  stallTimeoutMs?: number;
  /** Wall clock from spawn: stop it, reason "timeout". */
  timeoutMs?: number;
  /** Between SIGTERM and SIGKILL to the group. */
  killGraceMs?: number;
  /** The summed RSS of the child's process group and descendants above this: stop it, reason "memory". */
  maxRssBytes?: number;
  /** How often that RSS is sampled, for the cap and for the peak reported at exit. */
  rssIntervalMs?: number;
  /** Aborted: stop it, reason "aborted". */
  signal?: AbortSignal;
  maxLineBytes?: number;
  stderrTailBytes?: number;
  /** Registry the group is kept in while it lives. */
  groups?: ProcessGroups;
  /** After the group is gone, how long to wait for stdout to reach EOF; only a process that left the
   * group (setsid) can still hold it open, and it must not hold us too. */
  drainTimeoutMs?: number;
}

/** A process the child started that left its group and was stopped when the child ended. */
export interface EscapedProcess {
  pid: number;
  /** Its command line, cut to 300 characters, raw: escape its controls before showing it. */
  command: string;
}

export type ExitReason = "exited" | "hung" | "timeout" | "aborted" | "memory" | "spawn_failed";

export interface SupervisedExit {
  reason: ExitReason;
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  stderrTail: string;
  durationMs: number;
  pid: number | undefined;
  /** The highest summed RSS sampled; 0 when the child ended before the first sample (or without /proc). */
  peakRssBytes: number;
  /** Processes it started that had left its group (setsid) and were still running when it ended: stopped. */
  escaped: EscapedProcess[];
  error?: Error;
}

/** A caller's callback threw; the child was stopped and the error is the cause. */
export class SuperviseCallbackError extends Error {
  override readonly name = "SuperviseCallbackError";
  readonly callback: string;
  readonly pid: number;
  constructor(callback: string, pid: number, cause: Error) {
    super(`${callback} callback threw while supervising pid ${pid}: ${cause.message}`, { cause });
    this.callback = callback;
    this.pid = pid;
  }
}

export const DEFAULT_KILL_GRACE_MS = 5000;
/** One pass over /proc/<pid>/stat per sample: cheap enough every second, often enough to catch a runaway. */
export const DEFAULT_RSS_INTERVAL_MS = 1000;
const DEFAULT_DRAIN_TIMEOUT_MS = 1000;
/** After SIGKILL, how long a group may take to vanish before we stop watching it. */
const KILL_SETTLE_MS = 1000;
const POLL_MS = 20;

type StopReason = "hung" | "timeout" | "aborted" | "memory";

export async function supervise(options: SuperviseOptions): Promise<SupervisedExit> {
  const startedAt = performance.now();
  const stderrTail = new TailBuffer(options.stderrTailBytes ?? DEFAULT_TAIL_BYTES);
  const ended = (reason: ExitReason, pid: number | undefined, error?: Error): SupervisedExit => ({
    reason,
    exitCode: null,
    signal: null,
    stderrTail: stderrTail.toString(),
    durationMs: performance.now() - startedAt,
    pid,
    peakRssBytes: 0,
    escaped: [],
    ...(error === undefined ? {} : { error }),
  });

  if (options.signal?.aborted === true) return ended("aborted", undefined);
  // node:crypto loads here, on first use, not with the module: `orch status` loads this one and never needs it.
  const mark = process.getBuiltinModule("node:crypto").randomUUID();
  let child: ChildProcess;
  try {
    child = spawn(options.file, options.args, {
      cwd: options.cwd,
      // A mark of this spawn alone, inherited by all it starts: what carries it when the child ends got away.
      env: { ...options.env, [SPAWN_MARK]: mark },
      // Its own process group, so that stopping it reaches everything it started.
      detached: true,
      stdio: [options.stdin === undefined ? "ignore" : "pipe", "pipe", "pipe"],
    });
  } catch (error) {
    return ended("spawn_failed", undefined, toError(error));
  }
  const firstError = new Promise<Error>((resolve) => child.on("error", resolve));
  const { pid, stdout, stderr } = child;
  if (pid === undefined) {
    // ENOENT, EACCES and a missing cwd surface here, as an 'error' event on the next tick.
    const error = await firstError;
    child.stdin?.destroy();
    stdout?.destroy();
    stderr?.destroy();
    return ended("spawn_failed", undefined, error);
  }
  if (stdout === null || stderr === null) {
    // Cannot happen with the stdio above; if it did, a child we cannot read must not run unwatched.
    signalGroup(pid, "SIGKILL");
    return ended("spawn_failed", pid, new Error("spawned without stdout and stderr pipes"));
  }
  const run = new Supervision(options, child, pid, mark, stdout, stderr, stderrTail);
  const outcome = await run.watch();
  return { ...ended(outcome.reason, pid), exitCode: outcome.exitCode, signal: outcome.signal, peakRssBytes: outcome.peakRssBytes, escaped: outcome.escaped };
}

interface Outcome {
  reason: ExitReason;
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  peakRssBytes: number;
  escaped: EscapedProcess[];
}

/** The state of one live child; exists only between a successful spawn and the end of watch(). */
class Supervision {
  #reason: StopReason | undefined;
  #leaderExited = false;
  #termSent = false;
  #outputDone = false;
  #callbackError: SuperviseCallbackError | undefined;
  /** Backpressure promises not yet settled; stdout flows again when none is left. */
  #holds = 0;
  #peakRss = 0;
  #sampling: Promise<void> | undefined;
  readonly #timers: NodeJS.Timeout[] = [];
  #stallTimer: NodeJS.Timeout | undefined;
  readonly #splitter: LineSplitter | undefined;
  readonly #killGraceMs: number;

  readonly #options: SuperviseOptions;
  readonly #child: ChildProcess;
  readonly #pid: number;
  readonly #mark: string;
  readonly #stdout: Readable;
  readonly #stderr: Readable;
  readonly #stderrTail: TailBuffer;

  constructor(
    options: SuperviseOptions,
    child: ChildProcess,
    pid: number,
    mark: string,
    stdout: Readable,
    stderr: Readable,
    stderrTail: TailBuffer,
  ) {
    this.#options = options;
    this.#child = child;
    this.#pid = pid;
    this.#mark = mark;
    this.#stdout = stdout;
    this.#stderr = stderr;
    this.#stderrTail = stderrTail;
    this.#killGraceMs = options.killGraceMs ?? DEFAULT_KILL_GRACE_MS;
    const onLine = options.onLine;
    this.#splitter =
      onLine === undefined ? undefined : new LineSplitter((line) => this.#call("onLine", () => onLine(line)), { maxLineBytes: options.maxLineBytes });
  }

  async watch(): Promise<Outcome> {
    const options = this.#options;
    const child = this.#child;
    const pid = this.#pid;
    const stdout = this.#stdout;
    const stderr = this.#stderr;
    const onAbort = (): void => this.#stop("aborted");
    const exited = new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
      child.once("exit", (code, signal) => resolve([code, signal])),
    );
    const stdoutClosed = new Promise<void>((resolve) => stdout.once("close", resolve));
    const stderrClosed = new Promise<void>((resolve) => stderr.once("close", resolve));
    options.groups?.add(pid);
    try {
      stdout.on("data", (chunk: Buffer) => {
        if (this.#outputDone) return;
        this.#stallTimer?.refresh();
        if (options.onStdout !== undefined) this.#call("onStdout", () => options.onStdout?.(chunk));
        if (options.stdoutBackpressure !== undefined) this.#call("stdoutBackpressure", () => this.#hold(options.stdoutBackpressure?.()));
        this.#splitter?.push(chunk);
      });
      stderr.on("data", (chunk: Buffer) => {
        if (this.#outputDone) return;
        this.#stallTimer?.refresh();
        this.#stderrTail.push(chunk);
        if (options.onStderr !== undefined) this.#call("onStderr", () => options.onStderr?.(chunk));
      });
      // A pipe error (rare: the fd is ours) is reported by 'close' all the same.
      stdout.on("error", () => {});
      stderr.on("error", () => {});
      if (child.stdin !== null && options.stdin !== undefined) {
        // EPIPE when the child exits without reading: its exit, not our write, is the outcome.
        child.stdin.on("error", () => {});
        child.stdin.end(options.stdin);
      }
      if (options.stallTimeoutMs !== undefined) {
        this.#stallTimer = this.#after(options.stallTimeoutMs, () => this.#stop("hung"));
      }
      if (options.timeoutMs !== undefined) this.#after(options.timeoutMs, () => this.#stop("timeout"));
      // A floor, so that a zero interval cannot turn sampling into a busy loop over /proc.
      this.#watchMemory(Math.max(10, options.rssIntervalMs ?? DEFAULT_RSS_INTERVAL_MS));
      options.signal?.addEventListener("abort", onAbort, { once: true });
      if (options.onSpawn !== undefined) this.#call("onSpawn", () => options.onSpawn?.(pid));

      const [exitCode, signal] = await exited;
      this.#leaderExited = true;
      clearTimeout(this.#stallTimer);
      // A sample already under way finishes (it cannot stop anything now); no new one starts.
      await this.#sampling;
      await this.#reapStrays();
      // Before the drain: an escaped process holding stdout open would otherwise hold it for the whole bound.
      const escaped = (await stopMarked(SPAWN_MARK, this.#mark, this.#killGraceMs)).map((p) => ({ pid: p.pid, command: p.command }));
      const drainTimeoutMs = options.drainTimeoutMs ?? DEFAULT_DRAIN_TIMEOUT_MS;
      await Promise.race([Promise.all([stdoutClosed, stderrClosed]), this.#sleep(drainTimeoutMs)]);
      stdout.destroy();
      stderr.destroy();
      this.#outputDone = true;
      this.#splitter?.flush();
      if (this.#callbackError !== undefined) throw this.#callbackError;
      return { reason: this.#reason ?? "exited", exitCode, signal, peakRssBytes: this.#peakRss, escaped };
    } finally {
      this.#outputDone = true;
      for (const timer of this.#timers) clearTimeout(timer);
      options.signal?.removeEventListener("abort", onAbort);
      child.stdin?.destroy();
      stdout.destroy();
      stderr.destroy();
      stdout.removeAllListeners("data");
      stderr.removeAllListeners("data");
      // Reached early only if our own code threw: nothing we started may be left behind.
      if (!this.#leaderExited) signalGroup(pid, "SIGKILL");
      options.groups?.delete(pid);
    }
  }

  /** SIGTERM to the group, SIGKILL after the grace period. Only the first call acts. */
  #terminate(): void {
    if (this.#termSent) return;
    this.#termSent = true;
    this.#signal("SIGTERM");
    this.#after(this.#killGraceMs, () => this.#signal("SIGKILL"));
  }

  #signal(signal: NodeJS.Signals): void {
    // A leader that moved itself to another group is still ours to stop.
    if (!signalGroup(this.#pid, signal) && !this.#leaderExited) {
      try {
        process.kill(this.#pid, signal);
      } catch {
        // Gone already: its exit event is on its way.
      }
    }
  }

  #stop(reason: StopReason): void {
    if (this.#reason !== undefined || this.#leaderExited) return;
    this.#reason = reason;
    this.#terminate();
  }

  /** Samples the tree's RSS every `intervalMs` on one re-armed timer, the next sample only after the last. */
  #watchMemory(intervalMs: number): void {
    const cap = this.#options.maxRssBytes;
    const sample = async (): Promise<void> => {
      const rss = await groupTreeRss(this.#pid).catch(() => 0);
      this.#peakRss = Math.max(this.#peakRss, rss);
      if (this.#leaderExited || this.#outputDone) return;
      if (cap !== undefined && rss > cap) this.#stop("memory");
      timer.refresh();
    };
    const timer = this.#after(intervalMs, () => {
      this.#sampling = sample().finally(() => (this.#sampling = undefined));
    });
  }

  #hold(settled: Promise<void> | undefined): void {
    if (settled === undefined) return;
    this.#holds += 1;
    this.#stdout.pause();
    const release = (): void => {
      this.#holds -= 1;
      if (this.#holds === 0 && !this.#outputDone) this.#stdout.resume();
    };
    settled.then(release, (error: unknown) => {
      release();
      this.#call("stdoutBackpressure", () => {
        throw error;
      });
    });
  }

  /** Members left behind by the leader (`sh -c 'sleep 100 &'`) die with it: nothing outlives an attempt. */
  async #reapStrays(): Promise<void> {
    if (!(await groupIsAlive(this.#pid))) return;
    this.#terminate();
    const deadline = performance.now() + this.#killGraceMs + KILL_SETTLE_MS;
    while (performance.now() < deadline) {
      await this.#sleep(POLL_MS);
      if (!(await groupIsAlive(this.#pid))) return;
    }
    signalGroup(this.#pid, "SIGKILL");
  }

  #call(name: string, callback: () => void): void {
    if (this.#callbackError !== undefined) return;
    try {
      callback();
    } catch (error) {
      this.#callbackError = new SuperviseCallbackError(name, this.#pid, toError(error));
      this.#stop("aborted");
    }
  }

  #after(ms: number, action: () => void): NodeJS.Timeout {
    const timer = setTimeout(action, ms);
    this.#timers.push(timer);
    return timer;
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.#after(ms, resolve));
  }
}
