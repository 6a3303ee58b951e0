// Option values as a user types them (on the command line, or in a request to the server): a bad one is a
// UsageError that names the option.
import { parseDuration } from "../core/duration.js";
import { UsageError } from "../core/errors.js";
import { parseSize } from "../core/size.js";

export function positiveInt(flag: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new UsageError(`${flag} must be a whole number above 0, not "${value}"`);
  return n;
}

export function positiveNumber(flag: string, value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new UsageError(`${flag} must be a number above 0, not "${value}"`);
  return n;
}

export function duration(flag: string, value: string): number {
  const ms = parseDuration(value);
  if (ms === undefined) throw new UsageError(`${flag} must be a duration such as 30s, 5m, 2h or 1h30m, not "${value}"`);
  return ms;
}

/** Milliseconds, from hours as a bare number (3, 1.5) or a duration like any other (90m, 2h, 1h30m). */
export function hours(flag: string, value: string): number {
  if (/^\s*[-+]?(\d+\.?\d*|\.\d+)\s*$/.test(value)) return Math.round(positiveNumber(flag, value) * 3_600_000);
  const ms = parseDuration(value);
  if (ms === undefined || ms <= 0) throw new UsageError(`${flag} must be a number of hours or a duration such as 90m or 2h, above 0, not "${value}"`);
  return ms;
}

/** Bytes, from a size such as 512m or 4g. */
export function size(flag: string, value: string): number {
  const bytes = parseSize(value);
  if (bytes === undefined) throw new UsageError(`${flag} must be a size such as 512m, 4g or 1.5g, not "${value}"`);
  return bytes;
}
