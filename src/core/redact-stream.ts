// Redacts a stream of text chunks (an agent's raw stdout) so that no secret gets through however the stream is
// split. Invariant: the output, joined, equals `redactor.redact` of the input, joined. Finished lines go out at
// once (a key block carries over in the PEM state); of an unfinished line it holds back only what could still
// be, or grow into, a secret: `window - 1` characters, or from the start of a match still running at the end.
// A match held longer than `maxHold` is let go as it stands (redacted); only then may the output differ.
import { newPemState, PEM_LINE_DECIDED } from "./pem-block.js";
import type { Redactor } from "./redact.js";

/** Far beyond any secret; reached only by a secret-shaped run (or unterminated key line) this long. */
export const DEFAULT_MAX_HOLD = 1024 * 1024;

/** Characters before the held text that lookbehinds may look at (each looks at one). */
const CONTEXT = 1;

export class RedactingStream {
  readonly #redactor: Redactor;
  readonly #maxHold: number;
  readonly #pem = newPemState();
  /** Received, not yet let through. */
  #held = "";
  /** The characters let through just before `#held`, on its line. */
  #context = "";

  constructor(redactor: Redactor, options: { maxHold?: number } = {}) {
    this.#redactor = redactor;
    // Never below what the redactor needs to decide, or every unfinished line would be let go of early.
    this.#maxHold = Math.max(redactor.window, PEM_LINE_DECIDED, options.maxHold ?? DEFAULT_MAX_HOLD);
  }

  /** Characters held back now. */
  get held(): number {
    return this.#held.length;
  }

  /** Takes the next chunk; returns what can be let through now, redacted. */
  push(chunk: string): string {
    if (chunk === "") return "";
    const data = this.#held + chunk;
    const newline = data.lastIndexOf("\n");
    if (newline === -1) return this.#unfinished(this.#context + data, this.#context.length);
    const lines = this.#context + data.slice(0, newline + 1);
    const out = this.#redactor.scan(lines, this.#context.length, lines.length, this.#pem);
    return out + this.#unfinished(data.slice(newline + 1), 0);
  }

  /** The end of the stream: lets through what is held. */
  end(): string {
    const text = this.#context + this.#held;
    const out = this.#redactor.scan(text, this.#context.length, text.length, this.#pem);
    this.#held = "";
    this.#context = "";
    Object.assign(this.#pem, newPemState());
    return out;
  }

  /** `text[from…]` is the unfinished last line, `text[…from]` what went out before it: lets the decided part go. */
  #unfinished(text: string, start: number): string {
    let out = "";
    let from = start;
    const pem = this.#pem;
    if (pem.open) {
      // Inside a key a line is judged once it is known to be body, END, or neither.
      if (!pem.restOfLine && text.length - from < PEM_LINE_DECIDED) return this.#hold(text, from);
      const resumed = this.#redactor.resumePem(text, from, pem);
      out = resumed.separator;
      from = resumed.next;
      if (pem.open) return out + this.#hold(text, from);
    }
    for (;;) {
      const limit = Math.max(from, text.length - (this.#redactor.window - 1));
      const blocker = this.#redactor.blocker(text, from, limit);
      let cut = blocker?.start ?? limit;
      // Held too long: the secret is let go of as far as it has come, redacted.
      if (blocker !== undefined && text.length - cut > this.#maxHold) cut = blocker.end;
      if (cut === from) return out + this.#hold(text, from);
      out += this.#redactor.scan(text, from, cut, pem);
      from = cut;
      if (pem.restOfLine) return out + this.#hold(text, text.length);
    }
  }

  #hold(text: string, from: number): string {
    this.#held = text.slice(from);
    this.#context = text.slice(Math.max(0, from - CONTEXT), from);
    return "";
  }
}
