// Loads the CLI's own CommonJS chunks (dist/cjs/, built by rolldown) with V8's code cache, which Node 20 does not
// keep by itself (it has no `module.enableCompileCache`): compiling the bundled code is most of what a short
// command costs. Each chunk is compiled with `vm.Script` from its cache when one fits; a chunk that had none (or a
// rejected one) gets one written when `saveCache` is called at exit, after the command ran, so that the functions
// it compiled lazily are in it too. The cache is only ever a speed-up: a cache that cannot be read or written
// costs nothing but time, and a chunk is evaluated the same either way.
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createRequire, SourceMap, type SourceMapPayload } from "node:module";
import { basename, dirname, join, resolve } from "node:path";
import { Script } from "node:vm";
import { userCacheDir } from "../engine/user-cache.js";

/** How a chunk was compiled: from its cache, anew without one, or anew because V8 refused the one it had. */
export type ChunkCompile = "cached" | "compiled" | "rejected";

export interface ChunkLoader {
  /** The exports of the chunk at `file` (an absolute path), evaluated once per loader. */
  load(file: string): unknown;
  /** Writes the code cache of every chunk loaded without a usable one. Never throws. */
  saveCache(): void;
  /** Each chunk loaded so far, by path, and how it was compiled. */
  readonly compiled: ReadonlyMap<string, ChunkCompile>;
  /**
   * From now on, a stack trace's frame in a chunk names its place in the source (`src/cli/program.ts:42:7`) through
   * the source map beside the chunk, instead of a column of the chunk's one long line. Other frames stay as V8
   * tells them; a frame whose map is missing or unreadable too.
   */
  tellStacksInSource(): void;
}

/**
 * Where the code cache lives: `compile-cache/` in orch's user cache folder; undefined when it is turned off, by
 * ORCH_NO_COMPILE_CACHE or by Node's own NODE_DISABLE_COMPILE_CACHE.
 */
export function compileCacheDir(env: Readonly<Record<string, string | undefined>>): string | undefined {
  const off = (name: string) => (env[name] ?? "") !== "" && env[name] !== "0";
  if (off("ORCH_NO_COMPILE_CACHE") || off("NODE_DISABLE_COMPILE_CACHE")) return undefined;
  return join(userCacheDir(env), "compile-cache");
}

interface Chunk {
  module: { exports: unknown; id: string; filename: string; loaded: boolean };
  script: Script;
  compile: ChunkCompile;
  /** The cache file for this very build of the chunk on this Node (`cacheName` and the build's key). */
  cacheFile: string;
}

// Node's own CommonJS wrapper, kept on the chunk's first line so that line numbers in stack traces stay true.
const WRAPPER_HEAD = "(function (exports, require, module, __filename, __dirname) { ";
const WRAPPER_TAIL = "\n})";

type ChunkFunction = (exports: unknown, require: (id: string) => unknown, module: Chunk["module"], filename: string, dirname: string) => void;

/**
 * A loader whose chunks' relative `require`s of `.cjs` files load those chunks through it too; everything else
 * they require (Node's builtins, better-sqlite3) comes from Node's own `require`, resolved from the chunk's folder.
 * Without `cacheDir` it compiles every chunk anew and writes nothing.
 */
