// Follows a PEM private key over the lines after a BEGIN line that has no END on it: its body lines are
// dropped until the END line, or until a line that is no key body closes the block. Every decision is made
// on one line, and a line longer than PEM_LINE_DECIDED is decided without its end, so a stream need never
// hold more than that of a line inside a key.

export interface PemState {
  /** The text so far ended inside a key whose END line has not come yet. */
  open: boolean;
  /** The BEGIN line itself is not over yet (a stream let its start through early): drop up to its newline. */
  restOfLine: boolean;
  /** Body lines dropped so far. */
  lines: number;
}

export const newPemState = (): PemState => ({ open: false, restOfLine: false, lines: 0 });

/** A key longer than this (a 16384-bit RSA key is about 210 lines) is not a key: the block is closed. */
export const MAX_PEM_LINES = 512;

/** What a line of a key's body looks like: base64, a `Proc-Type: 4,ENCRYPTED` header, or blank. */
const BODY_LINE = /^[ \t]{0,16}(?:[A-Za-z0-9+/=]{1,256}|[A-Za-z][A-Za-z0-9-]{0,31}:[^\n]{0,256})?[ \t\r]{0,16}$/;

/** Longer than any body line (16 + 1 + 32 + 1 + 256 + 16) and any END line's start: decided whatever follows. */
export const PEM_LINE_DECIDED = 330;

/**
 * Where the text goes on after the open key block `pem` at `from` (a line start, or inside the BEGIN line when
 * `restOfLine`), and what to put first. The newline before each body line and before the END line is dropped
 * with it, so the whole block shrinks to its marker; a line that is neither body nor END closes the block and
 * stays, after the newline before it. Text after END on its line stays too, unless it is blank.
 */
export function resumePem(text: string, from: number, pem: PemState, endLine: RegExp): { next: number; separator: string } {
  let i = from;
  if (pem.restOfLine) {
    const newline = text.indexOf("\n", from);
    if (newline === -1) return { next: text.length, separator: "" };
    pem.restOfLine = false;
    i = newline + 1;
  }
  while (pem.open && i < text.length) {
    const newline = text.indexOf("\n", i);
    const end = newline === -1 ? text.length : newline;
    const line = text.slice(i, end);
    const close = endLine.exec(line);
    if (close !== null) {
      pem.open = false;
      const after = i + close.index + close[0].length;
      return { next: text.slice(after, end).trim() === "" ? end : after, separator: "" };
    }
    if (pem.lines >= MAX_PEM_LINES || !BODY_LINE.test(line)) {
      pem.open = false;
      return { next: i, separator: "\n" };
    }
    pem.lines += 1;
    i = newline === -1 ? end : end + 1;
  }
  return { next: i, separator: "" };
}
