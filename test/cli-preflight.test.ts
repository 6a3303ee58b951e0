// What cannot work fails at once, through the built CLI. Before anything is written, `orch run` checks that its
// agent and each verify command's executable can start and refuses with exit 2, every problem listed with its
// fix; `orch doctor` judges an agent CLI the same way. With `--no-preflight`, an attempt that cannot start ends
// its task at once (cannot_start, blocked) instead of ten attempts with growing waits.
import { chmodSync, existsSync, mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { delimiter, join } from "node:path";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { parseEventLines, parseJsonOutput, parseRunResult, type CliResult, type EventJson } from "./support/cli.js";
import { useSandboxes, type OrchSandbox } from "./support/e2e.js";

const GOAL = "make the failing test pass";
const FILES = {
  "sum.mjs": "export function sum(a, b) {\n  return a - b;\n}\n",
  "test.mjs": 'import { sum } from "./sum.mjs";\nprocess.exit(sum(2, 3) === 5 ? 0 : 1);\n',
};
const FIX = "#!/bin/sh\nprintf 'export function sum(a, b) {\\n  return a + b;\\n}\\n' > sum.mjs\n";

const sandboxes = useSandboxes({ prefix: "orch-cli-preflight-", graceMs: 3_000 });

/** The refusal: exit 2, each pattern on stderr, nothing on stdout, no `.orch/` and no orch branch. */
function expectRefused(box: OrchSandbox, result: CliResult, patterns: readonly RegExp[]): void {
  expect(result.code, `exit code; stderr:\n${result.stderr}`).toBe(2);
  for (const pattern of patterns) expect(result.stderr).toMatch(pattern);
  expect(result.stderr).toMatch(/nothing was started or written; `orch run --no-preflight` skips these checks/);
  expect(result.stderr).not.toMatch(/internal error|^\s+at /m);
  expect(result.stdout).toBe("");
  expect(existsSync(join(box.repo.dir, ".orch"))).toBe(false);
  expect(box.repo.git(["branch", "--list", "orch/*"])).toBe("");
}

/** A PATH holding only git and node (and `more`): no agent CLI, no test runner. */
function barePath(box: OrchSandbox, more: Record<string, string> = {}): string {
  const bin = join(box.repo.root, "bin");
  mkdirSync(bin, { recursive: true });
  for (const [name, target] of Object.entries({ git: onPath("git"), node: process.execPath, ...more })) {
    if (!existsSync(join(bin, name))) symlinkSync(target, join(bin, name));
  }
  return bin;
}

function onPath(name: string): string {
  for (const dir of (process.env["PATH"] ?? "").split(delimiter)) {
    if (dir !== "" && existsSync(join(dir, name))) return join(dir, name);
  }
  throw new Error(`${name} is not on PATH`);
}

async function journal(box: OrchSandbox, runId: string): Promise<EventJson[]> {
  const result = await box.orch(["logs", runId, "--json"]);
  expect(result.code, result.stderr).toBe(0);
  return parseEventLines(result.stdout);
}

const Exited = z.object({ failure: z.object({ kind: z.string(), detail: z.string() }).optional() });

/** The run ended after one attempt, its task blocked as cannot_start with `detail`, and no wait in between. */
async function expectBlockedAtOnce(box: OrchSandbox, result: CliResult, detail: RegExp): Promise<void> {
  expect(result.code, result.stderr).toBe(1);
  const json = parseRunResult(result);
  expect(json).toMatchObject({ status: "failed", attempts: 1 });
  expect(json.reason).toMatch(/^cannot_start: /);
  expect(json.reason).toMatch(detail);
  const status = await box.status(json.runId);
  expect(status.tasks.map((t) => t.status)).toEqual(["blocked"]);
  const events = await journal(box, json.runId);
  expect(events.filter((e) => e.type === "task.waited")).toEqual([]);
  const exited = events.filter((e) => e.type === "attempt.exited").map((e) => Exited.parse(e.data).failure?.kind);
  expect(exited).toEqual(["cannot_start"]);
}

describe("orch run refuses what cannot start, before anything is written", () => {
  it("an agent command not committed and a verify command not on PATH: exit 2, both listed with their fixes", async () => {
    const box = sandboxes.orchRepo(FILES);
    // On disk, but not committed: the task's worktree will not have it.
    writeFileSync(join(box.repo.dir, "missing.sh"), FIX);
    chmodSync(join(box.repo.dir, "missing.sh"), 0o755);
    const result = await box.orch(["run", GOAL, "--verify", "node test.mjs", "--verify", "no-such-runner-xyz --all", "--agent-command", "./missing.sh"]);
    expectRefused(box, result, [
      /^orch: this run cannot work as asked; 2 problems found before its first attempt:$/m,
      /^ {2}- the agent command `\.\/missing\.sh`: `\.\/missing\.sh` is not in the task's worktree \(it is not committed on main\)$/m,
      /^ {4}fix: the agent command runs there, in a checkout of the base commit that holds only committed files; commit it, or give an absolute path$/m,
      /^ {2}- the verify command `no-such-runner-xyz --all`: `no-such-runner-xyz` is not on PATH$/m,
      /^ {4}fix: install it, or give its absolute path$/m,
    ]);
  });

  it("a command agent whose program is nowhere, a verify script the base lacks, one not executable", async () => {
    const box = sandboxes.orchRepo({ ...FILES, "plain.sh": "#!/bin/sh\nexit 0\n" });
    const result = await box.orch(["run", GOAL, "--verify", "./check.sh", "--verify", "./plain.sh", "--agent-command", "nonexistent-binary-xyz --go"]);
    expectRefused(box, result, [
      /3 problems/,
      /- the agent command `nonexistent-binary-xyz --go`: `nonexistent-binary-xyz` is not on PATH/,
      /- the verify command `\.\/check\.sh`: `\.\/check\.sh` is not in the task's worktree \(there is no check\.sh in main\)\n {4}fix: check the path, which is relative to the repository's root; .*; if the agent is to write it, pass --no-preflight$/m,
      /- the verify command `\.\/plain\.sh`: `\.\/plain\.sh` is not executable in main\n {4}fix: chmod \+x it, and commit that, or start it through its interpreter \(sh \.\/plain\.sh\)/,
    ]);
  });

  it("the default agent not installed: the same fix `orch doctor` gives; with the binary but no key, doctor's credentials fix", async () => {
    const box = sandboxes.orchRepo(FILES);
    const bin = barePath(box);
    const env = { HOME: box.repo.home, PATH: bin, GIT_CONFIG_NOSYSTEM: "1", LC_ALL: "C", TMPDIR: box.repo.tmp };
    const DoctorJson = z.object({ agents: z.array(z.object({ agent: z.string(), ready: z.boolean(), fix: z.string().optional() })) });
    const doctorFix = async (): Promise<string> => {
      const doctor = await box.orch(["doctor", "--json"], { env });
      const claude = parseJsonOutput(DoctorJson, doctor.stdout).agents.find((a) => a.agent === "claude-code");
      expect(claude?.ready).toBe(false);
      return claude?.fix ?? "";
    };
    const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

    const installFix = await doctorFix();
    expect(installFix).toBe("install it: npm install -g @anthropic-ai/claude-code");
    const missing = await box.orch(["run", GOAL, "--verify", "node test.mjs"], { env });
    expectRefused(box, missing, [
      /- the claude-code agent \(the run's agent\): its binary `claude` was not found on PATH/,
      new RegExp(`fix: ${escape(installFix)}; or set agents\\.claude-code\\.bin in orch\\.config\\.yaml, or choose another agent with --agent`),
    ]);

    writeFileSync(join(bin, "claude"), '#!/bin/sh\necho "2.1.197 (Claude Code)"\n');
    chmodSync(join(bin, "claude"), 0o755);
    const credentialsFix = await doctorFix();
    expect(credentialsFix).toBe("log in with `claude` once, or set ANTHROPIC_API_KEY");
    const keyless = await box.orch(["run", GOAL, "--verify", "node test.mjs"], { env });
    expectRefused(box, keyless, [/^orch: this run cannot work as asked; a problem found before its first attempt:$/m, /- the claude-code agent \(the run's agent\): no credentials found/, new RegExp(`fix: ${escape(credentialsFix)} \\(set up another way orch does not see\\? pass --no-preflight\\)$`, "m")]);
  });

  it("never refuses what would work: committed relative scripts, builtins, shell syntax, an ignored build output", async () => {
    const box = sandboxes.orchRepo({
      ...FILES,
      "fix.sh": FIX,
      "check.sh": "#!/bin/sh\nexec node test.mjs\n",
      ".gitignore": "build/\n",
    });
    chmodSync(join(box.repo.dir, "fix.sh"), 0o755);
    chmodSync(join(box.repo.dir, "check.sh"), 0o755);
    box.repo.git(["add", "--chmod=+x", "fix.sh", "check.sh"]);
    box.repo.git(["commit", "--quiet", "--no-verify", "--no-gpg-sign", "-m", "scripts"]);
    const verify = ["./check.sh", "test -f sum.mjs", "FOO=1 node test.mjs", "./build/tool --version || true", '"$SHELL" -c true || true'];
    const result = await box.orch(["run", GOAL, ...verify.flatMap((v) => ["--verify", v]), "--agent-command", "./fix.sh", "--json"]);
    expect(result.code, result.stderr).toBe(0);
    expect(parseRunResult(result)).toMatchObject({ status: "succeeded", attempts: 1 });
  });
});

describe("--no-preflight: what cannot start ends its task at once, blocked, the fix in the reason", () => {
  it("an agent command not in the worktree", async () => {
    const box = sandboxes.orchRepo(FILES);
    writeFileSync(join(box.repo.dir, "missing.sh"), FIX);
    chmodSync(join(box.repo.dir, "missing.sh"), 0o755);
    const result = await box.orch(["run", GOAL, "--verify", "node test.mjs", "--agent-command", "./missing.sh", "--no-preflight", "--max-attempts", "3", "--json"]);
    await expectBlockedAtOnce(box, result, /`\.\/missing\.sh` is not in the task's worktree: the agent command runs there, .*; commit it, or give an absolute path$/);
  });

  it("the agent CLI not installed (spawn ENOENT)", async () => {
    const box = sandboxes.orchRepo(FILES);
    const env = { ...box.env, PATH: barePath(box) };
    const result = await box.orch(["run", GOAL, "--verify", "node test.mjs", "--agent", "claude-code", "--no-preflight", "--max-attempts", "3", "--json"], { env });
    await expectBlockedAtOnce(box, result, /the claude-code agent cannot start: `claude` is not on PATH: install it \(`orch doctor` says how\), or set agents\.claude-code\.bin/);
  });

  it("a command agent script that exits 127 itself: a program it runs is missing", async () => {
    const box = sandboxes.orchRepo(FILES);
    const script = join(box.repo.root, "needs-a-tool.sh");
    writeFileSync(script, "#!/bin/sh\necho 'fixing'\nno-such-tool-xyz --fix\n");
    const result = await box.orch(["run", GOAL, "--verify", "node test.mjs", "--agent-command", `sh '${script}'`, "--max-attempts", "3", "--json"]);
    await expectBlockedAtOnce(box, result, /the agent command exited with code 127 \(command not found\): .*no-such-tool-xyz: not found; install what it needs, or fix the command$/);
  });
});
