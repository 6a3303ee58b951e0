// Process supervision against real processes: tiny fixtures in test/fixtures/processes, run with this Node.
// Every pid a test learns of is tracked, and afterEach fails the test if any of them is still running.
import { spawn } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { ProcessGroups } from "../src/process/groups.js";
import { runCommand } from "../src/process/run-command.js";
import { pidsWith } from "../src/process/marked.js";
import { waitFor } from "./support/cli.js";
import { SuperviseCallbackError, supervise } from "../src/process/supervise.js";
import type { SuperviseOptions, SupervisedExit } from "../src/process/supervise.js";
import { parseProcStat, processRss, processTree, processTreeRss } from "../src/process/tree.js";

const fixture = (name: string): string => fileURLToPath(new URL(`./fixtures/processes/${name}`, import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), "orch-process-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const tracked = new Set<number>();

/** Running means present and not a zombie: here PID 1 may never reap orphans, so zombies linger. */
function isRunning(pid: number): boolean {
  try {
    const stat = parseProcStat(readFileSync(`/proc/${pid}/stat`, "utf8"));
    return stat !== undefined && stat.state !== "Z";
  } catch {
    if (process.platform === "linux") return false;
  }
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

afterEach(() => {
  const leaked = [...tracked].filter(isRunning);
  for (const pid of leaked) process.kill(pid, "SIGKILL");
  tracked.clear();
  expect(leaked, "processes left running by the test").toEqual([]);
});

interface Run {
  exit: SupervisedExit;
  lines: string[];
  stdout: Buffer;
  stderrBytes: number;
}

/** Runs a fixture under supervise, tracking its pid and any "grandchild <pid>" it reports. */
async function run(
  name: string,
  args: string[] = [],
  options: Partial<Omit<SuperviseOptions, "file" | "args" | "cwd" | "env" | "onLine">> & {
    onLine?: (line: string) => void;
  } = {},
): Promise<Run> {
  const lines: string[] = [];
  const stdout: Buffer[] = [];
  let stderrBytes = 0;
  const exit = await supervise({
    ...options,
    file: process.execPath,
    args: [fixture(name), ...args],
    cwd: scratch,
    env: process.env,
    onLine: (line) => {
      lines.push(line);
      const grandchild = /^grandchild (\d+)$/.exec(line)?.[1];
      if (grandchild !== undefined) tracked.add(Number(grandchild));
      options.onLine?.(line);
    },
    onStdout: (chunk) => stdout.push(chunk),
    onStderr: (chunk) => (stderrBytes += chunk.length),
    onSpawn: (pid) => {
      tracked.add(pid);
      options.onSpawn?.(pid);
    },
  });
  return { exit, lines, stdout: Buffer.concat(stdout), stderrBytes };
}

function grandchildOf(lines: string[]): number {
  const pid = lines.map((line) => /^grandchild (\d+)$/.exec(line)?.[1]).find((match) => match !== undefined);
  if (pid === undefined) throw new Error(`no grandchild pid in ${JSON.stringify(lines)}`);
  return Number(pid);
}

describe("supervise: output", () => {
  it("reassembles lines from partial writes and split UTF-8", async () => {
    const { exit, lines, stdout } = await run("lines.mjs");
    expect(exit).toMatchObject({ reason: "exited", exitCode: 0, signal: null });
    expect(lines).toEqual(["hello", "world", "café ☕ 🎉", "tail"]);
    expect(stdout.toString("utf8")).toBe("hello\nworld\ncafé ☕ 🎉\r\ntail");
    expect(exit.pid).toBeGreaterThan(0);
  });

  it("reports the exit code", async () => {
    const { exit } = await run("exit-code.mjs", ["3"]);
    expect(exit).toMatchObject({ reason: "exited", exitCode: 3, signal: null });
  });

  it("keeps a bounded tail of a flood of stderr", async () => {
    const { exit, stderrBytes } = await run("stderr-flood.mjs", [String(1024 * 1024)], { stderrTailBytes: 1000 });
    expect(exit.reason).toBe("exited");
    expect(stderrBytes).toBeGreaterThan(1024 * 1024);
    expect(exit.stderrTail.length).toBeLessThanOrEqual(1000);
    expect(exit.stderrTail.endsWith("x\nEND\n")).toBe(true);
  });

  it("cuts an overlong line into pieces", async () => {
    const { lines } = await run("forever.mjs", ["1", "3"], { maxLineBytes: 4 });
    expect(lines).toEqual(["line", " 0", "line", " 1", "line", " 2"]);
  });
});

describe("supervise: stdin", () => {
  it("writes stdin and closes it", async () => {
    const { exit, lines } = await run("echo-stdin.mjs", [], { stdin: "hello\nwörld\n" });
    expect(exit.reason).toBe("exited");
    expect(lines).toEqual(["hello", "wörld"]);
  });

  it("passes a large stdin through whole", async () => {
    const input = Array.from({ length: 20_000 }, (_, i) => `line ${i}`).join("\n");
    const { lines } = await run("echo-stdin.mjs", [], { stdin: input });
    expect(lines.join("\n")).toBe(input);
  });

  it("gives /dev/null as stdin when none is set", async () => {
    const { exit, lines } = await run("echo-stdin.mjs");
    expect(exit).toMatchObject({ reason: "exited", exitCode: 0 });
    expect(lines).toEqual([]);
  });

  it("takes a child that exits without reading its stdin quietly", async () => {
    const { exit } = await run("exit-code.mjs", ["0"], { stdin: "z".repeat(8 * 1024 * 1024) });
    expect(exit).toMatchObject({ reason: "exited", exitCode: 0 });
  });
});

describe("supervise: stopping", () => {
  it("stops a silent child as hung after the stall timeout", async () => {
    const { exit } = await run("silent.mjs", [], { stallTimeoutMs: 100, killGraceMs: 2000 });
    expect(exit).toMatchObject({ reason: "hung", exitCode: null, signal: "SIGTERM" });
  });

  it("does not call a child hung while it keeps printing", async () => {
    // It prints for about 3 s, twice the stall timeout, which is long enough for node to start on a busy machine.
    const { exit, lines } = await run("forever.mjs", ["10", "300"], { stallTimeoutMs: 1_500 });
    expect(exit).toMatchObject({ reason: "exited", exitCode: 0 });
    expect(lines).toHaveLength(300);
  });

  it("stops a child that prints forever at the wall-clock timeout", async () => {
    const { exit } = await run("forever.mjs", ["5"], { timeoutMs: 300, stallTimeoutMs: 10_000 });
    expect(exit).toMatchObject({ reason: "timeout", signal: "SIGTERM" });
  });

  it("SIGKILLs a child that ignores SIGTERM after the grace period", async () => {
    const controller = new AbortController();
    const { exit } = await run("ignore-term.mjs", [], {
      signal: controller.signal,
      killGraceMs: 200,
      onLine: (line) => {
        if (line === "ready") controller.abort();
      },
    });
    expect(exit).toMatchObject({ reason: "aborted", exitCode: null, signal: "SIGKILL" });
  });

  it("keeps the first stop reason", async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 300);
    const { exit } = await run("ignore-term.mjs", [], { timeoutMs: 100, killGraceMs: 600, signal: controller.signal });
    expect(exit.reason).toBe("timeout");
  });

  it("stops a child when the signal aborts", async () => {
    const controller = new AbortController();
    const { exit } = await run("silent.mjs", [], { signal: controller.signal, onSpawn: () => controller.abort() });
    expect(exit).toMatchObject({ reason: "aborted", signal: "SIGTERM" });
  });

  it("does not start a child when the signal is already aborted", async () => {
    let spawned = false;
    const { exit } = await run("silent.mjs", [], { signal: AbortSignal.abort(), onSpawn: () => (spawned = true) });
    expect(exit).toMatchObject({ reason: "aborted", pid: undefined });
    expect(spawned).toBe(false);
  });

  it("stops the child and rejects when a callback throws", async () => {
    const failure = run("forever.mjs", ["5"], {
      onLine: () => {
        throw new Error("parser bug");
      },
    });
    await expect(failure).rejects.toBeInstanceOf(SuperviseCallbackError);
    await expect(failure).rejects.toMatchObject({ callback: "onLine", cause: { message: "parser bug" } });
  });
});

