import { mkdirSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setFlagsFromString } from "node:v8";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { compileCacheDir, createChunkLoader } from "./chunk-loader.js";

let tmp: string;
let chunks: string;
let cache: string;

/** Two chunks as rolldown writes them: the entry requires the other chunk and a builtin. */
function writeChunks(libValue: string): void {
  writeFileSync(
    join(chunks, "entry.cjs"),
    [
      'const lib = require("./lib.cjs");',
      'const { basename } = require("node:path");',
      "exports.answer = () => `${lib.value} from ${basename(__filename)}`;",
      "exports.throws = () => { throw new TypeError(\"a chunk's own error\"); };",
    ].join("\n"),
  );
  writeFileSync(join(chunks, "lib.cjs"), `exports.value = ${JSON.stringify(libValue)};\nexports.square = (n) => n * n;\n`);
}

const answerOf = (exports: unknown): string => {
  if (typeof exports === "object" && exports !== null && "answer" in exports && typeof exports.answer === "function") return String(exports.answer());
  throw new Error("the entry chunk has no answer()");
};

// Each loader here stands for one start of orch. V8 keeps what it compiled for the life of a process and would
// hand that back to the next loader without looking at the cache; off, each loader compiles as a new process does.
setFlagsFromString("--no-compilation-cache");

beforeEach(() => {
  tmp = mkdtempSync(join(tmpdir(), "orch-chunk-loader-"));
  chunks = join(tmp, "cjs");
  cache = join(tmp, "cache", "orch", "compile-cache");
  mkdirSync(chunks);
  writeChunks("lib");
});

afterEach(() => {
  rmSync(tmp, { recursive: true, force: true });
});

describe("the chunk loader", () => {
  it("loads a chunk, the chunks it requires and builtins; the first start writes a cache, the next reads it", () => {
    const first = createChunkLoader(cache);
    expect(answerOf(first.load(join(chunks, "entry.cjs")))).toBe("lib from entry.cjs");
    expect([...first.compiled.values()]).toEqual(["compiled", "compiled"]);
    first.saveCache();
    expect(readdirSync(cache).sort()).toEqual([expect.stringMatching(/^entry\.cjs\..*\.v8$/), expect.stringMatching(/^lib\.cjs\..*\.v8$/)]);

    const second = createChunkLoader(cache);
    expect(answerOf(second.load(join(chunks, "entry.cjs")))).toBe("lib from entry.cjs");
    expect(Object.fromEntries(second.compiled)).toEqual({ [join(chunks, "entry.cjs")]: "cached", [join(chunks, "lib.cjs")]: "cached" });
  });

  it("evaluates a chunk once however often it is required", () => {
    const loader = createChunkLoader(undefined);
    const entry = loader.load(join(chunks, "entry.cjs"));
    expect(loader.load(join(chunks, "entry.cjs"))).toBe(entry);
    expect(loader.compiled.size).toBe(2);
  });

  it("compiles a changed chunk anew and replaces its old cache", () => {
    const first = createChunkLoader(cache);
    first.load(join(chunks, "entry.cjs"));
    first.saveCache();
    const before = readdirSync(cache).filter((name) => name.startsWith("lib.cjs."));

    writeChunks("a changed lib");
    utimesSync(join(chunks, "lib.cjs"), new Date(), new Date(Date.now() + 5_000));
    const second = createChunkLoader(cache);
    expect(answerOf(second.load(join(chunks, "entry.cjs")))).toBe("a changed lib from entry.cjs");
    expect(second.compiled.get(join(chunks, "lib.cjs"))).toBe("compiled");
    second.saveCache();
    const after = readdirSync(cache).filter((name) => name.startsWith("lib.cjs."));
    expect(after).toHaveLength(1);
    expect(after).not.toEqual(before);
  });

  it("keeps the caches of the same chunks in another folder (another install), and drops those of builds long gone", () => {
    const first = createChunkLoader(cache);
    first.load(join(chunks, "entry.cjs"));
    first.saveCache();
    const old = join(cache, "gone.cjs.abc.1-2-v18.0.0-x64.v8");
    writeFileSync(old, "a cache of a build removed long ago");
    utimesSync(old, new Date(), new Date(Date.now() - 40 * 24 * 60 * 60 * 1000));

    const other = join(tmp, "other-install");
    mkdirSync(other);
    writeFileSync(join(other, "lib.cjs"), "exports.value = 'another install';\n");
    const second = createChunkLoader(cache);
    second.load(join(other, "lib.cjs"));
    second.saveCache();
    expect(readdirSync(cache).filter((name) => name.startsWith("lib.cjs."))).toHaveLength(2);
    expect(readdirSync(cache)).not.toContain("gone.cjs.abc.1-2-v18.0.0-x64.v8");

    const again = createChunkLoader(cache);
    again.load(join(chunks, "entry.cjs"));
    expect([...again.compiled.values()]).toEqual(["cached", "cached"]);
  });

  it("compiles anew over a cache V8 refuses, and writes a good one", () => {
    const loader = createChunkLoader(cache);
    loader.load(join(chunks, "entry.cjs"));
    loader.saveCache();
    for (const name of readdirSync(cache)) writeFileSync(join(cache, name), "not a code cache");

    const refused = createChunkLoader(cache);
    expect(answerOf(refused.load(join(chunks, "entry.cjs")))).toBe("lib from entry.cjs");
    expect([...refused.compiled.values()]).toEqual(["rejected", "rejected"]);
    refused.saveCache();
    const again = createChunkLoader(cache);
    again.load(join(chunks, "entry.cjs"));
    expect([...again.compiled.values()]).toEqual(["cached", "cached"]);
  });

  it("runs the chunks when the cache folder cannot be made, and says nothing", () => {
    writeFileSync(join(tmp, "a-file"), "");
    const loader = createChunkLoader(join(tmp, "a-file", "compile-cache"));
    expect(answerOf(loader.load(join(chunks, "entry.cjs")))).toBe("lib from entry.cjs");
    expect(() => loader.saveCache()).not.toThrow();
  });

  it("without a cache folder compiles every time and writes nothing", () => {
    const loader = createChunkLoader(undefined);
    loader.load(join(chunks, "entry.cjs"));
    loader.saveCache();
    expect(readdirSync(tmp)).toEqual(["cjs"]);
  });

  it("lets a chunk's error through as it was thrown", () => {
    const entry = createChunkLoader(undefined).load(join(chunks, "entry.cjs"));
    const throws = typeof entry === "object" && entry !== null && "throws" in entry ? entry.throws : undefined;
    if (typeof throws !== "function") throw new Error("the entry chunk has no throws()");
    expect(() => throws()).toThrow(new TypeError("a chunk's own error"));
  });
});

