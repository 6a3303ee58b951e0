// Sizes as users type them (`512m`, `4g`, `1.5GB`, `100MiB`) and as orch prints them. Units are binary
// (k = 1024 bytes), as memory is counted; a bare number is refused, since `4096` could mean bytes or MB.

const UNIT_BYTES: Record<string, number> = {
  b: 1,
  k: 1024,
  m: 1024 ** 2,
  g: 1024 ** 3,
  t: 1024 ** 4,
};
const SIZE = /^(\d+(?:\.\d+)?)\s*([kmgt]i?b?|b)$/;

/** Bytes (a whole number above 0), or undefined when the text is not a size. */
export function parseSize(text: string): number | undefined {
  const match = SIZE.exec(text.trim().toLowerCase());
  const amount = match?.[1];
  const unit = match?.[2]?.[0];
  const factor = unit === undefined ? undefined : UNIT_BYTES[unit];
  if (amount === undefined || factor === undefined) return undefined;
  const bytes = Math.round(Number(amount) * factor);
  return Number.isSafeInteger(bytes) && bytes > 0 ? bytes : undefined;
}

const PRINTED: readonly [string, number][] = [
  ["TB", 1024 ** 4],
  ["GB", 1024 ** 3],
  ["MB", 1024 ** 2],
  ["KB", 1024],
];

/** `2.3 GB`, `512 MB`, `12 KB`, `300 bytes`: at most `decimals` decimals, trailing zeros dropped. */
export function formatSize(bytes: number, decimals = 1): string {
  if (!Number.isFinite(bytes) || bytes < 0) return "0 bytes";
  for (const [unit, factor] of PRINTED) {
    if (bytes >= factor) return `${Number((bytes / factor).toFixed(decimals))} ${unit}`;
  }
  return `${Math.round(bytes)} bytes`;
}