describe("supervise: the process group", () => {
  it("kills a grandchild left running by a shell", async () => {
    const lines: string[] = [];
    const exit = await supervise({
      file: "/bin/sh",
      args: ["-c", "sleep 100 & echo $!"],
      cwd: scratch,
      env: process.env,
      onLine: (line) => {
        lines.push(line);
        tracked.add(Number(line));
      },
      onSpawn: (pid) => tracked.add(pid),
    });
    expect(exit).toMatchObject({ reason: "exited", exitCode: 0 });
    expect(isRunning(Number(lines[0]))).toBe(false);
  });

  it("kills a grandchild that holds stdout open, and does not wait for it", async () => {
    const { exit, lines } = await run("grandchild.mjs", ["hold"]);
    expect(exit).toMatchObject({ reason: "exited", exitCode: 0 });
    expect(isRunning(grandchildOf(lines))).toBe(false);
  });

  it("SIGKILLs a grandchild that ignores SIGTERM", async () => {
    const { exit, lines } = await run("grandchild.mjs", ["stubborn"], { killGraceMs: 200 });
    expect(exit).toMatchObject({ reason: "exited", exitCode: 0 });
    expect(isRunning(grandchildOf(lines))).toBe(false);
  });

  it("stops a grandchild that left the group (setsid) holding stdout, and names it", async () => {
    const { exit, lines } = await run("grandchild.mjs", ["escape"], { drainTimeoutMs: 200 });
    expect(exit).toMatchObject({ reason: "exited", exitCode: 0 });
    // Beyond a group signal: found by the mark in its environment.
    const escapee = grandchildOf(lines);
    expect(isRunning(escapee)).toBe(false);
    expect(exit.escaped).toEqual([{ pid: escapee, command: expect.stringContaining("silent.mjs") as unknown }]);
  });

  it("stops what a shell left in a session of its own, and its children, with the shell's exit", async () => {
    const pids: number[] = [];
    const exit = await supervise({
      file: "/bin/sh",
      args: ["-c", "setsid sh -c 'sleep 300 & echo $$; echo $!; wait' & sleep 0.2; echo done"],
      cwd: scratch,
      env: process.env,
      onLine: (line) => {
        if (/^\d+$/.test(line)) {
          pids.push(Number(line));
          tracked.add(Number(line));
        }
      },
      killGraceMs: 500,
    });
    expect(exit).toMatchObject({ reason: "exited", exitCode: 0 });
    expect(pids).toHaveLength(2);
    for (const pid of pids) expect(isRunning(pid), `pid ${pid}`).toBe(false);
    expect(exit.escaped.map((p) => p.pid).sort()).toEqual([...pids].sort());
  });

  it("finds a mark only as a whole variable", async () => {
    const mark = `t-${process.pid}-${Date.now()}`;
    const start = (env: Record<string, string>) => spawn("sleep", ["300"], { detached: true, stdio: "ignore", env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...env } });
    const near = [start({ XORCH_SPAWN_ID: mark }), start({ ORCH_SPAWN_ID: `${mark}x` }), start({ OTHER: `ORCH_SPAWN_ID=${mark}x` })];
    const marked = start({ FIRST: "1", ORCH_SPAWN_ID: mark, LAST: "1" });
    const all = [...near, marked];
    for (const child of all) tracked.add(child.pid ?? 0);
    try {
      await waitFor("the sleeps' exec", () => (all.every((c) => readFileSync(`/proc/${c.pid ?? 0}/cmdline`, "utf8").startsWith("sleep")) ? true : undefined));
      expect(await pidsWith(`ORCH_SPAWN_ID=${mark}`)).toEqual([marked.pid]);
    } finally {
      const gone = all.map((c) => new Promise((resolve) => c.once("exit", resolve)));
      for (const child of all) child.kill("SIGKILL");
      await Promise.all(gone);
    }
  });

  it("leaves alone a process that carries another spawn's mark", async () => {
    const bystander = spawn("sleep", ["300"], { detached: true, stdio: "ignore", env: { ...process.env, ORCH_SPAWN_ID: "another-spawn" } });
    const pid = bystander.pid ?? 0;
    tracked.add(pid);
    try {
      const exit = await supervise({ file: "/bin/sh", args: ["-c", "true"], cwd: scratch, env: { ...process.env, ORCH_SPAWN_ID: "another-spawn" } });
      expect(exit).toMatchObject({ reason: "exited", exitCode: 0, escaped: [] });
      expect(isRunning(pid)).toBe(true);
    } finally {
      const gone = new Promise((resolve) => bystander.once("exit", resolve));
      process.kill(pid, "SIGKILL");
      await gone;
    }
  });

  it("registers the group while it lives and forgets it after", async () => {
    const groups = new ProcessGroups();
    let registered = false;
    const { exit } = await run("lines.mjs", [], { groups, onSpawn: (pid) => (registered = groups.has(pid)) });
    expect(exit.reason).toBe("exited");
    expect(registered).toBe(true);
    expect(groups.size).toBe(0);
  });

  it("killAll signals every registered group", async () => {
    const groups = new ProcessGroups();
    const { exit } = await run("silent.mjs", [], { groups, onSpawn: () => groups.killAll("SIGKILL") });
    expect(exit).toMatchObject({ reason: "exited", signal: "SIGKILL" });
  });

  it("the exit handler SIGKILLs what is left, and can be removed", async () => {
    const groups = new ProcessGroups();
    const before = process.listeners("exit");
    const uninstall = groups.installExitHandler();
    const handler = process.listeners("exit").find((listener) => !before.includes(listener));
    expect(handler).toBeDefined();
    try {
      const { exit } = await run("silent.mjs", [], { groups, onSpawn: () => handler?.call(process, 0) });
      expect(exit).toMatchObject({ reason: "exited", signal: "SIGKILL" });
    } finally {
      uninstall();
    }
    expect(process.listeners("exit")).toEqual(before);
  });
});

