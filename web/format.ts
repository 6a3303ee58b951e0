// Figures as people read them: durations, money, token counts, ages.
export function duration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return "–";
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${s % 60}s`;
  const h = Math.floor(m / 60);
  return `${h}h ${m % 60}m`;
}

export const usd = (value: number | null | undefined): string => (value === null || value === undefined ? "–" : `$${value.toFixed(value < 1 ? 4 : 2)}`);

export function count(value: number | null | undefined): string {
  if (value === null || value === undefined) return "–";
  if (value >= 1_000_000) return `${(value / 1_000_000).toFixed(1)}M`;
  if (value >= 10_000) return `${(value / 1_000).toFixed(0)}k`;
  return value.toLocaleString("en");
}

export const percent = (value: number | null | undefined): string => (value === null || value === undefined ? "–" : `${Math.round(value * 100)}%`);

export function age(from: number | null | undefined, now: number): string {
  if (from === null || from === undefined) return "never";
  return `${duration(now - from)} ago`;
}
