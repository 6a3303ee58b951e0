import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { readWhole, readWholeText } from "./proc-file.js";

describe("readWhole", () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });
  const file = (text: string) => {
    const dir = mkdtempSync(join(tmpdir(), "orch-proc-file-"));
    dirs.push(dir);
    const path = join(dir, "f");
    writeFileSync(path, text);
    return path;
  };

  it("reads a file bigger than its buffer whole, and a small one after it", () => {
    const big = Array.from({ length: 30_000 }, (_, i) => `VAR${i}=${i}`).join("\0");
    expect(big.length).toBeGreaterThan(256 * 1024);
    expect(readWholeText(file(big), "latin1")).toBe(big);
    expect(readWholeText(file("1 (sh) S 0 1 1"))).toBe("1 (sh) S 0 1 1");
    expect(readWhole(file(""))?.length).toBe(0);
  });

  it("says undefined for a file that cannot be read", () => {
    expect(readWhole(join(tmpdir(), "orch-proc-file-missing", "f"))).toBeUndefined();
    expect(readWholeText(tmpdir())).toBeUndefined();
  });

  it.runIf(process.platform === "linux")("reads /proc files, which report a size of 0", () => {
    expect(readWholeText(`/proc/${process.pid}/stat`)).toMatch(new RegExp(`^${process.pid} \\(`));
    expect(readWholeText(`/proc/${process.pid}/status`)).toMatch(/^VmRSS:\s+\d+ kB$/m);
  });
});
