// "Did you mean …?": the known names closest to a mistyped one, by edit distance with transpositions. The same
// measure and thresholds as commander's suggestion for unknown options (not exported by commander), so a typo
// in orch.config.yaml is answered as a typo on the command line is.

const MAX_DISTANCE = 3;
const MIN_SIMILARITY = 0.4;

/** The candidates nearest to `word` (ties all kept, sorted), or none when nothing is close enough. */
export function similarNames(word: string, candidates: readonly string[]): string[] {
  let best = MAX_DISTANCE;
  let similar: string[] = [];
  for (const candidate of new Set(candidates)) {
    if (candidate.length <= 1 || candidate === word) continue;
    const distance = editDistance(word, candidate);
    const length = Math.max(word.length, candidate.length);
    if ((length - distance) / length <= MIN_SIMILARITY) continue;
    if (distance < best) {
      best = distance;
      similar = [candidate];
    } else if (distance === best) {
      similar.push(candidate);
    }
  }
  return similar.sort((a, b) => a.localeCompare(b));
}

/** `; did you mean "x"?` (or `"x" or "y"`), or "" when nothing is close. */
export function didYouMean(word: string, candidates: readonly string[]): string {
  const similar = similarNames(word, candidates);
  return similar.length === 0 ? "" : `; did you mean ${similar.map((s) => `"${s}"`).join(" or ")}?`;
}

/** Optimal string alignment distance: insertions, deletions, substitutions and adjacent swaps cost 1. */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  const at = (i: number, j: number): number => d[i]?.[j] ?? 0;
  for (let i = 1; i <= a.length; i++) {
    const row = d[i] ?? [];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let value = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) value = Math.min(value, at(i - 2, j - 2) + 1);
      row[j] = value;
    }
  }
  return at(a.length, b.length);
}
