// Turns a byte stream into text lines. Invariant: however the stream is chunked, the same lines come out,
// and no more than `maxLineBytes` of one line is ever held in memory.
import { StringDecoder } from "node:string_decoder";

export const DEFAULT_MAX_LINE_BYTES = 1024 * 1024;

const NEWLINE = 0x0a;

export interface LineSplitterOptions {
  /** A line longer than this is emitted in pieces of this many bytes (a piece may end a few bytes
   * short where a multi-byte character straddles the cut: the character goes whole into the next). */
  maxLineBytes?: number;
}

export class LineSplitter {
  readonly #onLine: (line: string) => void;
  readonly #maxLineBytes: number;
  // One decoder per line in progress: it holds the bytes of a character split across chunks (or
  // across a piece boundary), and is reset by end() at every newline.
  readonly #decoder = new StringDecoder("utf8");
  #pending = "";
  #pendingBytes = 0;
  // True once a piece of the current line has been emitted, so that a lone "\r" left for the last
  // piece is not emitted as an empty line.
  #split = false;

  constructor(onLine: (line: string) => void, options: LineSplitterOptions = {}) {
    const max = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
    if (!Number.isInteger(max) || max < 1) throw new RangeError(`maxLineBytes must be a positive integer, got ${max}`);
    this.#onLine = onLine;
    this.#maxLineBytes = max;
  }

  push(chunk: Uint8Array): void {
    let start = 0;
    // A newline byte never occurs inside a UTF-8 multi-byte sequence, so splitting bytes is safe.
    for (let index = chunk.indexOf(NEWLINE, start); index !== -1; index = chunk.indexOf(NEWLINE, start)) {
      this.#append(chunk.subarray(start, index));
      this.#endLine();
      start = index + 1;
    }
    if (start < chunk.length) this.#append(chunk.subarray(start));
  }

  /** End of stream: emits the last line if it had no newline. */
  flush(): void {
    if (this.#pendingBytes > 0) this.#endLine();
    else {
      // Bytes of an incomplete character may still sit in the decoder after a piece was cut.
      const rest = this.#decoder.end();
      if (rest.length > 0) this.#onLine(rest);
      this.#split = false;
    }
  }

  #append(bytes: Uint8Array): void {
    let rest = bytes;
    while (this.#pendingBytes + rest.length > this.#maxLineBytes) {
      const take = this.#maxLineBytes - this.#pendingBytes;
      const piece = this.#pending + this.#decoder.write(rest.subarray(0, take));
      this.#pending = "";
      this.#pendingBytes = 0;
      this.#split = true;
      rest = rest.subarray(take);
      if (piece.length > 0) this.#onLine(piece);
    }
    if (rest.length === 0) return;
    this.#pending += this.#decoder.write(rest);
    this.#pendingBytes += rest.length;
  }

  #endLine(): void {
    let line = this.#pending + this.#decoder.end();
    if (line.endsWith("\r")) line = line.slice(0, -1);
    const wasSplit = this.#split;
    this.#pending = "";
    this.#pendingBytes = 0;
    this.#split = false;
    if (wasSplit && line.length === 0) return;
    this.#onLine(line);
  }
}
