// An error nothing in orch caught, as a user meets it from the built CLI: one paragraph, `orch: internal error: …`
// with its stack, exit 1, and never the chunk's code (a chunk is built as one long line) printed above it. The CLI's
// build is copied and one command's chunk replaced by one that fails outside any await.
import { cpSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runProcess } from "./support/cli.js";

const ROOT = resolve(import.meta.dirname, "..");
let tmp: string;

/** A line of the failing chunk's code that a report of its error must not print. */
const CODE_MARK = "const NEVER_PRINTED_CODE = 42;";

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), "orch-internal-error-"));
  cpSync(join(ROOT, "dist"), join(tmp, "dist"), { recursive: true });
  symlinkSync(join(ROOT, "node_modules"), join(tmp, "node_modules"));
  symlinkSync(join(ROOT, "package.json"), join(tmp, "package.json"));
  writeFileSync(
    join(tmp, "dist", "cjs", "status.cjs"),
    [
      `${CODE_MARK} exports.statusCommand = async () => { setTimeout(() => { throw new TypeError("thrown in a timer"); }, 1); return new Promise(() => {}); };`,
      `exports.listCommand = async () => { Promise.reject(new RangeError("rejected, never awaited")); return 0; };`,
    ].join("\n"),
  );
});

afterAll(() => {
  rmSync(tmp, { recursive: true, force: true });
});

const orch = (args: string[]) =>
  runProcess(process.execPath, [join(tmp, "dist", "cli", "main.js"), ...args], { cwd: tmp, env: { PATH: process.env["PATH"] ?? "", HOME: tmp }, timeoutMs: 20_000 });

describe("an error nothing caught", () => {
  it("thrown in a callback: exit 1, said as an internal error with its stack, no code printed", async () => {
    const result = await orch(["status"]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^orch: internal error: TypeError: thrown in a timer\n {4}at /);
    expect(result.stderr).toContain("status.cjs:1:");
    expect(result.stderr).not.toContain(CODE_MARK);
    expect(result.stdout).toBe("");
  });

  it("a rejection nobody awaited: the same", async () => {
    const result = await orch(["list"]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^orch: internal error: RangeError: rejected, never awaited\n {4}at /);
    expect(result.stderr).not.toContain(CODE_MARK);
  });
});
