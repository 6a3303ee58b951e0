// A benchmark's setting from the environment: a number, at least `min` (a whole one unless `integer` is false),
// or the fallback when unset; anything else stops the benchmark with the variable named.
export function envNumber(name: string, fallback: number, min: number, integer = true): number {
  const raw = process.env[name];
  const value = raw === undefined || raw === "" ? fallback : Number(raw);
  if (!Number.isFinite(value) || value < min || (integer && !Number.isInteger(value))) {
    throw new Error(`${name} must be a ${integer ? "whole " : ""}number ≥ ${min}, got ${String(raw)}`);
  }
  return value;
}
