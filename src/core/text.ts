// Small text helpers shared by prompts, handoffs and reports: slugs for ids and branch names, and
// trimming that keeps the end of an output (where test runners print what failed).

/** A short lowercase slug usable in a branch name: `Make the failing tests pass!` → `make-the-failing-tests-pass`. */
export function slugify(text: string, maxLength = 32): string {
  const slug = text
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "");
  if (slug.length <= maxLength) return slug;
  const cut = slug.slice(0, maxLength);
  const lastDash = cut.lastIndexOf("-");
  return (lastDash > maxLength / 2 ? cut.slice(0, lastDash) : cut).replace(/-+$/, "");
}

/** Keeps the last `maxLines` lines and at most `maxChars` characters, saying how much was cut. */
export function tailLines(text: string, maxLines: number, maxChars: number): string {
  const trimmed = text.replace(/\s+$/, "");
  let lines = trimmed.split("\n");
  let cut = 0;
  if (lines.length > maxLines) {
    cut = lines.length - maxLines;
    lines = lines.slice(-maxLines);
  }
  let out = lines.join("\n");
  if (out.length > maxChars) {
    const dropped = out.slice(0, out.length - maxChars);
    cut += dropped.split("\n").length - 1;
    out = out.slice(out.length - maxChars);
    const newline = out.indexOf("\n");
    if (newline >= 0 && newline < 200) out = out.slice(newline + 1);
  }
  return cut > 0 ? `[… ${cut} earlier lines cut]\n${out}` : out;
}

/** Removes ANSI colour and cursor codes. */
export function stripAnsi(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/\u001b\[[0-9;?]*[ -/]*[@-~]|\u001b\][^\u0007]*\u0007/g, "");
}

export function firstLine(text: string, maxChars = 200): string {
  const line = text.trim().split("\n")[0] ?? "";
  return line.length > maxChars ? `${line.slice(0, maxChars - 1)}…` : line;
}

/**
 * `items` joined, naming at most `shown` of them: "a, b, c and 9,990 more". All of them when `shown` is
 * undefined (for JSON, which is read by programs).
 */
export function summarizeList(items: readonly string[], shown?: number): string {
  if (shown === undefined || items.length <= shown) return items.join(", ");
  const named = items.slice(0, Math.max(0, shown));
  const more = `${(items.length - named.length).toLocaleString("en-US")} more`;
  return named.length === 0 ? more : `${named.join(", ")} and ${more}`;
}

/** One word for /bin/sh, single-quoted. */
export function shellQuote(word: string): string {
  return `'${word.replace(/'/g, `'\\''`)}'`;
}
