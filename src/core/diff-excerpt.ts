// What a failed attempt changed, bounded for the handoff: the diff stat (cut to a number of lines) and the most
// relevant hunks of the diff, whole hunks only, within a byte budget. Relevant first: hunks of files the failing
// verify output names, then of source files before lock files and generated output, then in the diff's order.

export interface AttemptChanges {
  /** `git diff --stat` of the attempt's worktree against its last commit, bounded. */
  readonly stat: string;
  /** The chosen hunks, each under its file's header, as a unified diff; bounded. */
  readonly hunks: string;
}

export interface ExcerptLimits {
  readonly hunkChars: number;
  readonly statLines: number;
}

export const DEFAULT_EXCERPT_LIMITS: ExcerptLimits = { hunkChars: 4_096, statLines: 30 };

interface FileDiff {
  readonly path: string;
  readonly header: string;
  readonly hunks: readonly string[];
  readonly order: number;
}

/** Files whose hunks say little about what an agent did: lock files, generated and minified output. */
const NOISE = /(^|\/)(package-lock\.json|yarn\.lock|pnpm-lock\.yaml|Cargo\.lock|go\.sum|poetry\.lock)$|(^|\/)(dist|build|node_modules|coverage)\/|\.min\.(js|css)$|\.map$|\.snap$/;

/** Splits a unified diff (`git diff` output) into files, each with its header and its hunks. */
export function parseDiff(diff: string): FileDiff[] {
  const files: FileDiff[] = [];
  const sections = diff.split(/^(?=diff --git )/m).filter((s) => s.startsWith("diff --git "));
  sections.forEach((section, order) => {
    const at = section.search(/^@@ /m);
    const header = (at < 0 ? section : section.slice(0, at)).trimEnd();
    const hunks = at < 0 ? [] : section.slice(at).split(/^(?=@@ )/m).map((h) => h.trimEnd());
    const path = /^\+\+\+ b\/(.+)$/m.exec(header)?.[1] ?? /^diff --git a\/\S+ b\/(.+)$/m.exec(header)?.[1] ?? "";
    files.push({ path, header, hunks, order });
  });
  return files;
}

/**
 * The hunks that fit `limit` characters, most relevant first, shown in the diff's own order under their files'
 * headers; a line at the end says how many were left out. `mentioned`: text (the failing verify output) whose file
 * names make a file's hunks come first.
 */
export function selectHunks(diff: string, mentioned: string, limit: number = DEFAULT_EXCERPT_LIMITS.hunkChars): string {
  const files = parseDiff(diff);
  const rank = (file: FileDiff) => {
    const base = file.path.slice(file.path.lastIndexOf("/") + 1);
    const named = file.path !== "" && (mentioned.includes(file.path) || (base.length > 3 && mentioned.includes(base)));
    return (named ? 0 : 2) + (NOISE.test(file.path) ? 1 : 0);
  };
  const candidates = files
    .flatMap((file) => file.hunks.map((hunk, index) => ({ file, index, hunk })))
    .sort((a, b) => rank(a.file) - rank(b.file) || a.file.order - b.file.order || a.index - b.index);
  const chosen: typeof candidates = [];
  let used = 0;
  const total = candidates.length;
  for (const candidate of candidates) {
    const header = chosen.some((c) => c.file === candidate.file) ? 0 : candidate.file.header.length + 1;
    const cost = header + candidate.hunk.length + 1;
    if (used + cost > limit) continue;
    chosen.push(candidate);
    used += cost;
  }
  // Not one hunk fits: the most relevant one, cut, says more than nothing.
  const top = candidates[0];
  if (chosen.length === 0 && top !== undefined) {
    const room = Math.max(0, limit - top.file.header.length - 40);
    chosen.push({ ...top, hunk: `${top.hunk.slice(0, room)}\n[… hunk cut to ${room} characters]` });
  }
  chosen.sort((a, b) => a.file.order - b.file.order || a.index - b.index);
  const lines: string[] = [];
  let current: FileDiff | undefined;
  for (const c of chosen) {
    if (c.file !== current) lines.push(c.file.header);
    current = c.file;
    lines.push(c.hunk);
  }
  const left = total - chosen.length;
  if (left > 0) lines.push(`[${left} more hunk(s) of ${total} not shown]`);
  return lines.join("\n");
}

/** The stat cut to `lines` lines, keeping git's summary line at its end. */
export function boundStat(stat: string, lines: number = DEFAULT_EXCERPT_LIMITS.statLines): string {
  const all = stat.trimEnd().split("\n").filter((l) => l !== "");
  if (all.length <= lines + 1) return all.join("\n");
  const summary = all[all.length - 1] ?? "";
  return [...all.slice(0, lines), ` … ${all.length - 1 - lines} more file(s)`, summary].join("\n");
}

/** A failed attempt's changes for the journal and the handoff: the bounded stat and the chosen hunks. */
export function attemptChanges(stat: string, diff: string, mentioned: string, limits: ExcerptLimits = DEFAULT_EXCERPT_LIMITS): AttemptChanges | undefined {
  if (stat.trim() === "") return undefined;
  return { stat: boundStat(stat, limits.statLines), hunks: selectHunks(diff, mentioned, limits.hunkChars) };
}
