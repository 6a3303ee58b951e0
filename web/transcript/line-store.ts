// The transcript's lines as the browser keeps them: chunks of 1,024 lines whose texts are joined into one string
// per chunk, with typed arrays for sequence numbers, kinds, sources and line ends. A million lines then cost about
// their characters plus 15 bytes each, instead of a million objects. Invariants: a line's text is capped at
// LINE_CHARS and holds no newline; the kept characters never exceed the budget — the oldest chunks are dropped
// (and counted in `dropped`) when they would, so the heap stays bounded however long a run prints.

export const CHUNK = 1_024;
/** Characters of one line kept in memory; the full event is fetched from the server when a row is opened. */
export const LINE_CHARS = 400;
/** Characters kept in all, by default: some 80 MB of one-byte text, twice that if a chunk holds wide characters. */
export const DEFAULT_BUDGET_CHARS = 80_000_000;

export interface Line {
  /** Absolute index: lines dropped from the front still count. */
  index: number;
  seq: number;
  kind: number;
  source: string;
  text: string;
}

interface Chunk {
  /** Sealed: all lines joined, each followed by "\n". Open: null (the parts are in `parts`). */
  text: string | null;
  parts: string[];
  /** ends[i]: offset just after line i's "\n" within the chunk's text. */
  ends: Uint32Array;
  seq: Float64Array;
  kind: Uint8Array;
  source: Uint16Array;
  count: number;
  chars: number;
}

function newChunk(): Chunk {
  return {
    text: null,
    parts: [],
    ends: new Uint32Array(CHUNK),
    seq: new Float64Array(CHUNK),
    kind: new Uint8Array(CHUNK),
    source: new Uint16Array(CHUNK),
    count: 0,
    chars: 0,
  };
}

export class LineStore {
  private chunks: Chunk[] = [];
  private readonly sources: string[] = [""];
  private readonly sourceIds = new Map<string, number>([["", 0]]);
  private keptChars = 0;
  /** Lines dropped from the front to keep the budget. */
  dropped = 0;
  /** Bumped on every change, so views know to redraw. */
  version = 0;

  constructor(private readonly budgetChars = DEFAULT_BUDGET_CHARS) {}

  /** Lines ever pushed (dropped ones included): the absolute index of the next line. */
  get total(): number {
    return this.dropped + this.kept;
  }

  /** Lines held now. */
  get kept(): number {
    const last = this.chunks[this.chunks.length - 1];
    return last === undefined ? 0 : (this.chunks.length - 1) * CHUNK + last.count;
  }

  get lastSeq(): number {
    const last = this.chunks[this.chunks.length - 1];
    return last === undefined || last.count === 0 ? 0 : (last.seq[last.count - 1] ?? 0);
  }

  push(seq: number, kind: number, source: string, text: string): void {
    let chunk = this.chunks[this.chunks.length - 1];
    if (chunk === undefined || chunk.count === CHUNK) {
      if (chunk !== undefined) seal(chunk);
      chunk = newChunk();
      this.chunks.push(chunk);
    }
    const clipped = text.length > LINE_CHARS ? `${text.slice(0, LINE_CHARS - 1)}…` : text;
    const i = chunk.count;
    chunk.parts.push(clipped, "\n");
    chunk.chars += clipped.length + 1;
    chunk.ends[i] = chunk.chars;
    chunk.seq[i] = seq;
    chunk.kind[i] = kind;
    chunk.source[i] = this.sourceId(source);
    chunk.count = i + 1;
    this.keptChars += clipped.length + 1;
    while (this.keptChars > this.budgetChars && this.chunks.length > 1) {
      const first = this.chunks.shift();
      if (first === undefined) break;
      this.keptChars -= first.chars;
      this.dropped += first.count;
    }
    this.version += 1;
  }

  clear(): void {
    this.chunks = [];
    this.keptChars = 0;
    this.dropped = 0;
    this.version += 1;
  }

