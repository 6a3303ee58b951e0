// An agent's stdout, redacted once as it arrives: the one stream that both the transcript file and the line
// parser read, so no secret the agent prints reaches either (nor the journal, the screen or the next prompt,
// which come from the parsed lines), however the output is chunked — a PEM key over many lines included. A line
// longer than 1 MiB is cut there with a marker (process/line-cutter.ts), in the transcript as in the journal.
import { StringDecoder } from "node:string_decoder";
import type { Redactor } from "../core/redact.js";
import { RedactingStream } from "../core/redact-stream.js";
import { LineCutter, MAX_LINE_BYTES, MAX_MARKER_BYTES } from "../process/line-cutter.js";
import { LineSplitter } from "../process/line-splitter.js";

export class RedactedStdout {
  readonly #decoder = new StringDecoder("utf8");
  readonly #stream: RedactingStream;
  readonly #lines: LineSplitter;
  readonly #cutter: LineCutter;
  /** A high surrogate the last piece ended on: its pair comes with the next piece, and neither is encoded alone. */
  #carry = "";

  /** `onText` gets the redacted bytes (for the transcript), `onLine` each redacted line without its newline. */
  constructor(redactor: Redactor, onText: (bytes: Buffer) => void, onLine: (line: string) => void, maxLineBytes = MAX_LINE_BYTES) {
    this.#stream = new RedactingStream(redactor);
    // A cut line with its marker is one line to the parser, never split in two.
    const lines = new LineSplitter(onLine, { maxLineBytes: maxLineBytes + MAX_MARKER_BYTES });
    this.#lines = lines;
    this.#cutter = new LineCutter((bytes) => {
      onText(bytes);
      lines.push(bytes);
    }, maxLineBytes);
  }

  push(chunk: Buffer): void {
    this.#emit(this.#stream.push(this.#decoder.write(chunk)));
  }

  /** The end of the output: what was held back goes out, and the last line if it had no newline. */
  end(): void {
    this.#emit(this.#stream.push(this.#decoder.end()) + this.#stream.end(), true);
    this.#cutter.end();
    this.#lines.flush();
  }

  #emit(piece: string, last = false): void {
    let text = this.#carry + piece;
    this.#carry = "";
    // The redacting stream counts UTF-16 units, so a piece may end inside a character beyond the BMP (an emoji):
    // encoded alone, each half would become U+FFFD.
    const end = text.charCodeAt(text.length - 1);
    if (!last && end >= 0xd800 && end <= 0xdbff) {
      this.#carry = text.slice(-1);
      text = text.slice(0, -1);
    }
    if (text === "") return;
    this.#cutter.push(Buffer.from(text, "utf8"));
  }
}
