// Reads orch.config.yaml and reports every bad value at once, each by its path in the file, its line, and what
// is allowed (the nearest known name for a typo), so that a typo never silently becomes a default.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { LineCounter, parseDocument } from "yaml";
import { z } from "zod";
import { didYouMean } from "../core/did-you-mean.js";
import { parseOnce } from "../core/cold-parse.js";
import { UsageError } from "../core/errors.js";
import { CONFIG_FILE, configSchema, type Config } from "./schema.js";
import { lineOf } from "../core/yaml-line.js";

export class ConfigError extends UsageError {
  override readonly name = "ConfigError";
}

/** The configuration of a repository: its file when there is one, else the defaults. */
export function loadConfig(repoRoot: string): { config: Config; path: string | undefined } {
  const path = join(repoRoot, CONFIG_FILE);
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    if (error instanceof Error && "code" in error && error.code === "ENOENT") return { config: parseOnce(configSchema(), {}), path: undefined };
    throw new ConfigError(`cannot read ${path}: ${error instanceof Error ? error.message : String(error)}`);
  }
  return { config: parseConfig(text, path), path };
}

export function parseConfig(text: string, source: string): Config {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  const syntax = doc.errors[0];
  if (syntax !== undefined) {
    // With prettyErrors off yaml leaves linePos unset; the offset is always there.
    const at = syntax.linePos?.[0] ?? lineCounter.linePos(syntax.pos[0]);
    throw new ConfigError(`${source}${at ? `:${at.line}:${at.col}` : ""} is not valid YAML: ${syntax.message.split("\n")[0] ?? ""}`, {
      hint: "fix the syntax, or run `orch init --force` to write a fresh file",
    });
  }
  const raw: unknown = withoutNulls(doc.toJS() ?? {});
  const parsed = configSchema().safeParse(raw, { reportInput: true, jitless: true });
  if (parsed.success) return parsed.data;
  // Every problem at once, each at its own line, in the order of the file.
  const problems = parsed.error.issues
    .flatMap((issue) => {
      const path = issue.path.filter((p): p is string | number => typeof p === "string" || typeof p === "number");
      const where = path.length === 0 ? "the top level" : path.join(".");
      // One line per unknown key, at the key itself.
      const keys = issue.code === "unrecognized_keys" ? issue.keys : [undefined];
      return keys.map((key) => ({ line: lineOf(doc, lineCounter, path, key), text: `${where}: ${key === undefined ? describeIssue(issue) : unknownKey(path, key)}` }));
    })
    .sort((a, b) => (a.line ?? 0) - (b.line ?? 0));
  const lines = problems.map((problem) => `${source}${problem.line !== undefined ? `:${problem.line}` : ""}: ${problem.text}`);
  const message = lines.length === 1 ? (lines[0] ?? "") : `${source} has ${lines.length} problems:\n  ${lines.join("\n  ")}`;
  throw new ConfigError(message, { hint: "see the commented defaults that `orch init` writes for every allowed setting" });
}

/**
 * A key with nothing after it means "not set": `command:` whose settings are all commented out (as in the
 * file `orch init` writes) parses as null, and must read as the defaults rather than fail as "expected object".
 */
function withoutNulls(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutNulls);
  if (value === null || typeof value !== "object") return value;
  return Object.fromEntries(Object.entries(value).flatMap(([key, v]) => (v === null ? [] : [[key, withoutNulls(v)]])));
}

function describeIssue(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case "unrecognized_keys":
      return `unknown setting${issue.keys.length > 1 ? "s" : ""} ${issue.keys.map((k) => `"${k}"`).join(", ")}`;
    case "invalid_value": {
      const near = typeof issue.input === "string" ? didYouMean(issue.input, issue.values.filter((v) => typeof v === "string")) : "";
      return `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")}${near}`;
    }
    case "invalid_type":
      return `expected ${issue.expected}${issue.input === undefined ? "" : `, not ${JSON.stringify(issue.input)}`}`;
    case "too_small":
      return issue.message.replace(/^Too small: /, "");
    default:
      return issue.message;
  }
}

/** An unknown setting, with the nearest known one when it looks like a typo. */
function unknownKey(path: readonly (string | number)[], key: string): string {
  const known = keysAt(path);
  const near = didYouMean(key, known);
  if (path.length === 1 && path[0] === "agents") return `unknown agent "${key}"${near || `; the agents are ${known.join(", ")}`}`;
  return `unknown setting "${key}"${near}`;
}

/** The settings the schema allows in the map at `path`. */
function keysAt(path: readonly (string | number)[]): string[] {
  let schema: z.core.$ZodType | undefined = configSchema();
  for (const part of path) {
    const record = unwrapped(schema);
    // A map of named entries (risk.rules): every name has the same settings.
    schema = typeof part !== "string" ? undefined : record instanceof z.ZodRecord ? record.valueType : objectOf(schema)?.shape[part];
  }
  return Object.keys(objectOf(schema)?.shape ?? {});
}

function objectOf(schema: z.core.$ZodType | undefined): z.ZodObject | undefined {
  const at = unwrapped(schema);
  return at instanceof z.ZodObject ? at : undefined;
}

/** The schema under its defaults, optionality and preprocessing. */
function unwrapped(schema: z.core.$ZodType | undefined): z.core.$ZodType | undefined {
  let at = schema;
  for (;;) {
    if (at instanceof z.ZodPrefault || at instanceof z.ZodDefault || at instanceof z.ZodOptional) at = at.unwrap();
    else if (at instanceof z.ZodPipe) at = at.out;
    else return at;
  }
}
