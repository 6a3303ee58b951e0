// The built CLI's code cache (src/cli/chunk-loader.ts) as a user meets it: the first start writes it, the next ones
// read it and write nothing, the switch turns it off, and a cache folder that cannot be made changes nothing but
// the speed.
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { runOrch, type CliResult } from "./support/cli.js";

let tmp: string;

beforeEach(() => {
  tmp = mkdtempSync(join(tmpdir(), "orch-compile-cache-"));
});

afterEach(() => {
  rmSync(tmp, { recursive: true, force: true });
});

async function orchHelp(env: Record<string, string>): Promise<CliResult> {
  const result = await runOrch(["--help"], { cwd: tmp, env: { PATH: process.env["PATH"] ?? "", HOME: tmp, ...env }, timeoutMs: 20_000 });
  expect(result.code, result.stderr).toBe(0);
  expect(result.stderr).toBe("");
  return result;
}

/** Each cache file and when it was written. */
function written(dir: string): Record<string, number> {
  return Object.fromEntries(readdirSync(dir).map((name) => [name, statSync(join(dir, name)).mtimeMs]));
}

describe("the CLI's code cache", () => {
  it("is written by the first start and read, not written, by the next", async () => {
    const cache = join(tmp, "cache");
    const first = await orchHelp({ XDG_CACHE_HOME: cache });
    const dir = join(cache, "orch", "compile-cache");
    const files = written(dir);
    expect(Object.keys(files)).toContainEqual(expect.stringMatching(/^program\.cjs\..*\.v8$/));

    const second = await orchHelp({ XDG_CACHE_HOME: cache });
    expect(second.stdout).toBe(first.stdout);
    expect(written(dir)).toEqual(files);
  });

  it("is neither read nor written with ORCH_NO_COMPILE_CACHE=1 or NODE_DISABLE_COMPILE_CACHE=1", async () => {
    await orchHelp({ XDG_CACHE_HOME: join(tmp, "a"), ORCH_NO_COMPILE_CACHE: "1" });
    await orchHelp({ XDG_CACHE_HOME: join(tmp, "b"), NODE_DISABLE_COMPILE_CACHE: "1" });
    expect(existsSync(join(tmp, "a"))).toBe(false);
    expect(existsSync(join(tmp, "b"))).toBe(false);
  });

  it("costs nothing but speed when its folder cannot be made", async () => {
    writeFileSync(join(tmp, "a-file"), "");
    const plain = await orchHelp({ XDG_CACHE_HOME: join(tmp, "fine") });
    const blocked = await orchHelp({ XDG_CACHE_HOME: join(tmp, "a-file") });
    expect(blocked.stdout).toBe(plain.stdout);
  });
});