  /** The line at absolute `index`, or undefined when it was dropped or does not exist yet. */
  line(index: number): Line | undefined {
    const at = this.locate(index);
    if (at === undefined) return undefined;
    const { chunk, i } = at;
    const start = i === 0 ? 0 : (chunk.ends[i - 1] ?? 0);
    const text = chunk.text === null ? (chunk.parts[i * 2] ?? "") : chunk.text.slice(start, (chunk.ends[i] ?? 1) - 1);
    return { index, seq: chunk.seq[i] ?? 0, kind: chunk.kind[i] ?? 0, source: this.sources[chunk.source[i] ?? 0] ?? "", text };
  }

  /**
   * The absolute index of the next line after `from` (or before it, backwards) whose text contains `query`, case
   * aside; the search wraps around once. -1 when no kept line matches.
   */
  find(query: string, from: number, backwards = false): number {
    const needle = query.toLowerCase();
    if (needle === "") return -1;
    const kept = this.kept;
    const start = Math.min(Math.max(from - this.dropped, -1), kept);
    const found = backwards
      ? (this.scan(needle, 0, start, true) ?? this.scan(needle, start, kept, true))
      : (this.scan(needle, start + 1, kept, false) ?? this.scan(needle, 0, start + 1, false));
    return found === undefined ? -1 : this.dropped + found;
  }

  /** The first (or last) kept line in [from, to) whose lower-cased text holds `needle`. */
  private scan(needle: string, from: number, to: number, backwards: boolean): number | undefined {
    if (from < 0) from = 0;
    if (to <= from) return undefined;
    const firstChunk = Math.floor(from / CHUNK);
    const lastChunk = Math.floor((to - 1) / CHUNK);
    for (let k = 0; k <= lastChunk - firstChunk; k += 1) {
      const c = backwards ? lastChunk - k : firstChunk + k;
      const chunk = this.chunks[c];
      if (chunk === undefined) continue;
      // Lowered per search and let go at once: a second, lowered copy of every chunk would double the memory.
      const haystack = (chunk.text ?? chunk.parts.join("")).toLowerCase();
      const lo = Math.max(from - c * CHUNK, 0);
      const hi = Math.min(to - c * CHUNK, chunk.count);
      const loOffset = lo === 0 ? 0 : (chunk.ends[lo - 1] ?? 0);
      const hiOffset = chunk.ends[hi - 1] ?? 0;
      let at = backwards ? haystack.lastIndexOf(needle, hiOffset - needle.length) : haystack.indexOf(needle, loOffset);
      while (at >= loOffset && at + needle.length <= hiOffset) {
        const i = lineAt(chunk, at);
        // A match across a line's end does not count ("\n" separates lines).
        if (at + needle.length < (chunk.ends[i] ?? 0)) return c * CHUNK + i;
        at = backwards ? (at === 0 ? -1 : haystack.lastIndexOf(needle, at - 1)) : haystack.indexOf(needle, at + 1);
        if (at < 0) break;
      }
    }
    return undefined;
  }

  private locate(index: number): { chunk: Chunk; i: number } | undefined {
    const rel = index - this.dropped;
    if (rel < 0 || rel >= this.kept) return undefined;
    const chunk = this.chunks[Math.floor(rel / CHUNK)];
    return chunk === undefined ? undefined : { chunk, i: rel % CHUNK };
  }

  private sourceId(source: string): number {
    const known = this.sourceIds.get(source);
    if (known !== undefined) return known;
    if (this.sources.length >= 65_535) return 0;
    this.sources.push(source);
    this.sourceIds.set(source, this.sources.length - 1);
    return this.sources.length - 1;
  }
}

function seal(chunk: Chunk): void {
  chunk.text = chunk.parts.join("");
  chunk.parts = [];
}

/** The line of `chunk` holding character `offset` (binary search over the line ends). */
function lineAt(chunk: Chunk, offset: number): number {
  let lo = 0;
  let hi = chunk.count - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((chunk.ends[mid] ?? 0) > offset) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}
