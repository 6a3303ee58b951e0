// How a tool call is shown in the journal: a one-line summary for the status line, and a copy of its input
// with long strings clipped. The raw transcript keeps everything; these only bound what a journal row holds.
import { clip } from "../core/agent-event.js";
import { isRecord } from "./parse-line.js";

const SUMMARY_LIMIT = 200;
/** Cap for each string inside a tool input (a written file's content). */
const INPUT_STRING_LIMIT = 1_000;
const INPUT_DEPTH_LIMIT = 8;

/** For each tool that has one, the input field that says what a call does (`command`, `file_path`…). */
export type SummaryFields = Partial<Record<string, string>>;

/** The tool's telling field when it has one and it is a string, else the whole input as JSON; one line. */
export function summarizeToolInput(fields: SummaryFields, name: string, input: unknown): string {
  const field = fields[name];
  if (field !== undefined && isRecord(input)) {
    const value = input[field];
    if (typeof value === "string") return shorten(value);
  }
  if (input === undefined) return "";
  return shorten(safeStringify(input));
}

/** One line, at most SUMMARY_LIMIT characters: the status line has room for nothing more. */
export function shorten(text: string): string {
  const oneLine = text.replace(/\s+/g, " ").trim();
  return oneLine.length <= SUMMARY_LIMIT ? oneLine : `${oneLine.slice(0, SUMMARY_LIMIT - 1)}…`;
}

/** Keeps the input's shape but clips long strings, so a large write does not land whole in a journal row. */
export function clipInput(value: unknown, depth = 0): unknown {
  if (typeof value === "string") return clip(value, INPUT_STRING_LIMIT);
  if (depth >= INPUT_DEPTH_LIMIT) return Array.isArray(value) || isRecord(value) ? "[…]" : value;
  if (Array.isArray(value)) return value.map((item) => clipInput(item, depth + 1));
  if (isRecord(value)) {
    // fromEntries defines own properties, so a `__proto__` key in the JSON stays a plain key.
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, clipInput(item, depth + 1)]));
  }
  return value;
}

/** JSON for any value, falling back to `String` where JSON has no answer (a cycle, a BigInt, `undefined`). */
export function safeStringify(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
