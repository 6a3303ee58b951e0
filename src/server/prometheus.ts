// The Prometheus text exposition format, version 0.0.4: metric families with their `# HELP` and `# TYPE`, samples
// with escaped label values. Pure. Invariant: each family is written once, its samples together, and a name,
// label name or value that the format cannot carry is never written as is.
export type MetricType = "counter" | "gauge";

export interface Sample {
  labels?: Readonly<Record<string, string>>;
  value: number;
}

export interface Family {
  name: string;
  help: string;
  type: MetricType;
  samples: readonly Sample[];
}

export const CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** A label value with backslash, double quote and newline escaped. */
export const escapeLabel = (value: string): string => value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
/** HELP text with backslash and newline escaped. */
const escapeHelp = (text: string): string => text.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");

function formatValue(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Infinity) return "+Inf";
  if (value === -Infinity) return "-Inf";
  return String(value);
}

export function renderFamilies(families: readonly Family[]): string {
  const lines: string[] = [];
  const seen = new Set<string>();
  for (const family of families) {
    if (!NAME.test(family.name)) throw new Error(`not a metric name: ${family.name}`);
    if (seen.has(family.name)) throw new Error(`metric ${family.name} written twice`);
    seen.add(family.name);
    lines.push(`# HELP ${family.name} ${escapeHelp(family.help)}`, `# TYPE ${family.name} ${family.type}`);
    for (const sample of family.samples) {
      const labels = Object.entries(sample.labels ?? {});
      for (const [name] of labels) if (!LABEL.test(name) || name.startsWith("__")) throw new Error(`not a label name: ${name}`);
      const text = labels.length === 0 ? "" : `{${labels.map(([name, value]) => `${name}="${escapeLabel(value)}"`).join(",")}}`;
      lines.push(`${family.name}${text} ${formatValue(sample.value)}`);
    }
  }
  return `${lines.join("\n")}\n`;
}

/** Samples counted by a key of labels: `add({ kind: "hung" }, 1)` … then `samples()`. */
export class Tally {
  readonly #values = new Map<string, { labels: Record<string, string>; value: number }>();
  add(labels: Record<string, string>, value: number): void {
    const key = JSON.stringify(Object.entries(labels));
    const found = this.#values.get(key);
    if (found !== undefined) found.value += value;
    else this.#values.set(key, { labels, value });
  }
  /** Adds every sample of `other`. */
  addAll(other: Tally): void {
    for (const { labels, value } of other.#values.values()) this.add(labels, value);
  }
  samples(): Sample[] {
    return [...this.#values.values()];
  }
}