export function createChunkLoader(cacheDir: string | undefined): ChunkLoader {
  const chunks = new Map<string, Chunk>();
  const compiled = new Map<string, ChunkCompile>();
  const nodeRequires = new Map<string, NodeJS.Require>();

  function requireFrom(dir: string): (id: string) => unknown {
    return (id) => {
      if ((id.startsWith("./") || id.startsWith("../")) && id.endsWith(".cjs")) return load(resolve(dir, id));
      let nodeRequire = nodeRequires.get(dir);
      if (nodeRequire === undefined) {
        nodeRequire = createRequire(join(dir, "noop.cjs"));
        nodeRequires.set(dir, nodeRequire);
      }
      return nodeRequire(id);
    };
  }

  function load(file: string): unknown {
    const known = chunks.get(file);
    if (known !== undefined) return known.module.exports;
    const source = readFileSync(file, "utf8");
    // The name, size and time of this build of the chunk and the Node that compiled it: V8 itself checks only the
    // source's length and its own flags, so a rebuilt chunk of the same length needs a name of its own.
    const { size, mtimeMs } = statSync(file);
    const cacheFile = join(cacheDir ?? "", `${cacheName(file)}${size}-${Math.trunc(mtimeMs)}-${process.version}-${process.arch}.v8`);
    const cachedData = cacheDir === undefined ? undefined : readCache(cacheFile);
    const script = new Script(WRAPPER_HEAD + source + WRAPPER_TAIL, { filename: file, ...(cachedData === undefined ? {} : { cachedData }) });
    const compile: ChunkCompile = cachedData === undefined ? "compiled" : script.cachedDataRejected === true ? "rejected" : "cached";
    const module = { exports: {}, id: file, filename: file, loaded: false };
    // Registered before it runs, as Node does, so that a cycle of chunks gets the exports made so far.
    chunks.set(file, { module, script, compile, cacheFile });
    compiled.set(file, compile);
    const run: ChunkFunction = script.runInThisContext();
    run.call(module.exports, module.exports, requireFrom(dirname(file)), module, file, dirname(file));
    module.loaded = true;
    return module.exports;
  }

  function saveCache(): void {
    if (cacheDir === undefined) return;
    const stale = [...chunks.values()].filter((chunk) => chunk.compile !== "cached");
    if (stale.length === 0) return;
    let present: string[];
    try {
      mkdirSync(cacheDir, { recursive: true, mode: 0o700 });
      present = readdirSync(cacheDir);
      removeAged(cacheDir, present);
    } catch {
      return;
    }
    for (const chunk of stale) {
      const name = basename(chunk.cacheFile);
      const temporary = `${chunk.cacheFile}.${process.pid}.tmp`;
      try {
        writeFileSync(temporary, chunk.script.createCachedData());
        // Whole or not at all: another orch starting now reads the old file or the new one, never half of one.
        renameSync(temporary, chunk.cacheFile);
        // The same chunk's caches of earlier builds in the same folder, or of other Node versions: this one
        // replaces them.
        const chunkName = cacheName(chunk.module.filename);
        for (const other of present) {
          if (other !== name && other.startsWith(chunkName) && other.endsWith(".v8")) rmSync(join(cacheDir, other), { force: true });
        }
      } catch {
        // A full disk or a folder that is not ours: the next start compiles anew, as this one did.
        removeQuietly(temporary);
        return;
      }
    }
  }

  const maps = new Map<string, SourceMap | undefined>();

  /** `file:line:column` of a chunk's frame in its source, or undefined when its map does not say. */
  function sourcePlace(file: string, line: number, column: number): string | undefined {
    if (!maps.has(file)) maps.set(file, readSourceMap(file));
    const map = maps.get(file);
    // The wrapper stands before the chunk's own first line.
    const entry = map?.findEntry(line - 1, column - 1 - (line === 1 ? WRAPPER_HEAD.length : 0));
    if (entry === undefined || !("originalSource" in entry)) return undefined;
    return `${resolve(dirname(file), entry.originalSource)}:${entry.originalLine + 1}:${entry.originalColumn + 1}`;
  }

  function frame(site: NodeJS.CallSite): string {
    const text = site.toString();
    const file = site.getFileName();
    const line = site.getLineNumber();
    const column = site.getColumnNumber();
    if (file === undefined || file === null || line === null || column === null || !chunks.has(file)) return text;
    const place = sourcePlace(file, line, column);
    return place === undefined ? text : text.replace(`${file}:${line}:${column}`, place);
  }

  function tellStacksInSource(): void {
    Error.prepareStackTrace = (error: unknown, sites: NodeJS.CallSite[]) => {
      const frames = sites.map((site) => {
        try {
          return frame(site);
        } catch {
          return String(site); // a stack is never lost to its telling
        }
      });
      return [headOf(error), ...frames.map((f) => `    at ${f}`)].join("\n");
    };
  }

  return { load, saveCache, compiled, tellStacksInSource };
}

/** The source map rolldown wrote beside a chunk (`chunk.cjs.map`); undefined when it is missing or not one. */
function readSourceMap(file: string): SourceMap | undefined {
  try {
    return new SourceMap(JSON.parse(readFileSync(`${file}.map`, "utf8")) as SourceMapPayload);
  } catch {
    return undefined;
  }
}

/** An error's first line as V8 writes it: `TypeError: message`. */
function headOf(error: unknown): string {
  try {
    return Error.prototype.toString.call(error);
  } catch {
    return "Error";
  }
}

/**
 * The start of a chunk's cache file names: its name and a hash of its folder, so that two installs of orch (or two
 * checkouts, or main's build beside another in a benchmark) keep caches of their own instead of replacing each
 * other's at every start.
 */
function cacheName(file: string): string {
  const dir = dirname(file);
  // FNV-1a: stable and short, and no node:crypto to load.
  let hash = 0x811c9dc5;
  for (let i = 0; i < dir.length; i++) hash = Math.imul(hash ^ dir.charCodeAt(i), 0x01000193) >>> 0;
  return `${basename(file)}.${hash.toString(36)}.`;
}

/** Caches are written once per build and never touched after; one not written for this long is of a build gone. */
const CACHE_DAYS = 30;

/** Removes the cache files (and stray temporary files) older than CACHE_DAYS, which nothing else would remove. */
function removeAged(cacheDir: string, names: readonly string[]): void {
  const before = Date.now() - CACHE_DAYS * 24 * 60 * 60 * 1000;
  for (const name of names) {
    if (!name.endsWith(".v8") && !name.endsWith(".tmp")) continue;
    const file = join(cacheDir, name);
    if ((statSync(file, { throwIfNoEntry: false })?.mtimeMs ?? Infinity) < before) rmSync(file, { force: true });
  }
}

function readCache(file: string): Buffer | undefined {
  try {
    return readFileSync(file);
  } catch {
    return undefined;
  }
}

function removeQuietly(file: string): void {
  try {
    rmSync(file, { force: true });
  } catch {
    // Left behind: a stray temporary file costs nothing but its room.
  }
}
