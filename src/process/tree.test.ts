import { describe, expect, it } from "vitest";
import { kernelThreadPids, parseProcStat, processStartTime, processStat, processTree, processTreeRss } from "./tree.js";

describe("parseProcStat", () => {
  it("reads fields after a command name holding spaces and parentheses", () => {
    // state ppid pgrp session tty tpgid flags, then 12 fields we skip, then starttime vsize rss
    const skipped = Array<string>(12).fill("0");
    const fields = ["S", "10", "42", "42", "0", "-1", "4194560", ...skipped, "987654", "1000", "12"];
    const stat = parseProcStat(`4242 (we ird) (name) ${fields.join(" ")}\n`);
    expect(stat).toEqual({ pid: 4242, comm: "we ird) (name", state: "S", ppid: 10, pgrp: 42, startTime: "987654", kernelThread: false });
  });

  it("tells a kernel thread by its PF_KTHREAD flag", () => {
    const fields = (flags: number) => ["S", "2", "0", "0", "0", "-1", String(flags), ...Array<string>(12).fill("0"), "5", "0", "0"];
    expect(parseProcStat(`7 (kworker/0:1) ${fields(0x04208040).join(" ")}`)?.kernelThread).toBe(true);
    expect(parseProcStat(`8 (sleep) ${fields(0x00400000).join(" ")}`)?.kernelThread).toBe(false);
  });

  it("refuses text that is not a stat line", () => {
    expect(parseProcStat("")).toBeUndefined();
    expect(parseProcStat("12 (x) S 1")).toBeUndefined();
  });
});

describe.runIf(process.platform === "linux")("/proc readers", () => {
  it("gives this process's start time, the same each time", () => {
    const start = processStartTime(process.pid);
    expect(start).toMatch(/^\d+$/);
    expect(processStartTime(process.pid)).toBe(start);
  });

  it("treats a pid that does not exist as gone", async () => {
    const unused = 2 ** 22 + 1; // above the largest pid Linux hands out
    expect(processStartTime(unused)).toBeUndefined();
    expect(await processTree(unused)).toEqual([]);
    expect(await processTreeRss(unused)).toBe(0);
  });

  it("measures this process's tree", async () => {
    expect((await processTree(process.pid))[0]).toBe(process.pid);
    expect(await processTreeRss(process.pid)).toBeGreaterThan(1024 * 1024);
  });
});

describe.runIf(process.platform === "linux")("kernelThreadPids", () => {
  it("holds kernel threads only, and every one the kernel lists under kthreadd when pid 2 is kthreadd", () => {
    const kernel = kernelThreadPids();
    expect(kernel.has(process.pid)).toBe(false);
    expect(kernel.has(1)).toBe(false);
    for (const pid of kernel) {
      // One may have ended since; those still there are the kernel's.
      const stat = processStat(pid);
      if (stat !== undefined) expect(stat.kernelThread).toBe(true);
    }
    // Where pid 2 is kthreadd (not in a container's pid namespace), its children are in the set.
    if (processStat(2)?.kernelThread === true) expect(kernel.size).toBeGreaterThan(1);
    else expect(kernel.size).toBe(0);
  });
});
