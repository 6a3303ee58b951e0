// The redactor: replaces every secret of the run's environment, and every well-known credential shape, with a
// marker naming what was removed (`[redacted:GITHUB_TOKEN]`, `[redacted:private-key]`), before anything is
// written or sent. Pure, built once per run from its environment. Invariant: no match crosses a newline
// except a PEM key, whose body is followed line by line (pem-block.ts); so a text redacted whole and the same
// text redacted chunk by chunk (redact-stream.ts) come out the same.
import { newPemState, resumePem, type PemState } from "./pem-block.js";
import { PEM_ANCHOR, PEM_BEGIN, PEM_END, SHAPE_WINDOW, SHAPES, secretValuesOf } from "./secret-shapes.js";

export interface RedactorOptions {
  /** Variables hidden whatever their name (the ones the agent adapters know they pass). */
  extraNames?: readonly string[];
}

/** A match that keeps a stream from letting text through: where it starts and ends. */
export interface Blocker {
  start: number;
  end: number;
}

/** A secret found in a text, with what replaces it. */
interface Found {
  start: number;
  end: number;
  replacement: string;
  /** A BEGIN line whose END is not on it: the key's body follows on the next lines. */
  opensPem: boolean;
}

/** An END line: the marker at its start (after a few blanks). */
const END_LINE = new RegExp(`^[ \\t]{0,16}${PEM_END}`);

const isOpenPem = (match: RegExpExecArray): boolean => match.groups?.["pem"] !== undefined && match.groups["pemEnd"] === undefined;

const escapeRegExp = (text: string): string => text.replace(/[.*+?^${}()|[\]\\/-]/g, "\\$&");

export class Redactor {
  /**
   * Where a secret may start: what each begins with. One alternation of every secret is slow to search (the
   * engine tries each branch at each character), while one of plain prefixes is fast; so this finds the
   * places and `#at` is tried only there. Every match starts with one of these, so none is missed.
   */
  readonly #anchors: RegExp;
  /** Every secret as one sticky alternation: env values (longest first), a PEM key, then each shape. */
  readonly #at: RegExp;
  /** The env values, and the key and shapes, each alone and sticky: which of the two matches further at a start. */
  readonly #envAt: RegExp | undefined;
  readonly #shapesAt: RegExp;
  readonly #names: ReadonlyMap<string, string>;
  /**
   * From where a match starts, the characters within which it is decided whatever follows: the longest env
   * secret, or the widest shape. A stream holds back one less than this (plus a secret still growing).
   */
  readonly window: number;

  constructor(env: Readonly<Record<string, string | undefined>>, options: RedactorOptions = {}) {
    const values = secretValuesOf(env, options.extraNames);
    this.#names = values;
    const literals = [...values.keys()].sort((a, b) => b.length - a.length).map(escapeRegExp);
    const envAlternative = literals.length > 0 ? `(?<env>${literals.join("|")})` : undefined;
    const shapes = [
      // Its END on the same line (a key in a JSON string), or the body on the lines after.
      `(?<pem>${PEM_BEGIN}(?:(?<pemEnd>[^\\n]*?${PEM_END})|[^\\n]*))`,
      ...SHAPES.map((s, i) => `(?<s${i}>${s.before}${s.keep === undefined ? "" : `(?<k${i}>${s.keep})`}${s.secret}${s.after ?? ""})`),
    ].join("|");
    this.#anchors = new RegExp([...literals, escapeRegExp(PEM_ANCHOR), ...SHAPES.map((shape) => shape.anchor)].join("|"), "g");
    this.#at = new RegExp(envAlternative === undefined ? shapes : `${envAlternative}|${shapes}`, "y");
    this.#envAt = envAlternative === undefined ? undefined : new RegExp(envAlternative, "y");
    this.#shapesAt = new RegExp(shapes, "y");
    this.window = Math.max(SHAPE_WINDOW, ...[...values.keys()].map((v) => v.length));
  }

  /** `text` with every secret replaced by its marker. */
  redact(text: string): string {
    return this.scan(text, 0, text.length, newPemState());
  }

