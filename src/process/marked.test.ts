import { spawnSync } from "node:child_process";
import { afterEach, describe, expect, it } from "vitest";
import { pidsWith, stopMarked } from "./marked.js";
import { processStat } from "./tree.js";

const started: number[] = [];
afterEach(() => {
  for (const pid of started.splice(0)) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // Gone already.
    }
  }
});

/** Runs `script` with `ORCH_TEST_MARK=mark` under sh and waits for sh to exit; returns what it printed. */
function shell(script: string, mark: string, extra: Record<string, string> = {}): string {
  const ran = spawnSync("sh", ["-c", script], { env: { ...process.env, ...extra, ORCH_TEST_MARK: mark }, encoding: "utf8" });
  return ran.stdout.trim();
}

function alive(pid: number): boolean {
  const stat = processStat(pid);
  return stat !== undefined && stat.state !== "Z";
}

describe.runIf(process.platform === "linux")("marked processes", () => {
  it("are found right after their parent exits, also while they are still exec'ing", { timeout: 60_000 }, async () => {
    // The parent exits at once; the background child is then often between two of its three execs, when its
    // environment reads as empty. Before that was read again, about one trial in forty missed it.
    for (let trial = 0; trial < 200; trial++) {
      const mark = `t${process.pid}-${trial}`;
      const pid = Number(shell("setsid nohup sleep 30 > /dev/null 2>&1 & echo $!", mark));
      started.push(pid);
      expect(await pidsWith(`ORCH_TEST_MARK=${mark}`), `trial ${trial}`).toEqual([pid]);
    }
  });

  it("match a whole variable only, never a value that merely contains it", async () => {
    const mark = `w${process.pid}`;
    const pid = Number(shell("sleep 30 > /dev/null 2>&1 & echo $!", `not-${mark}`, { OTHER: `ORCH_TEST_MARK=${mark}` }));
    started.push(pid);
    expect(await pidsWith(`ORCH_TEST_MARK=${mark}`)).toEqual([]);
    expect(await pidsWith(`ORCH_TEST_MARK=not-${mark}`)).toEqual([pid]);
  });

  it("are stopped, one that ignores SIGTERM with SIGKILL after the grace", async () => {
    const mark = `s${process.pid}`;
    const polite = Number(shell("setsid nohup sleep 30 > /dev/null 2>&1 & echo $!", mark));
    const stubborn = Number(shell("setsid sh -c 'trap \"\" TERM; while :; do sleep 1; done' > /dev/null 2>&1 & echo $!", mark));
    started.push(polite, stubborn);
    const stopped = await stopMarked("ORCH_TEST_MARK", mark, 300);
    expect(stopped.map((p) => p.pid)).toEqual(expect.arrayContaining([polite, stubborn]));
    expect(alive(polite)).toBe(false);
    expect(alive(stubborn)).toBe(false);
    expect(await pidsWith(`ORCH_TEST_MARK=${mark}`)).toEqual([]);
  });
});
