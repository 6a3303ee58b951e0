// Whole small files read into one buffer this process reuses: what orch reads of /proc (stat, status, environ
// of every process, every second of every attempt). Reading them with fs/promises costs a promise, a stat and a
// fresh 64 KiB buffer per file (procfs reports a size of 0), which a long run turns into CPU and a malloc heap
// that only grows. Invariant: the bytes handed back are valid until the next read; a file that cannot be read
// (a process gone mid-read, not ours to read) is `undefined`, never an error.
import { closeSync, openSync, readSync } from "node:fs";

/** Grown (doubled) when a file does not fit; an environment can be tens of kilobytes. */
let shared = Buffer.alloc(64 * 1024);

/** The file's bytes, as a view of the shared buffer valid until the next read; undefined when unreadable. */
export function readWhole(path: string): Buffer | undefined {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch {
    return undefined;
  }
  try {
    let length = 0;
    for (;;) {
      if (length === shared.length) {
        const bigger = Buffer.alloc(shared.length * 2);
        shared.copy(bigger);
        shared = bigger;
      }
      const read = readSync(fd, shared, length, shared.length - length, null);
      if (read === 0) return shared.subarray(0, length);
      length += read;
    }
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}

/** The file as text; undefined when unreadable. */
export function readWholeText(path: string, encoding: BufferEncoding = "utf8"): string | undefined {
  return readWhole(path)?.toString(encoding);
}
