// Durations as users type them (`30s`, `5m`, `2h`, `1h30m`, `7d`, `250ms`) and as orch prints them, and the
// one format of clock times orch prints.

const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/gy;

/** Milliseconds, or undefined when the text is not a duration. A bare number means seconds. */
export function parseDuration(text: string): number | undefined {
  const input = text.trim().toLowerCase();
  if (input === "") return undefined;
  if (/^\d+(\.\d+)?$/.test(input)) return Math.round(Number(input) * 1_000);
  PART.lastIndex = 0;
  let total = 0;
  let consumed = 0;
  for (let match = PART.exec(input); match !== null; match = PART.exec(input)) {
    const [whole, amount, unit] = match;
    const factor = unit === undefined ? undefined : UNIT_MS[unit];
    if (amount === undefined || factor === undefined) return undefined;
    total += Number(amount) * factor;
    consumed += whole.length;
  }
  return consumed === input.length ? Math.round(total) : undefined;
}

/** `2d 03h`, `1h 02m`, `3m 05s`, `12s`, `350ms`. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return "0s";
  if (ms < 1_000) return `${Math.round(ms)}ms`;
  const seconds = Math.floor(ms / 1_000);
  const d = Math.floor(seconds / 86_400);
  if (d > 0) return `${d}d ${String(Math.floor((seconds % 86_400) / 3_600)).padStart(2, "0")}h`;
  const h = Math.floor(seconds / 3_600);
  const m = Math.floor((seconds % 3_600) / 60);
  const s = seconds % 60;
  if (h > 0) return `${h}h ${String(m).padStart(2, "0")}m`;
  if (m > 0) return `${m}m ${String(s).padStart(2, "0")}s`;
  return `${s}s`;
}

/**
 * A clock time as orch prints it everywhere (status, list, logs, the live line): `2026-12-07 12:00:04Z`, in
 * UTC, the same on every machine and sortable as text. `zone: false` leaves out the `Z` for a column whose
 * header names the zone once (`CREATED (UTC)`).
 */
export function formatTimestamp(ms: number, options: { zone?: boolean } = {}): string {
  const iso = new Date(ms).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}${options.zone === false ? "" : "Z"}`;
}