describe("supervise: spawn failures", () => {
  const attempt = (file: string, cwd = scratch): Promise<SupervisedExit> =>
    supervise({ file, args: [], cwd, env: process.env, onLine: () => {}, onSpawn: (pid) => tracked.add(pid) });

  it("resolves spawn_failed for a missing file", async () => {
    const exit = await attempt(join(scratch, "no-such-program"));
    expect(exit).toMatchObject({ reason: "spawn_failed", pid: undefined, exitCode: null, error: { code: "ENOENT" } });
  });

  it("resolves spawn_failed for a file that is not executable", async () => {
    const file = join(scratch, "not-executable");
    writeFileSync(file, "#!/bin/sh\n");
    chmodSync(file, 0o644);
    expect(await attempt(file)).toMatchObject({ reason: "spawn_failed", error: { code: "EACCES" } });
  });

  it("resolves spawn_failed for a missing working directory", async () => {
    const exit = await attempt(process.execPath, join(scratch, "no-such-dir"));
    expect(exit.reason).toBe("spawn_failed");
    expect(exit.error).toBeInstanceOf(Error);
  });
});

describe.runIf(process.platform === "linux")("process tree", () => {
  it("sums the memory of a process and its descendants", async () => {
    const controller = new AbortController();
    let measured: { tree: number[]; rss: number; leaderRss: number } | undefined;
    let leader = 0;
    const { exit } = await run("grandchild.mjs", ["stay"], {
      signal: controller.signal,
      onSpawn: (pid) => (leader = pid),
      onLine: (line) => {
        if (!line.startsWith("grandchild ")) return;
        void (async () => {
          measured = {
            tree: await processTree(leader),
            rss: await processTreeRss(leader),
            leaderRss: await processRss(leader),
          };
          controller.abort();
        })();
      },
    });
    expect(exit.reason).toBe("aborted");
    expect(measured?.tree).toHaveLength(2);
    expect(measured?.rss).toBeGreaterThan(measured?.leaderRss ?? Infinity);
  });
});

