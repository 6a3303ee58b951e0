// The rotating transcript log on real files: rotation on line ends past the size, gzip parts in order, the
// keep limit, end() flushing everything, bounded buffering under a fast producer (also through supervise, from
// a real process), and readTranscript reading it all back.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { gunzipSync } from "node:zlib";
import { afterAll, describe, expect, it } from "vitest";
import { readTranscript, RotatingLog } from "../src/process/rotating-log.js";
import { supervise } from "../src/process/supervise.js";

const scratch = mkdtempSync(join(tmpdir(), "orch-rotating-log-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
let counter = 0;
const freshFile = (): string => {
  counter += 1;
  const dir = join(scratch, `case-${counter}`);
  return join(dir, "attempt.jsonl");
};

/** A deterministic pseudo-random generator, so that a failure can be replayed. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

/** `count` JSON lines of varied length (10 to ~300 bytes). */
function jsonLines(count: number, seed = 1): string[] {
  const next = random(seed);
  return Array.from({ length: count }, (_, n) => JSON.stringify({ type: "text", n, text: "é".repeat(Math.floor(next() * 140)) }));
}

/** The bytes cut into chunks of random size (1 to 700 bytes), ignoring line and character boundaries. */
function chunked(bytes: Buffer, seed = 2): Buffer[] {
  const next = random(seed);
  const chunks: Buffer[] = [];
  for (let at = 0; at < bytes.length; ) {
    const size = 1 + Math.floor(next() * 700);
    chunks.push(bytes.subarray(at, at + size));
    at += size;
  }
  return chunks;
}

async function collect(file: string): Promise<string[]> {
  const lines: string[] = [];
  for await (const line of readTranscript(file)) lines.push(line);
  return lines;
}

/** The log's files in its directory: part numbers of the .gz files, and anything else that is not the live file. */
function partsOf(file: string): { gz: number[]; other: string[] } {
  const dir = join(file, "..");
  const gz: number[] = [];
  const other: string[] = [];
  for (const entry of readdirSync(dir)) {
    const match = /^attempt\.jsonl\.(\d+)\.gz$/.exec(entry);
    if (match?.[1] !== undefined) gz.push(Number(match[1]));
    else if (entry !== "attempt.jsonl") other.push(entry);
  }
  return { gz: gz.sort((a, b) => a - b), other };
}

describe("RotatingLog", () => {
  it("rotates at the first line end past maxBytes into numbered gzip parts, oldest = 1, each of whole lines", async () => {
    const file = freshFile();
    const lines = jsonLines(400);
    const input = Buffer.from(lines.map((line) => `${line}\n`).join(""));
    const maxBytes = 2_000;
    const log = new RotatingLog(file, { maxBytes, keep: 1_000 });
    for (const chunk of chunked(input)) log.write(chunk);
    await log.end();
    expect(log.error).toBeUndefined();

    const { gz, other } = partsOf(file);
    expect(other, "no plain or partial parts left once end() settled").toEqual([]);
    expect(gz.length).toBeGreaterThan(10);
    expect(gz).toEqual(Array.from({ length: gz.length }, (_, i) => i + 1));
    const longest = Math.max(...lines.map((line) => Buffer.byteLength(line) + 1));
    const parts = gz.map((n) => gunzipSync(readFileSync(`${file}.${n}.gz`)));
    for (const part of parts) {
      expect(part.at(-1), "a part ends at a line end").toBe(0x0a);
      expect(part.length).toBeGreaterThanOrEqual(maxBytes);
      expect(part.length).toBeLessThan(maxBytes + longest);
      // Whole lines: each one parses on its own.
      for (const line of part.toString("utf8").split("\n").slice(0, -1)) expect(() => JSON.parse(line) as unknown).not.toThrow();
    }
    const live = readFileSync(file);
    expect(live.length).toBeLessThan(maxBytes + longest);
    // Parts in number order, then the live file, are the input byte for byte.
    expect(Buffer.concat([...parts, live]).equals(input)).toBe(true);
    expect(await collect(file)).toEqual(lines);
  });

  it("keeps only the newest `keep` compressed parts, deleting the oldest", async () => {
    const file = freshFile();
    const lines = jsonLines(300, 7);
    const log = new RotatingLog(file, { maxBytes: 1_000, keep: 2 });
    for (const line of lines) log.write(Buffer.from(`${line}\n`));
    await log.end();
    const { gz, other } = partsOf(file);
    expect(other).toEqual([]);
    expect(gz).toHaveLength(2);
    const [older, newer] = gz;
    expect(newer).toBe((older ?? 0) + 1);
    expect(older).toBeGreaterThan(5);
    // What is left is the newest part of the output, in order, through to the last line.
    const kept = await collect(file);
    expect(kept.length).toBeGreaterThan(0);
    expect(kept.length).toBeLessThan(lines.length);
    expect(kept).toEqual(lines.slice(lines.length - kept.length));
  });

  it("keeps a line longer than maxBytes whole, in a part of its own making", async () => {
    const file = freshFile();
    const long = JSON.stringify({ type: "text", text: "x".repeat(5_000) });
    const log = new RotatingLog(file, { maxBytes: 1_000 });
    log.write(Buffer.from(`{"n":1}\n${long.slice(0, 2_500)}`));
    log.write(Buffer.from(`${long.slice(2_500)}\n{"n":2}\n`));
    await log.end();
    expect(partsOf(file).gz).toEqual([1]);
    expect(gunzipSync(readFileSync(`${file}.1.gz`)).toString()).toBe(`{"n":1}\n${long}\n`);
    expect(readFileSync(file, "utf8")).toBe(`{"n":2}\n`);
    expect(await collect(file)).toEqual(['{"n":1}', long, '{"n":2}']);
  });

  it("end() settles only after every queued byte is in the file and every compression has finished", async () => {
    const file = freshFile();
    const lines = jsonLines(3_000, 3);
    const log = new RotatingLog(file, { maxBytes: 50_000 });
    // Written without waiting, then ended at once: end() must still see all of it through.
    for (const line of lines) log.write(Buffer.from(`${line}\n`));
    expect(log.bufferedBytes).toBeGreaterThan(0);
    await log.end();
    expect(log.bufferedBytes).toBe(0);
    const { gz, other } = partsOf(file);
    expect(gz.length).toBeGreaterThan(1);
    expect(other).toEqual([]);
    expect(await collect(file)).toEqual(lines);
    expect(() => log.write(Buffer.from("late\n"))).toThrow(/write after end/);
  });

  it("creates the (empty) file even when nothing is written, and appends to an existing log, numbering on", async () => {
    const file = freshFile();
    const first = new RotatingLog(file, { maxBytes: 100 });
    await first.end();
    expect(readFileSync(file, "utf8")).toBe("");
    expect(await collect(file)).toEqual([]);

    const again = new RotatingLog(file, { maxBytes: 100 });
    again.write(Buffer.from(`${"a".repeat(120)}\n${"b".repeat(10)}\n`));
    await again.end();
    const third = new RotatingLog(file, { maxBytes: 100 });
    third.write(Buffer.from(`${"c".repeat(120)}\nlast`));
    await third.end();
    expect(partsOf(file).gz).toEqual([1, 2]);
    expect(gunzipSync(readFileSync(`${file}.2.gz`)).toString()).toBe(`${"b".repeat(10)}\n${"c".repeat(120)}\n`);
    expect(await collect(file)).toEqual(["a".repeat(120), "b".repeat(10), "c".repeat(120), "last"]);
  });

  it("holds no more than the high-water mark plus one chunk when the producer waits for room", async () => {
    const file = freshFile();
    const highWaterMark = 64 * 1024;
    const chunkBytes = 16 * 1024;
    const log = new RotatingLog(file, { maxBytes: 4 * 1024 * 1024, keep: 100, highWaterMark });
    const line = `${JSON.stringify({ type: "text", text: "y".repeat(1_000) })}\n`;
    const chunk = Buffer.from(line.repeat(Math.ceil(chunkBytes / line.length)));
    const rounds = Math.ceil((32 * 1024 * 1024) / chunk.length);
    let peak = 0;
    let refused = 0;
    for (let i = 0; i < rounds; i += 1) {
      if (!log.write(chunk)) refused += 1;
      peak = Math.max(peak, log.bufferedBytes);
      await log.waitForRoom();
    }
    await log.end();
    expect(refused, "write() asked the producer to wait").toBeGreaterThan(0);
    expect(peak).toBeLessThanOrEqual(highWaterMark + chunk.length);
    expect(partsOf(file).gz.length).toBeGreaterThanOrEqual(7);
    let count = 0;
    for await (const read of readTranscript(file)) {
      if (`${read}\n` !== line) throw new Error(`line ${count} differs`);
      count += 1;
    }
    expect(count).toBe(rounds * (chunk.length / line.length));
  });

  it("bounds what it buffers from a real process that writes as fast as it can (through supervise)", async () => {
    const file = freshFile();
    const highWaterMark = 256 * 1024;
    const log = new RotatingLog(file, { maxBytes: 8 * 1024 * 1024, keep: 100, highWaterMark });
    const lines = 200_000;
    // ~20 MB of lines in large writes, ignoring its own backpressure: only the pipe holds it back.
    const program = `const l='x'.repeat(99)+'\\n';const b=l.repeat(1000);for(let i=0;i<${lines / 1000};i++)process.stdout.write(b);`;
    let peak = 0;
    let lineCount = 0;
    const exit = await supervise({
      file: process.execPath,
      args: ["-e", program],
      cwd: scratch,
      env: process.env,
      onLine: () => (lineCount += 1),
      onStdout: (chunk) => {
        log.write(chunk);
        peak = Math.max(peak, log.bufferedBytes);
      },
      stdoutBackpressure: () => log.waitForRoom(),
    });
    await log.end();
    expect(exit).toMatchObject({ reason: "exited", exitCode: 0 });
    expect(lineCount).toBe(lines);
    // One pipe read at most beyond the mark (libuv reads at most 64 KB at a time).
    expect(peak).toBeLessThanOrEqual(highWaterMark + 64 * 1024);
    let count = 0;
    for await (const read of readTranscript(file)) {
      if (read !== "x".repeat(99)) throw new Error(`line ${count} differs`);
      count += 1;
    }
    expect(count).toBe(lines);
  });

  it("a log it cannot write reports the error, drops the bytes, and still ends", async () => {
    const blocker = join(scratch, "not-a-directory");
    writeFileSync(blocker, "");
    const log = new RotatingLog(join(blocker, "attempt.jsonl"));
    expect(log.write(Buffer.from("one\n"))).toBe(true);
    await log.end();
    expect(log.error).toBeInstanceOf(Error);
    expect(log.droppedBytes).toBe(4);
  });

  it("tells of the first write failure at once, and only once, while the producer goes on", async () => {
    const file = freshFile();
    mkdirSync(dirname(file));
    // Every write to /dev/full fails with ENOSPC, as on a full disk.
    symlinkSync("/dev/full", file);
    const told: Error[] = [];
    const log = new RotatingLog(file, { onWriteError: (error) => told.push(error) });
    log.write(Buffer.from("one\n"));
    await waitUntil(() => told.length > 0);
    expect(told[0]?.message).toMatch(/^ENOSPC/);
    for (let i = 0; i < 10; i++) log.write(Buffer.from(`line ${i}\n`));
    await log.end();
    expect(told).toHaveLength(1);
    expect(log.error).toBe(told[0]);
    expect(log.droppedBytes).toBeGreaterThan(0);
  });

  it("a folder it cannot make is a write failure it tells of too", async () => {
    const blocker = join(scratch, "also-not-a-directory");
    writeFileSync(blocker, "");
    const told: Error[] = [];
    const log = new RotatingLog(join(blocker, "attempt.jsonl"), { onWriteError: (error) => told.push(error) });
    await log.end();
    expect(told.map((e) => "code" in e && e.code)).toEqual(["EEXIST"]);
  });

  it("reads nothing for a log that does not exist", async () => {
    expect(await collect(join(scratch, "missing", "attempt.jsonl"))).toEqual([]);
  });
});

async function waitUntil(done: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!done()) {
    if (performance.now() > deadline) throw new Error("timed out waiting");
    await sleep(10);
  }
}
