// Bounds the lines of a byte stream: a line longer than `maxLineBytes` keeps its first bytes (cut at a character
// boundary), the rest of it is dropped up to its newline, and a visible marker saying how much was dropped ends it.
// An agent that prints 20 MB without a newline thus leaves one line of about 1 MiB in its transcript (which rotates
// only at line ends) and in the journal. Invariants: lines within the bound pass byte for byte; the output is valid
// UTF-8 when the input is (chunks of whole characters); memory held is a counter, never the dropped bytes.

/** The longest line kept whole: 1 MiB. */
export const MAX_LINE_BYTES = 1024 * 1024;

const NEWLINE = 0x0a;

/** What ends a cut line, in place of what was dropped. */
export function cutMarker(keptBytes: number, droppedBytes: number): string {
  return ` [orch: line cut at ${keptBytes} bytes; ${droppedBytes} more bytes dropped]`;
}

/** The longest marker (with the longest counts): what a line reader must allow beyond `MAX_LINE_BYTES`. */
export const MAX_MARKER_BYTES = Buffer.byteLength(cutMarker(Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER));

export class LineCutter {
  readonly #maxLineBytes: number;
  readonly #out: (bytes: Buffer) => void;
  /** Bytes of the current line passed on so far. */
  #lineBytes = 0;
  /** Bytes of the current line dropped; above 0 once it was cut. */
  #dropped = 0;
  /** Bytes kept of the current line once it was cut. */
  #kept = 0;

  /** `out` gets the bounded stream. Each chunk pushed must hold whole UTF-8 characters. */
  constructor(out: (bytes: Buffer) => void, maxLineBytes = MAX_LINE_BYTES) {
    if (!Number.isInteger(maxLineBytes) || maxLineBytes < 1) throw new RangeError(`maxLineBytes must be a positive integer, got ${maxLineBytes}`);
    this.#out = out;
    this.#maxLineBytes = maxLineBytes;
  }

  push(chunk: Buffer): void {
    let start = 0;
    const pieces: Buffer[] = [];
    while (start < chunk.length) {
      const newline = chunk.indexOf(NEWLINE, start);
      const end = newline === -1 ? chunk.length : newline;
      const length = end - start;
      if (this.#dropped > 0 || this.#lineBytes + length > this.#maxLineBytes) {
        // Cut (or cut already): keep up to the bound, at a character boundary, and count the rest.
        const room = this.#dropped > 0 ? start : boundary(chunk, start, start + this.#maxLineBytes - this.#lineBytes);
        if (room > start) pieces.push(chunk.subarray(start, room));
        if (this.#dropped === 0) this.#kept = this.#lineBytes + (room - start);
        this.#lineBytes += room - start;
        this.#dropped += end - room;
        if (newline !== -1) {
          pieces.push(Buffer.from(`${cutMarker(this.#kept, this.#dropped)}\n`));
          this.#newLine();
        }
      } else {
        pieces.push(chunk.subarray(start, newline === -1 ? end : end + 1));
        if (newline === -1) this.#lineBytes += length;
        else this.#newLine();
      }
      start = newline === -1 ? chunk.length : newline + 1;
    }
    if (pieces.length === 1 && pieces[0] !== undefined) this.#out(pieces[0]);
    else if (pieces.length > 1) this.#out(Buffer.concat(pieces));
  }

  /** The end of the stream: a cut last line (with no newline) gets its marker. */
  end(): void {
    if (this.#dropped > 0) this.#out(Buffer.from(cutMarker(this.#kept, this.#dropped)));
    this.#newLine();
  }

  #newLine(): void {
    this.#lineBytes = 0;
    this.#dropped = 0;
    this.#kept = 0;
  }
}

/** `at`, moved back to the start of the character it falls inside (never below `from`). */
function boundary(chunk: Buffer, from: number, at: number): number {
  let cut = Math.min(at, chunk.length);
  // 0b10xxxxxx continues a character: the cut goes before the character's first byte.
  while (cut > from && cut < chunk.length && ((chunk[cut] ?? 0) & 0xc0) === 0x80) cut -= 1;
  return cut;
}