  /** A JSON-like value with every string in it redacted; untouched parts are the same objects. */
  redactDeep<T>(value: T): T;
  // The walk only ever puts a string where a string was, so the value keeps its type.
  redactDeep(value: unknown): unknown {
    if (typeof value === "string") return this.redact(value);
    if (Array.isArray(value)) {
      let copy: unknown[] | undefined;
      value.forEach((item: unknown, i) => {
        const redacted = this.redactDeep(item);
        if (redacted !== item) (copy ??= [...value])[i] = redacted;
      });
      return copy ?? value;
    }
    if (value === null || typeof value !== "object") return value;
    const proto: unknown = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) return value;
    let copy: Record<string, unknown> | undefined;
    for (const [key, item] of Object.entries(value)) {
      const redacted = this.redactDeep(item);
      if (redacted !== item) (copy ??= { ...value })[key] = redacted;
    }
    return copy ?? value;
  }

  /**
   * Redacts `text[from, until)`; what lies before `from` is only seen by lookbehinds, and every match is found
   * in the whole of `text`, so a caller that stops at `until` must know no match crosses it. `pem` carries an
   * open key block from the text before and is left open when this text ends inside one.
   */
  scan(text: string, from: number, until: number, pem: PemState): string {
    let out = "";
    let i = from;
    if (pem.open) {
      const resumed = this.resumePem(text, from, pem);
      out = resumed.separator;
      i = resumed.next;
    }
    while (i < until) {
      const found = this.#next(text, i);
      if (found === undefined || found.start >= until) {
        out += text.slice(i, until);
        break;
      }
      out += text.slice(i, found.start) + found.replacement;
      i = found.end;
      if (found.opensPem) {
        // A BEGIN line without its END: the body follows on the next lines.
        pem.open = true;
        pem.lines = 0;
        pem.restOfLine = true;
        const resumed = this.resumePem(text, i, pem);
        out += resumed.separator;
        i = resumed.next;
      }
    }
    return out;
  }

  /** Goes on with the open key block `pem` at `from`: see pem-block.ts. */
  resumePem(text: string, from: number, pem: PemState): { next: number; separator: string } {
    return resumePem(text, from, pem, END_LINE);
  }

  /**
   * The first match from `from` that crosses `limit` (at most `text.length - window + 1`) or runs on to the end
   * of the text, where more text may still lengthen it; undefined when all before `limit` is decided.
   */
  blocker(text: string, from: number, limit: number): Blocker | undefined {
    for (let i = from; ; ) {
      const found = this.#next(text, i);
      if (found === undefined || found.start >= limit) return undefined;
      if (found.end > limit || found.end >= text.length) return { start: found.start, end: found.end };
      i = found.end;
    }
  }

  /**
   * The first secret from `from`, grown over every match that starts inside it: a match may swallow the start of
   * another (`Bearer ` before an env secret with a character no bearer token has), and the rest of that one must
   * go too. Text kept in clear (a `Bearer ` prefix) stops where any such match starts.
   */
  #next(text: string, from: number): Found | undefined {
    const first = this.#first(text, from);
    if (first === undefined) return undefined;
    const [match, rivalled] = this.#longestAt(text, first);
    const start = match.index;
    let end = start + match[0].length;
    const [label, keep] = this.#labelOf(match.groups ?? {});
    // Where two secrets start together, nothing of the longer one is kept in clear.
    let keepEnd = rivalled ? start : start + keep.length;
    // A key without its END on the line, even one found inside another secret, takes the rest of the line.
    let opensPem = isOpenPem(match);
    for (let at = start + 1; at < end; ) {
      const found = this.#first(text, at);
      if (found === undefined || found.index >= end) break;
      const [inner] = this.#longestAt(text, found);
      keepEnd = Math.min(keepEnd, inner.index);
      end = Math.max(end, inner.index + inner[0].length);
      opensPem ||= isOpenPem(inner);
      at = inner.index + 1;
    }
    return { start, end, replacement: `${text.slice(start, keepEnd)}[redacted:${label}]`, opensPem };
  }

  /** The leftmost match from `from`, as one global search of the whole alternation would find it. */
  #first(text: string, from: number): RegExpExecArray | undefined {
    const anchors = this.#anchors;
    const at = this.#at;
    anchors.lastIndex = from;
    for (;;) {
      const anchor = anchors.exec(text);
      if (anchor === null) return undefined;
      at.lastIndex = anchor.index;
      const match = at.exec(text);
      if (match !== null) return match;
      anchors.lastIndex = anchor.index + 1;
    }
  }

  /**
   * `match`, or the other family's match at the same start when that one is longer (an env value `postgres` at
   * the start of a database URL with a password in it); and whether the other family matched there at all.
   */
  #longestAt(text: string, match: RegExpExecArray): [longest: RegExpExecArray, rivalled: boolean] {
    const other = match.groups?.["env"] !== undefined ? this.#shapesAt : this.#envAt;
    if (other === undefined) return [match, false];
    other.lastIndex = match.index;
    const rival = other.exec(text);
    if (rival === null) return [match, false];
    return [rival[0].length > match[0].length ? rival : match, true];
  }

  /** What a match is, and the text it keeps in clear before the secret. */
  #labelOf(groups: Record<string, string | undefined>): [label: string, keep: string] {
    const env = groups["env"];
    if (env !== undefined) return [this.#names.get(env) ?? "secret", ""];
    if (groups["pem"] !== undefined) return ["private-key", ""];
    for (const [i, shape] of SHAPES.entries()) {
      if (groups[`s${i}`] !== undefined) return [shape.label, groups[`k${i}`] ?? ""];
    }
    return ["secret", ""];
  }
}

/** The run's redactor, from the environment its agents and verify commands inherit. */
export function createRedactor(env: Readonly<Record<string, string | undefined>>, options: RedactorOptions = {}): Redactor {
  return new Redactor(env, options);
}
