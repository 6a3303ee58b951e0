// The last few KiB of a byte stream (stderr), however much of it there was.
// Invariant: never holds more than `limitBytes` plus one chunk between trims.

export const DEFAULT_TAIL_BYTES = 16 * 1024;

export class TailBuffer {
  readonly limitBytes: number;
  #chunks: Buffer[] = [];
  #bytes = 0;
  #totalBytes = 0;

  constructor(limitBytes: number = DEFAULT_TAIL_BYTES) {
    if (!Number.isInteger(limitBytes) || limitBytes < 0) {
      throw new RangeError(`limitBytes must be a non-negative integer, got ${limitBytes}`);
    }
    this.limitBytes = limitBytes;
  }

  /** Every byte ever pushed, kept or not. */
  get totalBytes(): number {
    return this.#totalBytes;
  }

  /** Bytes pushed but no longer kept. */
  get droppedBytes(): number {
    return this.#totalBytes - this.#bytes;
  }

  push(chunk: Uint8Array): void {
    this.#totalBytes += chunk.length;
    if (this.limitBytes === 0 || chunk.length === 0) return;
    if (chunk.length >= this.limitBytes) {
      // Copy: the caller may reuse its buffer, and a subarray would pin the whole chunk in memory.
      this.#chunks = [Buffer.from(chunk.subarray(chunk.length - this.limitBytes))];
      this.#bytes = this.limitBytes;
      return;
    }
    this.#chunks.push(Buffer.from(chunk));
    this.#bytes += chunk.length;
    let excess = this.#bytes - this.limitBytes;
    while (excess > 0) {
      const first = this.#chunks[0];
      if (first === undefined) break;
      if (first.length <= excess) {
        this.#chunks.shift();
        this.#bytes -= first.length;
        excess -= first.length;
      } else {
        this.#chunks[0] = first.subarray(excess);
        this.#bytes -= excess;
        excess = 0;
      }
    }
  }

  /** The kept bytes, raw: the first may be cut inside a character. */
  bytes(): Buffer {
    return Buffer.concat(this.#chunks, this.#bytes);
  }

  /** The kept bytes as text, starting at the first whole character. */
  toString(): string {
    const bytes = this.bytes();
    return bytes.subarray(this.droppedBytes > 0 ? firstCharBoundary(bytes) : 0).toString("utf8");
  }
}

/** Where the first character starts when the buffer may have been cut inside one. */
export function firstCharBoundary(bytes: Uint8Array): number {
  let index = 0;
  // UTF-8 continuation bytes are 0b10xxxxxx; a character is at most 4 bytes long.
  while (index < bytes.length && index < 3 && ((bytes[index] ?? 0) & 0xc0) === 0x80) index++;
  return index;
}
