// An append-only log file (an attempt's raw agent transcript) that rotates past a size. Invariants: bytes
// reach the files in the order written; a part is closed only at a line end, so every part holds whole
// lines; no more than `highWaterMark` bytes (plus one chunk) wait in memory when the producer honours
// write() returning false; end() settles only after every byte is written and every compression finished.
//
// Parts: when the live file `<file>` passes `maxBytes`, it is renamed `<file>.<n>` and gzip-compressed to
// `<file>.<n>.gz` in the background, while writing goes on in a fresh `<file>`. Numbers count up from 1
// and are never reused, so the OLDEST PART HAS THE LOWEST NUMBER and a part keeps its name for life. Only
// the newest `keep` compressed parts are kept; older ones are deleted.
import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, open, readdir, rename, rm } from "node:fs/promises";
import type { FileHandle } from "node:fs/promises";
import { basename, dirname } from "node:path";
import { pipeline } from "node:stream/promises";
import { pipeline as pipelineCallback } from "node:stream";
import type { Readable } from "node:stream";
import { createGunzip, createGzip } from "node:zlib";
import { toError } from "../core/errors.js";

/** 64 MB: a part compresses to a few MB of JSON lines. */
export const DEFAULT_LOG_MAX_BYTES = 64 * 1024 * 1024;
/**
 * 10 compressed parts plus the live file: 704 MB of raw output at the default size, far more than a normal
 * attempt prints (single-digit MB for an hour's work), so only a runaway loses its oldest output.
 */
export const DEFAULT_LOG_KEEP = 10;
export const DEFAULT_LOG_HIGH_WATER_MARK = 1024 * 1024;
/** The live file and every part are readable by their owner alone: an agent's output may quote anything. */
const FILE_MODE = 0o600;
/** Bytes taken from the queue for one file write. */
const WRITE_BATCH_BYTES = 1024 * 1024;
const NEWLINE = 0x0a;

export interface RotatingLogOptions {
  /** A part is closed at the first line end at or past this many bytes. */
  maxBytes?: number;
  /** Compressed parts kept; 0 deletes each part as it is rotated out. */
  keep?: number;
  /** Buffered bytes at which write() returns false and waitForRoom() has something to wait for. */
  highWaterMark?: number;
  /** Called once, at the first write failure (from then on bytes are dropped), so that it is not found only at end(). */
  onWriteError?: (error: Error) => void;
}

export class RotatingLog {
  readonly file: string;
  readonly #maxBytes: number;
  readonly #keep: number;
  readonly #highWaterMark: number;
  #handle: FileHandle | undefined;
  /** Bytes in the live file. */
  #size = 0;
  readonly #queue: Buffer[] = [];
  #buffered = 0;
  #running = false;
  #pumped: Promise<void> = Promise.resolve();
  #compressions: Promise<void> = Promise.resolve();
  /** Highest part number in use, and the lowest that may still exist; known once the file is open. */
  #lastPart = 0;
  #oldestPart = 1;
  #roomWaiters: (() => void)[] = [];
  #writeError: Error | undefined;
  #compressError: Error | undefined;
  #dropped = 0;
  #ending: Promise<void> | undefined;
  readonly #onWriteError: ((error: Error) => void) | undefined;

