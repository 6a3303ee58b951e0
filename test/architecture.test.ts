// The rooms of src/ and what each may import, checked on every file: core is pure and imports no other room;
// adapters depend on ports, never the other way round; the raw git runner stays inside git/; only the
// composition (app/) and the CLI open a concrete journal; nothing imports the CLI; the server is started by the CLI.
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";

const SRC = resolve(import.meta.dirname, "../src");

const ALLOWED: Record<string, readonly string[]> = {
  core: [],
  process: ["core"],
  git: ["core", "process"],
  store: ["core"],
  agents: ["core", "process"],
  plan: ["core"],
  config: ["core", "agents", "process"],
  engine: ["core", "agents", "process", "git", "store", "plan"],
  read: ["core", "store", "engine"],
  app: ["core", "agents", "process", "git", "store", "plan", "config", "engine", "read"],
  // The HTTP server: reads through read/, steers through app/, like the CLI, which starts it.
  server: ["core", "store", "engine", "read", "app"],
  cli: ["core", "agents", "process", "git", "store", "plan", "config", "engine", "read", "app", "server"],
};

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(path);
    return entry.name.endsWith(".ts") && !entry.name.endsWith(".test.ts") ? [path] : [];
  });
}

/** Each relative import of `file`, as a path under src/ (`git/exec.ts`). */
function importsOf(file: string): string[] {
  const text = readFileSync(file, "utf8");
  return [...text.matchAll(/(?:^|\n)\s*(?:import|export)[^;]*?from\s+"(\.{1,2}\/[^"]+)"/g)].map((m) =>
    relative(SRC, resolve(dirname(file), m[1] ?? "")).replace(/\.js$/, ".ts"),
  );
}

const roomOf = (path: string): string => path.split("/")[0] ?? "";

/**
 * What loading `file` loads: its imports that bring code (not `import type`, not one whose names are all types,
 * not a dynamic `import()`), relative ones as paths under src/, packages by name.
 */
function valueImportsOf(file: string): string[] {
  const text = readFileSync(file, "utf8");
  return [...text.matchAll(/(?:^|\n)\s*(import|export)(\s+type\b)?([^;]*?)from\s+"([^"]+)"/g)].flatMap((m) => {
    const [, , typeOnly, names = "", spec = ""] = m;
    if (typeOnly !== undefined) return [];
    const braces = /\{([^}]*)\}/.exec(names);
    const outside = names.replace(/\{[^}]*\}/, "").replace(/[\s,]/g, "");
    if (braces !== null && outside === "" && (braces[1] ?? "").split(",").every((name) => name.trim() === "" || name.trim().startsWith("type "))) return [];
    return [spec.startsWith(".") ? relative(SRC, resolve(dirname(file), spec)).replace(/\.js$/, ".ts") : spec];
  });
}

describe("the rooms of src/", () => {
  const files = sources(SRC).map((file) => ({ path: relative(SRC, file), imports: importsOf(file) }));

  it("knows every room, and reads imports (a multi-line one too)", () => {
    expect(files.find((f) => f.path === "engine/scheduler.ts")?.imports).toContain("git/merge.ts");
    expect(files.find((f) => f.path === "git/merge.ts")?.imports).toContain("git/exec.ts");
    expect([...new Set(files.map((f) => roomOf(f.path)))].filter((room) => !(room in ALLOWED))).toEqual([]);
  });

  it("imports only from the rooms each may import", () => {
    const breaches = files.flatMap((f) => {
      const room = roomOf(f.path);
      return f.imports.filter((to) => roomOf(to) !== room && !(ALLOWED[room] ?? []).includes(roomOf(to))).map((to) => `${f.path} → ${to}`);
    });
    expect(breaches).toEqual([]);
  });

  it("keeps the raw git runner private to git/", () => {
    const breaches = files.filter((f) => roomOf(f.path) !== "git" && f.imports.includes("git/exec.ts")).map((f) => f.path);
    expect(breaches).toEqual([]);
  });

  it("loads no query layer for the commands that only read the journal", () => {
    // status, list, logs, report and diff read through store/sqlite/reader.ts: Kysely (and the migrations written in
    // it) was the largest part of what they loaded. A journal an older orch left is migrated through a dynamic import.
    const loaded = new Set<string>();
    const walk = (path: string, via: string[]): string[] => {
      if (loaded.has(path)) return [];
      loaded.add(path);
      if (!path.endsWith(".ts")) return path === "kysely" ? [[...via, path].join(" → ")] : [];
      return valueImportsOf(join(SRC, path)).flatMap((next) => walk(next, [...via, path]));
    };
    const found = ["cli/commands/status.ts", "cli/commands/logs.ts", "cli/commands/report.ts", "cli/commands/diff.ts"].flatMap((command) => walk(command, []));
    expect(loaded.has("store/sqlite/reader.ts")).toBe(true);
    expect(found).toEqual([]);
  });

  it("opens a concrete journal only in the composition and the CLI", () => {
    const breaches = files
      .filter((f) => !["app", "cli", "store"].includes(roomOf(f.path)) && f.imports.some((to) => to.startsWith("store/sqlite/")))
      .map((f) => f.path);
    expect(breaches).toEqual([]);
  });
});
