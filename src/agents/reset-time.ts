// Reads from an agent CLI's limit message when the limit lifts, as epoch milliseconds (Claude Code, Codex and
// OpenCode word it in the ways below). Pure: `now` is given.
// Only what the CLI actually prints is read; an unreadable message gives `undefined`, never a guess.

const MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];
const DAY_MS = 24 * 60 * 60 * 1000;

const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };

export function readResetTime(text: string, now: number): number | undefined {
  return (
    fromEpochSuffix(text) ??
    fromIsoTimestamp(text, now) ??
    fromRelative(text, now) ??
    fromClockTime(text, now)
  );
}

/** Older CLIs: `Claude AI usage limit reached|1735689600` (epoch seconds after a bar). */
function fromEpochSuffix(text: string): number | undefined {
  const match = /limit reached\|(\d{10}|\d{13})\b/i.exec(text);
  if (match?.[1] === undefined) return undefined;
  const n = Number(match[1]);
  return match[1].length === 10 ? n * 1_000 : n;
}

/** `resets at 2026-11-21T15:00:00Z` and the like; only a timestamp that names its zone is trusted. */
function fromIsoTimestamp(text: string, now: number): number | undefined {
  const match = /\b(?:resets?|reset at|retry after|try again at|until)\b[^\n]*?(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2}))/i.exec(
    text,
  );
  if (match?.[1] === undefined) return undefined;
  const at = Date.parse(match[1]);
  return Number.isFinite(at) && at > now ? at : undefined;
}

/** `try again in 30 seconds`, `retry after 2 minutes`. */
function fromRelative(text: string, now: number): number | undefined {
  const match =
    /\b(?:try again|retry)\s+(?:in|after)\s+(\d+(?:\.\d+)?)\s*(ms|milliseconds?|s|secs?|seconds?|m|mins?|minutes?|h|hrs?|hours?)\b/i.exec(
      text,
    );
  if (match?.[1] === undefined || match[2] === undefined) return undefined;
  const unit = match[2].toLowerCase();
  const key = unit.startsWith("ms") || unit.startsWith("milli") ? "ms" : unit.charAt(0);
  const factor = UNIT_MS[key];
  if (factor === undefined) return undefined;
  return now + Math.round(Number(match[1]) * factor);
}

/**
 * Claude 2.x: `You've hit your limit · resets 3pm (Europe/Berlin)` or `resets Nov 23, 3:30pm`. The CLI
 * formats the time in the zone of the machine it runs on, which is orch's machine, so local time is right.
 */
function fromClockTime(text: string, now: number): number | undefined {
  const match =
    /\bresets\s+(?:at\s+)?(?:([A-Za-z]{3})[a-z]*\.?\s+(\d{1,2}),?\s+(?:(\d{4}),?\s+)?(?:at\s+)?)?(\d{1,2})(?::(\d{2}))?\s*([ap])\.?m\b/i.exec(
      text,
    );
  if (match === null) return undefined;
  const [, monthName, dayText, yearText, hourText, minuteText, half] = match;
  if (hourText === undefined || half === undefined) return undefined;
  const hour12 = Number(hourText);
  const minute = minuteText === undefined ? 0 : Number(minuteText);
  if (hour12 < 1 || hour12 > 12 || minute > 59) return undefined;
  const hour = (hour12 % 12) + (half.toLowerCase() === "p" ? 12 : 0);
  const today = new Date(now);

  if (monthName === undefined || dayText === undefined) {
    const at = new Date(today.getFullYear(), today.getMonth(), today.getDate(), hour, minute).getTime();
    // Already past today: the next such time is tomorrow (built from the date, so DST shifts are right).
    return at > now ? at : new Date(today.getFullYear(), today.getMonth(), today.getDate() + 1, hour, minute).getTime();
  }
  const month = MONTHS.indexOf(monthName.toLowerCase());
  const day = Number(dayText);
  if (month < 0 || day < 1 || day > 31) return undefined;
  const year = yearText === undefined ? today.getFullYear() : Number(yearText);
  let at = new Date(year, month, day, hour, minute).getTime();
  // "Jan 2" read in late December names next year's January.
  if (yearText === undefined && at < now - DAY_MS) at = new Date(year + 1, month, day, hour, minute).getTime();
  return at > now ? at : undefined;
}
