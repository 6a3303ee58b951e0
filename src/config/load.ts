// Reads orch.config.yaml and reports a bad value by its path in the file, its line, and what is allowed,
// so that a typo never silently becomes a default.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { LineCounter, isMap, isScalar, parseDocument } from "yaml";
import type { z } from "zod";
import { UsageError } from "../core/errors.js";
import { CONFIG_FILE, Config } from "./schema.js";

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
    if (error instanceof Error && "code" in error && error.code === "ENOENT") return { config: Config.parse({}), path: undefined };
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
  const parsed = Config.safeParse(raw);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  if (issue === undefined) throw new ConfigError(`${source} is not a valid configuration`);
  const path = issue.path.filter((p): p is string | number => typeof p === "string" || typeof p === "number");
  const node = path.length === 0 ? doc.contents : doc.getIn(path, true);
  // An unknown key is shown at its own line, not at the first line of the map that holds it.
  const unknownKey = issue.code === "unrecognized_keys" ? issue.keys[0] : undefined;
  const keyNode = isMap(node) ? node.items.find((pair) => isScalar(pair.key) && pair.key.value === unknownKey)?.key : undefined;
  const at = keyNode ?? node;
  const range = at !== null && typeof at === "object" && "range" in at && Array.isArray(at.range) ? at.range : undefined;
  const offset = typeof range?.[0] === "number" ? range[0] : undefined;
  const line = offset === undefined ? undefined : lineCounter.linePos(offset).line;
  const where = path.length === 0 ? "the top level" : path.join(".");
  throw new ConfigError(`${source}${line !== undefined ? `:${line}` : ""}: ${where}: ${describeIssue(issue)}`, {
    hint: `see the commented defaults that \`orch init\` writes for every allowed setting`,
  });
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
    case "invalid_value":
      return `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")}`;
    case "invalid_type":
      return `expected ${issue.expected}`;
    case "too_small":
      return issue.message.replace(/^Too small: /, "");
    default:
      return issue.message;
  }
}
