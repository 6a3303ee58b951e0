// Bounded capture of a command's output that keeps both ends: the head says what ran, the tail says how it
// ended. Invariant: holds at most `limitBytes` of output however much arrives.
import { StringDecoder } from "node:string_decoder";
import { TailBuffer } from "./tail-buffer.js";

export class HeadTailBuffer {
  readonly limitBytes: number;
  readonly #headLimit: number;
  #head: Buffer[] = [];
  #headBytes = 0;
  readonly #tail: TailBuffer;

  constructor(limitBytes: number) {
    if (!Number.isInteger(limitBytes) || limitBytes < 0) {
      throw new RangeError(`limitBytes must be a non-negative integer, got ${limitBytes}`);
    }
    this.limitBytes = limitBytes;
    this.#headLimit = Math.ceil(limitBytes / 2);
    this.#tail = new TailBuffer(limitBytes - this.#headLimit);
  }

  get totalBytes(): number {
    return this.#headBytes + this.#tail.totalBytes;
  }

  get omittedBytes(): number {
    return this.#tail.droppedBytes;
  }

  push(chunk: Uint8Array): void {
    const room = this.#headLimit - this.#headBytes;
    if (room > 0) {
      const head = chunk.subarray(0, room);
      this.#head.push(Buffer.from(head));
      this.#headBytes += head.length;
      chunk = chunk.subarray(head.length);
    }
    if (chunk.length > 0) this.#tail.push(chunk);
  }

  toString(): string {
    const omitted = this.omittedBytes;
    if (omitted === 0) {
      // Nothing cut: decode head and tail as one so that a character straddling them survives.
      return Buffer.concat([...this.#head, this.#tail.bytes()]).toString("utf8");
    }
    // write() without end() leaves out a character cut at the end of the head.
    const head = new StringDecoder("utf8").write(Buffer.concat(this.#head, this.#headBytes));
    return `${head}\n… [${omitted} bytes omitted] …\n${this.#tail.toString()}`;
  }
}
