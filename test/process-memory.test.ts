// The RSS cap of supervise against real processes that allocate real memory (test/fixtures/processes/
// grow-memory.mjs): over the cap the whole group is stopped as "memory" with its peak reported; under it, the
// child is left alone and its peak is still reported. afterEach fails a test that leaves a process running.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { groupIsAlive } from "../src/process/groups.js";
import { groupTreeRss } from "../src/process/rss.js";
import { supervise } from "../src/process/supervise.js";
import type { SuperviseOptions, SupervisedExit } from "../src/process/supervise.js";
import { processTreeRss } from "../src/process/tree.js";
import { isRunning } from "./support/cli.js";

const GROW = fileURLToPath(new URL("./fixtures/processes/grow-memory.mjs", import.meta.url));
const MB = 1024 * 1024;
const scratch = mkdtempSync(join(tmpdir(), "orch-memory-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const tracked = new Set<number>();

afterEach(() => {
  const leaked = [...tracked].filter(isRunning);
  for (const pid of leaked) process.kill(pid, "SIGKILL");
  tracked.clear();
  expect(leaked, "processes left running by the test").toEqual([]);
});

interface Watched {
  exit: SupervisedExit;
  lines: string[];
  leader: number;
}

/** Runs `file args` under supervise with a short sampling interval, tracking every pid it reports. */
async function watch(file: string, args: string[], options: Partial<SuperviseOptions> = {}): Promise<Watched> {
  const lines: string[] = [];
  let leader = 0;
  const exit = await supervise({
    file,
    args,
    cwd: scratch,
    env: process.env,
    rssIntervalMs: 100,
    killGraceMs: 2_000,
    // A cap that failed would otherwise hold the test until vitest's own timeout.
    timeoutMs: 30_000,
    ...options,
    onLine: (line) => {
      lines.push(line);
      const pid = /^grandchild (\d+)$/.exec(line)?.[1];
      if (pid !== undefined) tracked.add(Number(pid));
      options.onLine?.(line);
    },
    onSpawn: (pid) => {
      leader = pid;
      tracked.add(pid);
      options.onSpawn?.(pid);
    },
  });
  return { exit, lines, leader };
}

const grandchild = (lines: string[]): number => {
  const pid = lines.map((line) => /^grandchild (\d+)$/.exec(line)?.[1]).find((found) => found !== undefined);
  if (pid === undefined) throw new Error(`no grandchild pid in ${JSON.stringify(lines)}`);
  return Number(pid);
};

describe.runIf(process.platform === "linux")("supervise: the RSS cap", () => {
  it("stops a process that grows past the cap, as `memory`, and reports the peak", async () => {
    const { exit, leader } = await watch(process.execPath, [GROW, "400"], { maxRssBytes: 100 * MB });
    expect(exit).toMatchObject({ reason: "memory", exitCode: null, signal: "SIGTERM" });
    expect(exit.peakRssBytes).toBeGreaterThan(100 * MB);
    expect(isRunning(leader)).toBe(false);
    expect(await groupIsAlive(leader)).toBe(false);
  });

  it("counts a child's memory too, and stops the whole group", async () => {
    const { exit, lines, leader } = await watch("/bin/sh", ["-c", `'${process.execPath}' '${GROW}' 400 & echo "grandchild $!"; wait`], {
      maxRssBytes: 100 * MB,
    });
    const hog = grandchild(lines);
    expect(exit.reason).toBe("memory");
    expect(exit.peakRssBytes).toBeGreaterThan(100 * MB);
    expect(isRunning(hog)).toBe(false);
    expect(isRunning(leader)).toBe(false);
    expect(await groupIsAlive(leader)).toBe(false);
  });

  it("leaves a process under the cap alone, and still reports its peak", async () => {
    const { exit, lines } = await watch(process.execPath, [GROW, "60", "exit"], { maxRssBytes: 400 * MB });
    expect(exit).toMatchObject({ reason: "exited", exitCode: 0, signal: null });
    expect(lines).toEqual(["grown 60"]);
    // It held 60 MB for a second, sampled every 100 ms.
    expect(exit.peakRssBytes).toBeGreaterThan(60 * MB);
    expect(exit.peakRssBytes).toBeLessThan(400 * MB);
  });

  it("reports the peak without a cap", async () => {
    const { exit } = await watch(process.execPath, [GROW, "30", "exit"]);
    expect(exit).toMatchObject({ reason: "exited", exitCode: 0 });
    expect(exit.peakRssBytes).toBeGreaterThan(30 * MB);
  });

  it("groupTreeRss counts a group member its parent orphaned, which the process tree no longer reaches", async () => {
    const controller = new AbortController();
    let measured: { group: number; tree: number } | undefined;
    let leader = 0;
    // The subshell starts the grower and exits at once: the grower is reparented away, but stays in the group.
    const { exit, lines } = await watch("/bin/sh", ["-c", `('${process.execPath}' '${GROW}' 80 & echo "grandchild $!"); sleep 30`], {
      signal: controller.signal,
      onSpawn: (pid) => (leader = pid),
      onLine: (line) => {
        if (line !== "grown 80") return;
        void (async () => {
          measured = { group: await groupTreeRss(leader), tree: await processTreeRss(leader) };
          controller.abort();
        })();
      },
    });
    expect(exit.reason).toBe("aborted");
    expect(isRunning(grandchild(lines))).toBe(false);
    expect(measured?.group).toBeGreaterThan(80 * MB);
    expect(measured?.tree).toBeLessThan(80 * MB);
  });
});
