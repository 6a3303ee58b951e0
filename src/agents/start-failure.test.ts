import { spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { commandCannotStart, spawnFailure } from "./start-failure.js";

const dir = mkdtempSync(join(tmpdir(), "orch-start-failure-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The real shell's exit code and stderr for `command`, run in `dir` as the command agent runs it. */
function sh(command: string): { code: 126 | 127; stderr: string } {
  const result = spawnSync("/bin/sh", ["-c", command], { cwd: dir, encoding: "utf8", env: { PATH: "/usr/bin:/bin" } });
  if (result.status !== 126 && result.status !== 127) throw new Error(`expected 126 or 127 from ${command}, got ${result.status}`);
  return { code: result.status, stderr: result.stderr };
}

describe("commandCannotStart, from the real shell's words", () => {
  it("a relative path the worktree lacks: commit it, or give an absolute path", () => {
    const { code, stderr } = sh("./fixer.sh --fast");
    expect(code).toBe(127);
    expect(commandCannotStart("./fixer.sh --fast", code, stderr)).toEqual({
      kind: "cannot_start",
      detail:
        "`./fixer.sh` is not in the task's worktree: the agent command runs there, in a checkout of the base commit that holds only committed files; commit it, or give an absolute path",
    });
  });

  it("a bare name not on PATH, an absolute path to nothing", () => {
    const bare = sh("nonexistent-binary-xyz");
    expect(commandCannotStart("nonexistent-binary-xyz", bare.code, bare.stderr).detail).toBe("`nonexistent-binary-xyz` is not on PATH: install it, or give its absolute path");
    const absolute = join(dir, "nowhere", "agent");
    const abs = sh(absolute);
    expect(commandCannotStart(absolute, abs.code, abs.stderr).detail).toBe(`\`${absolute}\` does not exist: check the path`);
  });

  it("a file without its x bit (126)", () => {
    writeFileSync(join(dir, "plain.sh"), "#!/bin/sh\necho hi\n");
    chmodSync(join(dir, "plain.sh"), 0o644);
    const { code, stderr } = sh("./plain.sh");
    expect(code).toBe(126);
    expect(commandCannotStart("./plain.sh", code, stderr)).toEqual({
      kind: "cannot_start",
      detail: "`./plain.sh` is not executable: chmod +x it, and commit that, or start it through its interpreter (sh ./plain.sh)",
    });
  });

  it("a script that started and then exited 127 itself: still cannot_start, with its stderr", () => {
    writeFileSync(join(dir, "inner.sh"), "#!/bin/sh\necho working\nno-such-tool-xyz --go\n");
    chmodSync(join(dir, "inner.sh"), 0o755);
    const { code, stderr } = sh("./inner.sh");
    const failure = commandCannotStart("./inner.sh", code, stderr);
    expect(failure.kind).toBe("cannot_start");
    expect(failure.detail).toMatch(/^the agent command exited with code 127 \(command not found\): .*no-such-tool-xyz: not found; install what it needs, or fix the command$/);
  });
});

describe("spawnFailure", () => {
  it("a missing worktree first, then ENOENT and EACCES by how the file was named; other errors are not judged", () => {
    expect(spawnFailure("claude-code", "claude", false, "ENOENT")?.detail).toMatch(/^the task's worktree is gone/);
    expect(spawnFailure("claude-code", "claude", true, "ENOENT")).toEqual({
      kind: "cannot_start",
      detail:
        "the claude-code agent cannot start: `claude` is not on PATH: install it (`orch doctor` says how), or set agents.claude-code.bin in orch.config.yaml to where it is",
    });
    expect(spawnFailure("codex", "./bin/codex", true, "ENOENT")?.detail).toMatch(/`\.\/bin\/codex` is not in the task's worktree: the agent runs there/);
    expect(spawnFailure("codex", "/opt/codex", true, "EACCES")?.detail).toBe(
      "the codex agent cannot start: `/opt/codex` is not executable: chmod +x it, or start it through its interpreter (sh /opt/codex)",
    );
    expect(spawnFailure("codex", "/opt/codex", true, "EMFILE")).toBeUndefined();
  });
});