describe("runCommand", () => {
  it("runs a shell string and interleaves stdout and stderr in arrival order", async () => {
    const result = await runCommand({
      command: "echo one; sleep 0.05; echo two >&2; sleep 0.05; echo three; exit 3",
      cwd: scratch,
    });
    expect(result).toMatchObject({ exitCode: 3, signal: null, timedOut: false, aborted: false });
    expect(result.output).toBe("one\ntwo\nthree\n");
    expect(result.spawnError).toBeUndefined();
  });

  it("runs a file with arguments in the given directory and environment", async () => {
    const result = await runCommand({
      file: process.execPath,
      args: ["-e", "process.stdout.write(process.cwd() + ' ' + process.env.ORCH_TEST_VALUE)"],
      cwd: scratch,
      env: { ...process.env, ORCH_TEST_VALUE: "42" },
    });
    expect(result.output).toBe(`${scratch} 42`);
  });

  it("keeps the head and tail of output over the limit", async () => {
    const result = await runCommand({
      command: "echo first; yes filler | head -c 200000; echo; echo last",
      cwd: scratch,
      outputLimitBytes: 1000,
    });
    expect(result.exitCode).toBe(0);
    expect(result.output.startsWith("first\n")).toBe(true);
    expect(result.output.endsWith("last\n")).toBe(true);
    expect(result.output).toMatch(/bytes omitted/);
    expect(result.output.length).toBeLessThan(1100);
  });

  it("kills the command and what it started on timeout", async () => {
    const result = await runCommand({ command: "sleep 100 & echo $!; wait", cwd: scratch, timeoutMs: 200 });
    const sleeper = Number(result.output.trim());
    tracked.add(sleeper);
    expect(result).toMatchObject({ timedOut: true, exitCode: null, signal: "SIGTERM" });
    expect(isRunning(sleeper)).toBe(false);
  });

  it("stops on abort", async () => {
    const result = await runCommand({ command: "sleep 100", cwd: scratch, signal: AbortSignal.timeout(100) });
    expect(result).toMatchObject({ aborted: true, timedOut: false });
  });

  it("reports a command that cannot start", async () => {
    const result = await runCommand({ file: join(scratch, "missing"), cwd: scratch });
    expect(result.spawnError).toMatchObject({ code: "ENOENT" });
    expect(result.exitCode).toBeNull();
  });
});