  constructor(file: string, options: RotatingLogOptions = {}) {
    this.file = file;
    this.#onWriteError = options.onWriteError;
    this.#maxBytes = positiveInt("maxBytes", options.maxBytes ?? DEFAULT_LOG_MAX_BYTES);
    this.#keep = options.keep ?? DEFAULT_LOG_KEEP;
    if (!Number.isInteger(this.#keep) || this.#keep < 0) throw new RangeError(`keep must be a whole number, got ${this.#keep}`);
    this.#highWaterMark = positiveInt("highWaterMark", options.highWaterMark ?? DEFAULT_LOG_HIGH_WATER_MARK);
    // Opened at once, so that an attempt that prints nothing still has its (empty) transcript.
    this.#kick();
  }

  /** Bytes accepted by write() and not yet in the file. */
  get bufferedBytes(): number {
    return this.#buffered;
  }

  /** Bytes given up on after a write failed. */
  get droppedBytes(): number {
    return this.#dropped;
  }

  /** The first failure: writing stops at a write error (later bytes are dropped); a part that could not be
   * compressed stays on disk uncompressed. Undefined when all went well. */
  get error(): Error | undefined {
    return this.#writeError ?? this.#compressError;
  }

  /** Queues `chunk` (which must not be changed afterwards); false when the caller should wait for room. */
  write(chunk: Buffer): boolean {
    if (this.#ending !== undefined) throw new Error(`write after end of ${this.file}`);
    if (this.#writeError !== undefined) {
      this.#dropped += chunk.length;
      return true;
    }
    if (chunk.length === 0) return this.#buffered < this.#highWaterMark;
    this.#queue.push(chunk);
    this.#buffered += chunk.length;
    this.#kick();
    return this.#buffered < this.#highWaterMark;
  }

  /** Undefined when there is room now; else settles once the buffer is below the high-water mark again. */
  waitForRoom(): Promise<void> | undefined {
    if (this.#buffered < this.#highWaterMark || this.#writeError !== undefined) return undefined;
    return new Promise((resolve) => this.#roomWaiters.push(resolve));
  }

  /** Writes what is queued, closes the file and waits for compressions; never rejects (see `error`). */
  end(): Promise<void> {
    this.#ending ??= this.#finish();
    return this.#ending;
  }

  async #finish(): Promise<void> {
    while (this.#running) await this.#pumped;
    const handle = this.#handle;
    this.#handle = undefined;
    await handle?.close().catch((error: unknown) => this.#recordWriteError(toError(error)));
    await this.#compressions;
  }

  #kick(): void {
    if (this.#running) return;
    this.#running = true;
    this.#pumped = this.#pump();
  }

  async #pump(): Promise<void> {
    try {
      if (this.#handle === undefined) await this.#open();
      while (this.#queue.length > 0) {
        let count = 0;
        let bytes = 0;
        for (const chunk of this.#queue) {
          if (count > 0 && bytes + chunk.length > WRITE_BATCH_BYTES) break;
          count += 1;
          bytes += chunk.length;
        }
        const batch = this.#queue.splice(0, count);
        await this.#append(batch.length === 1 && batch[0] !== undefined ? batch[0] : Buffer.concat(batch, bytes));
        this.#buffered -= bytes;
        this.#wakeWaiters();
      }
    } catch (error) {
      this.#fail(toError(error));
    }
    // No await between the last look at the queue and this: a write() after it starts a new pump.
    this.#running = false;
  }

  async #open(): Promise<void> {
    await mkdir(dirname(this.file), { recursive: true });
    const parts = await listParts(this.file);
    this.#lastPart = parts.at(-1) ?? 0;
    this.#oldestPart = parts[0] ?? 1;
    this.#handle = await open(this.file, "a", FILE_MODE);
    this.#size = (await this.#handle.stat()).size;
  }

  /** Appends `data`, closing the part at the first line end at or past the size (a line is never split). */
  async #append(data: Buffer): Promise<void> {
    let rest = data;
    while (rest.length > 0) {
      // A newline at index i leaves the part at size + i + 1 bytes.
      const cut = rest.indexOf(NEWLINE, Math.max(0, this.#maxBytes - this.#size - 1));
      const piece = cut === -1 ? rest : rest.subarray(0, cut + 1);
      await this.#writeAll(piece);
      rest = rest.subarray(piece.length);
      if (cut !== -1) await this.#rotate();
    }
  }

  async #writeAll(data: Buffer): Promise<void> {
    const handle = this.#handle;
    if (handle === undefined) throw new Error(`${this.file} is not open`);
    for (let offset = 0; offset < data.length; ) {
      const { bytesWritten } = await handle.write(data, offset, data.length - offset);
      offset += bytesWritten;
      this.#size += bytesWritten;
    }
  }

  async #rotate(): Promise<void> {
    const handle = this.#handle;
    this.#handle = undefined;
    await handle?.close();
    this.#lastPart += 1;
    const part = this.#lastPart;
    await rename(this.file, partPath(this.file, part));
    this.#handle = await open(this.file, "a", FILE_MODE);
    this.#size = 0;
    // Off the hot path: writing goes on while earlier parts are compressed, one at a time.
    this.#compressions = this.#compressions.then(() => this.#compress(part));
  }

  async #compress(part: number): Promise<void> {
    const plain = partPath(this.file, part);
    const compressed = `${plain}.gz`;
    const partial = `${compressed}.tmp`;
    try {
      if (this.#keep > 0) {
        await pipeline(createReadStream(plain), createGzip(), createWriteStream(partial, { mode: FILE_MODE }));
        // Renamed only when complete: a reader never meets half a .gz.
        await rename(partial, compressed);
      }
      await rm(plain);
    } catch (error) {
      this.#compressError ??= toError(error);
      await rm(partial, { force: true }).catch(() => undefined);
    }
    await this.#prune(part);
  }

  /** Deletes the parts older than the newest `keep`. */
  async #prune(newest: number): Promise<void> {
    const keepFrom = newest - this.#keep + 1;
    for (; this.#oldestPart < keepFrom; this.#oldestPart += 1) {
      const path = partPath(this.file, this.#oldestPart);
      await Promise.all([rm(`${path}.gz`, { force: true }), rm(path, { force: true })]).catch((error: unknown) => {
        this.#compressError ??= toError(error);
      });
    }
  }

  #recordWriteError(error: Error): void {
    if (this.#writeError !== undefined) return;
    this.#writeError = error;
    try {
      this.#onWriteError?.(error);
    } catch {
      // Whoever is told must not break the pump; `error` still holds the failure.
    }
  }

  #fail(error: Error): void {
    this.#recordWriteError(error);
    this.#dropped += this.#buffered;
    this.#buffered = 0;
    this.#queue.length = 0;
    this.#wakeWaiters();
  }

  #wakeWaiters(): void {
    if (this.#buffered >= this.#highWaterMark && this.#writeError === undefined) return;
    const waiters = this.#roomWaiters;
    this.#roomWaiters = [];
    for (const wake of waiters) wake();
  }
}

function positiveInt(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value <= 0) throw new RangeError(`${name} must be a whole number above 0, got ${value}`);
  return value;
}

const partPath = (file: string, part: number): string => `${file}.${part}`;

/** The numbers of the rotated parts of `file` on disk (plain or compressed), lowest first. */
async function listParts(file: string): Promise<number[]> {
  const name = basename(file);
  let entries: string[];
  try {
    entries = await readdir(dirname(file));
  } catch {
    return [];
  }
  const parts = new Set<number>();
  for (const entry of entries) {
    if (!entry.startsWith(`${name}.`)) continue;
    const number = Number(/^(\d+)(?:\.gz)?$/.exec(entry.slice(name.length + 1))?.[1]);
    if (Number.isSafeInteger(number) && number >= 1) parts.add(number);
  }
  return [...parts].sort((a, b) => a - b);
}

/**
 * The lines of a rotated log in the order written: its parts, oldest first (compressed or not yet), then the
 * live file. Parts are read as one byte stream, so a line is whole wherever it was cut; a last line without
 * a newline is yielded too. A part deleted while reading (pruned) is skipped, and so is one rotated out
 * after the listing, so a reader of a log still being written may miss a part; nothing at all yields nothing.
 */
export async function* readTranscript(file: string): AsyncGenerator<string> {
  const sources: [path: string, gzipped: boolean][][] = (await listParts(file)).map((part) => [
    // A part being compressed is still plain; the .gz appears (complete) before the plain one goes.
    [`${partPath(file, part)}.gz`, true],
    [partPath(file, part), false],
  ]);
  sources.push([[file, false]]);
  let pending: Buffer[] = [];
  for (const candidates of sources) {
    const stream = await openFirst(candidates);
    if (stream === undefined) continue;
    for await (const chunk of stream) {
      if (!(chunk instanceof Buffer)) throw new TypeError(`unexpected chunk type reading ${file}`);
      let start = 0;
      for (let index = chunk.indexOf(NEWLINE); index !== -1; index = chunk.indexOf(NEWLINE, start)) {
        pending.push(chunk.subarray(start, index));
        yield lineOf(pending);
        pending = [];
        start = index + 1;
      }
      if (start < chunk.length) pending.push(chunk.subarray(start));
    }
  }
  if (pending.length > 0) yield lineOf(pending);
}

function lineOf(pieces: Buffer[]): string {
  const text = Buffer.concat(pieces).toString("utf8");
  return text.endsWith("\r") ? text.slice(0, -1) : text;
}

/** The bytes of the first candidate that exists, gunzipped where it is compressed; undefined when none does. */
async function openFirst(candidates: readonly [path: string, gzipped: boolean][]): Promise<Readable | undefined> {
  for (const [path, gzipped] of candidates) {
    let handle: FileHandle;
    try {
      handle = await open(path, "r");
    } catch (error) {
      if (error instanceof Error && "code" in error && error.code === "ENOENT") continue;
      throw error;
    }
    const raw = handle.createReadStream();
    if (!gzipped) return raw;
    return pipelineCallback(raw, createGunzip(), () => undefined);
  }
  return undefined;
}