/** Base64 VLQ, as source maps write their numbers. */
function vlq(value: number): string {
  const digits = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  let rest = value < 0 ? (-value << 1) | 1 : value << 1;
  let out = "";
  do {
    let digit = rest & 31;
    rest >>>= 5;
    if (rest > 0) digit |= 32;
    out += digits[digit];
  } while (rest > 0);
  return out;
}

describe("stack traces of the chunks", () => {
  const previous = Error.prepareStackTrace;
  afterEach(() => {
    Error.prepareStackTrace = previous;
  });

  /** A one-line chunk whose map says: columns 0–29 come from line 10 of the source, 30–79 from line 20, 80 on from 30. */
  function mappedChunk(withMap = true): string {
    const file = join(chunks, "thrower.cjs");
    writeFileSync(file, 'exports.throws = () => { throw new Error("x"); };\n//# sourceMappingURL=thrower.cjs.map\n');
    const segments = [
      [0, 0, 9, 0],
      [30, 0, 10, 2],
      [50, 0, 10, 0],
    ].map((segment) => segment.map(vlq).join(""));
    if (withMap) writeFileSync(`${file}.map`, JSON.stringify({ version: 3, sources: ["../src/thrower.ts"], names: [], mappings: segments.join(",") }));
    return file;
  }

  function stackOf(loader: ReturnType<typeof createChunkLoader>, file: string): string {
    const exports = loader.load(file);
    const throws = typeof exports === "object" && exports !== null && "throws" in exports ? exports.throws : undefined;
    if (typeof throws !== "function") throw new Error("the chunk has no throws()");
    try {
      throws();
    } catch (error) {
      return error instanceof Error ? (error.stack ?? "") : "";
    }
    throw new Error("throws() did not throw");
  }

  it("name the place in the source, with the wrapper's columns taken off the first line", () => {
    const loader = createChunkLoader(undefined);
    loader.tellStacksInSource();
    const stack = stackOf(loader, mappedChunk());
    // `new Error` is at column 32 of the chunk's own line: the second segment, line 20 (0-based 19 + 1) of the source.
    expect(stack.split("\n")[0]).toBe("Error: x");
    expect(stack.split("\n")[1]).toMatch(new RegExp(`at .*${join(tmp, "src", "thrower.ts").replaceAll("/", "\\/")}:20:3\\)?$`));
    expect(stack).not.toContain("thrower.cjs:1:");
    // Frames outside the chunks stay as V8 tells them.
    expect(stack).toMatch(/chunk-loader\.test\.ts:\d+:\d+/);
  });

  it("leave a frame as V8 tells it when the chunk has no map", () => {
    const loader = createChunkLoader(undefined);
    loader.tellStacksInSource();
    const stack = stackOf(loader, mappedChunk(false));
    expect(stack).toMatch(/thrower\.cjs:1:\d+/);
  });
});

describe("the code cache's folder", () => {
  it("is compile-cache/ in orch's user cache folder", () => {
    expect(compileCacheDir({ XDG_CACHE_HOME: "/var/cache/u" })).toBe("/var/cache/u/orch/compile-cache");
    expect(compileCacheDir({ HOME: "/home/u" })).toBe("/home/u/.cache/orch/compile-cache");
  });

  it("is none when ORCH_NO_COMPILE_CACHE or NODE_DISABLE_COMPILE_CACHE is set", () => {
    expect(compileCacheDir({ HOME: "/home/u", ORCH_NO_COMPILE_CACHE: "1" })).toBeUndefined();
    expect(compileCacheDir({ HOME: "/home/u", NODE_DISABLE_COMPILE_CACHE: "1" })).toBeUndefined();
    expect(compileCacheDir({ HOME: "/home/u", ORCH_NO_COMPILE_CACHE: "0" })).toBe("/home/u/.cache/orch/compile-cache");
  });
});
