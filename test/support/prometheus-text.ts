// A strict parser of the Prometheus text exposition format 0.0.4, for tests of `/metrics`: it throws on anything
// the format does not allow (a bad name, an unescaped label value, a TYPE after its samples, a family split in
// two, a series given twice, a value that is no number) rather than guessing. No well-kept npm package parses
// the format strictly on Node 20 without pulling a client library in, so this one is ours.
export interface ParsedSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface ParsedFamily {
  name: string;
  help: string | undefined;
  type: "counter" | "gauge" | "histogram" | "summary" | "untyped";
  samples: ParsedSample[];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPE_OF: Record<string, ParsedFamily["type"]> = { counter: "counter", gauge: "gauge", histogram: "histogram", summary: "summary", untyped: "untyped" };
const TYPES = new Set(Object.keys(TYPE_OF));
const FLOAT = /^[+-]?(?:\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)$/;

function parseValue(text: string, where: string): number {
  if (text === "NaN") return NaN;
  if (text === "+Inf" || text === "Inf") return Infinity;
  if (text === "-Inf") return -Infinity;
  if (!FLOAT.test(text)) throw new Error(`${where}: "${text}" is not a number`);
  return Number(text);
}

/** The family a sample name belongs to (histogram and summary samples carry suffixes). */
function familyOf(name: string, families: Map<string, ParsedFamily>): string {
  for (const suffix of ["_bucket", "_sum", "_count"]) {
    const base = name.endsWith(suffix) ? name.slice(0, -suffix.length) : undefined;
    const type = base === undefined ? undefined : families.get(base)?.type;
    if (base !== undefined && (type === "histogram" || type === "summary")) return base;
  }
  return name;
}

function parseLabels(text: string, where: string): { labels: Record<string, string>; end: number } {
  // text starts just after "{"
  const labels: Record<string, string> = {};
  let i = 0;
  for (;;) {
    if (text[i] === "}") return { labels, end: i + 1 };
    const nameMatch = /^[a-zA-Z_][a-zA-Z0-9_]*/.exec(text.slice(i));
    if (nameMatch === null) throw new Error(`${where}: bad label name at "${text.slice(i, i + 20)}"`);
    const name = nameMatch[0];
    if (!LABEL_NAME.test(name)) throw new Error(`${where}: bad label name ${name}`);
    if (name in labels) throw new Error(`${where}: label ${name} given twice`);
    i += name.length;
    if (text[i] !== "=" || text[i + 1] !== '"') throw new Error(`${where}: label ${name} needs ="value"`);
    i += 2;
    let value = "";
    for (;;) {
      const ch = text[i];
      if (ch === undefined) throw new Error(`${where}: label ${name}'s value never ends`);
      if (ch === "\n") throw new Error(`${where}: raw newline in a label value`);
      if (ch === '"') break;
      if (ch === "\\") {
        const next = text[i + 1];
        if (next === "\\") value += "\\";
        else if (next === '"') value += '"';
        else if (next === "n") value += "\n";
        else throw new Error(`${where}: bad escape \\${next ?? ""} in label ${name}`);
        i += 2;
        continue;
      }
      value += ch;
      i++;
    }
    i++;
    labels[name] = value;
    if (text[i] === ",") {
      i++;
      continue;
    }
    if (text[i] !== "}") throw new Error(`${where}: expected , or } after label ${name}`);
  }
}

export function parsePrometheusText(text: string): Map<string, ParsedFamily> {
  if (!text.endsWith("\n")) throw new Error("the exposition must end with a newline");
  const families = new Map<string, ParsedFamily>();
  const closed = new Set<string>();
  const series = new Set<string>();
  const typed = new Set<string>();
  let current: string | undefined;
  const open = (name: string): ParsedFamily => {
    if (current !== undefined && current !== name) closed.add(current);
    if (closed.has(name)) throw new Error(`family ${name} appears in two places`);
    current = name;
    let family = families.get(name);
    if (family === undefined) {
      family = { name, help: undefined, type: "untyped", samples: [] };
      families.set(name, family);
    }
    return family;
  };
  text
    .slice(0, -1)
    .split("\n")
    .forEach((line, index) => {
      const where = `line ${index + 1}`;
      if (line.trim() === "") return;
      if (line.startsWith("#")) {
        const meta = /^# (HELP|TYPE) (\S+)(?: (.*))?$/.exec(line);
        if (meta === null) return; // a plain comment
        const [, kind, name = "", rest = ""] = meta;
        if (!NAME.test(name)) throw new Error(`${where}: bad metric name ${name}`);
        const family = open(name);
        if (kind === "HELP") {
          if (family.help !== undefined) throw new Error(`${where}: second HELP for ${name}`);
          if (/\\[^\\n]/.test(rest.replace(/\\\\/g, ""))) throw new Error(`${where}: bad escape in HELP of ${name}`);
          family.help = rest.replace(/\\n/g, "\n").replace(/\\\\/g, "\\");
        } else {
          if (!TYPES.has(rest)) throw new Error(`${where}: unknown type "${rest}" for ${name}`);
          if (family.samples.length > 0) throw new Error(`${where}: TYPE of ${name} after its samples`);
          if (typed.has(name)) throw new Error(`${where}: second TYPE for ${name}`);
          typed.add(name);
          family.type = TYPE_OF[rest] ?? "untyped";
        }
        return;
      }
      const nameMatch = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line);
      if (nameMatch === null) throw new Error(`${where}: a sample must start with a metric name: ${line}`);
      const name = nameMatch[0];
      let rest = line.slice(name.length);
      let labels: Record<string, string> = {};
      if (rest.startsWith("{")) {
        const parsed = parseLabels(rest.slice(1), where);
        labels = parsed.labels;
        rest = rest.slice(1 + parsed.end);
      }
      const parts = rest.split(" ");
      if (parts[0] !== "" || parts.length < 2 || parts.length > 3) throw new Error(`${where}: expected " value [timestamp]" after the series: ${line}`);
      const value = parseValue(parts[1] ?? "", where);
      if (parts[2] !== undefined && !/^-?\d+$/.test(parts[2])) throw new Error(`${where}: bad timestamp ${parts[2]}`);
      const family = open(familyOf(name, families));
      const key = `${name}${JSON.stringify(Object.entries(labels).sort())}`;
      if (series.has(key)) throw new Error(`${where}: series ${key} given twice`);
      series.add(key);
      if (family.type === "counter" && !(value >= 0)) throw new Error(`${where}: counter ${name} is ${value}`);
      family.samples.push({ name, labels, value });
    });
  return families;
}
