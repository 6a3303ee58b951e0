// What a benchmark reports and how it is printed: one line per figure (figure, baselines measured in the same
// run, ratios, target, PASS/FAIL) and a compact table at the end. Results cross process boundaries as JSON,
// so they are described by a zod schema and parsed, never cast, when read back.
import { z } from "zod";

export const Unit = z.enum(["ms", "s", "per_s", "bytes", "count", "percent", "ratio"]);
export type Unit = z.infer<typeof Unit>;

export const Baseline = z.object({
  label: z.string(),
  value: z.number(),
  unit: Unit,
  /** figure / value. */
  ratio: z.number(),
});
export type Baseline = z.infer<typeof Baseline>;

export const Metric = z.object({
  bench: z.string(),
  label: z.string(),
  figure: z.number(),
  unit: Unit,
  baselines: z.array(Baseline),
  target: z.string(),
  pass: z.boolean(),
});
export type Metric = z.infer<typeof Metric>;

export const BenchResult = z.object({
  name: z.string(),
  metrics: z.array(Metric),
  /** Extra figures worth reading (per-attempt overhead, setup time, sample gaps). */
  notes: z.array(z.string()),
});
export type BenchResult = z.infer<typeof BenchResult>;

/** A baseline of zero or below (a latency within two processes' clock skew) has no ratio: it prints as n/a. */
export function baseline(label: string, value: number, unit: Unit, figure: number): Baseline {
  return { label, value, unit, ratio: value <= 0 ? Number.POSITIVE_INFINITY : figure / value };
}

export function formatValue(value: number, unit: Unit): string {
  switch (unit) {
    case "ms":
      return `${value.toFixed(value < 10 ? 2 : 0)} ms`;
    case "s":
      return `${value.toFixed(2)} s`;
    case "per_s":
      return value >= 1e6 ? `${(value / 1e6).toFixed(2)}M/s` : `${(value / 1e3).toFixed(1)}k/s`;
    case "bytes":
      return `${(value / (1024 * 1024)).toFixed(1)} MB`;
    case "count":
      return String(Math.round(value));
    case "percent":
      return `${value.toFixed(1)}%`;
    case "ratio":
      return value.toFixed(2);
  }
}

/** A ratio above 1 reads as "3.10x"; a fraction as "12.3%". */
export function formatRatio(ratio: number): string {
  if (!Number.isFinite(ratio)) return "n/a";
  return ratio >= 1 ? `${ratio.toFixed(2)}x` : `${(ratio * 100).toFixed(1)}%`;
}

export function formatLine(m: Metric): string {
  const bases = m.baselines.map((b) => `${b.label} ${formatValue(b.value, b.unit)} → ${formatRatio(b.ratio)}`).join("; ") || "none";
  return `[${m.bench}] ${m.label}: ${formatValue(m.figure, m.unit)} | baseline: ${bases} | target ${m.target} | ${m.pass ? "PASS" : "FAIL"}`;
}

export function formatTable(metrics: readonly Metric[]): string {
  const header = ["bench", "figure", "value", "baseline", "ratio", "target", "result"];
  const rows = metrics.map((m) => [
    m.bench,
    m.label,
    formatValue(m.figure, m.unit),
    m.baselines.map((b) => `${b.label} ${formatValue(b.value, b.unit)}`).join(", "),
    m.baselines.map((b) => formatRatio(b.ratio)).join(", "),
    m.target,
    m.pass ? "PASS" : "FAIL",
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join("  ").trimEnd();
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}
