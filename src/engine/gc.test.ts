import { describe, expect, it } from "vitest";
import { formatDuration, parseDuration } from "../core/duration.js";
import { judgeRun, shortPath, SUPERVISOR_GRACE_MS, supervisorOf, wipCommitMessage, type Supervisor } from "./gc.js";

const NOW = 1_800_000_000_000;
const ended = (agoMs: number, status: "succeeded" | "failed" | "running" | "waiting" | "paused" | "pending" = "succeeded") => ({
  status,
  createdAt: NOW - agoMs - 60_000,
  endedAt: status === "succeeded" || status === "failed" ? NOW - agoMs : undefined,
  pid: 4242,
  host: "elsewhere.example",
});

describe("judgeRun", () => {
  it("never collects a run that has not finished, whatever its process", () => {
    for (const status of ["pending", "running", "waiting", "paused"] as const) {
      for (const supervisor of ["gone", "self", "alive", "elsewhere"] satisfies Supervisor[]) {
        expect(judgeRun(ended(365 * 86_400_000, status), { now: NOW, supervisor })).toEqual({ collect: false, finished: false, reason: "it has not finished" });
      }
    }
  });

  it("collects a finished run whose process is gone, or is the caller itself", () => {
    expect(judgeRun(ended(1_000), { now: NOW, supervisor: "gone" })).toEqual({ collect: true });
    expect(judgeRun(ended(0, "failed"), { now: NOW, supervisor: "self" })).toEqual({ collect: true });
  });

  it("leaves a just-finished run whose process still runs, here or on another host, until the grace has passed", () => {
    const alive = judgeRun(ended(2_000), { now: NOW, supervisor: "alive" });
    expect(alive).toMatchObject({ collect: false, finished: true });
    expect(alive.collect === false && alive.reason).toBe("its process (pid 4242) is still finishing; try again in a moment");
    const elsewhere = judgeRun(ended(2_000), { now: NOW, supervisor: "elsewhere" });
    expect(elsewhere.collect === false && elsewhere.reason).toMatch(/ran on elsewhere\.example/);
    // A process that lives on long after the run's end (a server driving many runs) is done with this one.
    expect(judgeRun(ended(SUPERVISOR_GRACE_MS), { now: NOW, supervisor: "alive" })).toEqual({ collect: true });
    expect(judgeRun(ended(SUPERVISOR_GRACE_MS), { now: NOW, supervisor: "elsewhere" })).toEqual({ collect: true });
  });

  it("--older-than: only runs that ended at least that long ago", () => {
    const week = parseDuration("7d") ?? 0;
    expect(week).toBe(7 * 86_400_000);
    expect(judgeRun(ended(week), { now: NOW, supervisor: "gone", olderThanMs: week })).toEqual({ collect: true });
    expect(judgeRun(ended(week - 3_600_000), { now: NOW, supervisor: "gone", olderThanMs: week })).toEqual({
      collect: false,
      finished: true,
      reason: "it ended 6d 23h ago, less than 7d 00h",
    });
  });
});

describe("supervisorOf", () => {
  it("tells this process, a gone one and a reused pid apart", () => {
    expect(supervisorOf({ pid: undefined, pidStartTime: undefined, host: undefined })).toBe("gone");
    expect(supervisorOf({ pid: process.pid, pidStartTime: undefined, host: undefined })).toBe("self");
    expect(supervisorOf({ pid: process.pid, pidStartTime: "1", host: undefined })).toBe("gone");
    expect(supervisorOf({ pid: process.pid, pidStartTime: undefined, host: "not-this-host.invalid" })).toBe("elsewhere");
  });
});

describe("wording", () => {
  it("names run and task in the work-in-progress commit and says it was not verified", () => {
    const message = wipCommitMessage("261121-0638-k3f9", "fix-tests", "orch gc (pid 7)");
    expect(message.split("\n")[0]).toBe("orch gc: work in progress of run 261121-0638-k3f9, task fix-tests (not verified)");
    expect(message).toContain("orch gc (pid 7) committed them here");
  });

  it("days in durations", () => {
    expect(formatDuration(2 * 86_400_000 + 3 * 3_600_000 + 59_000)).toBe("2d 03h");
    expect(formatDuration(3_723_000)).toBe("1h 02m");
  });

  it("paths inside the repository are shown relative to it", () => {
    expect(shortPath("/r", "/r/.orch/worktrees/a/b")).toBe(".orch/worktrees/a/b");
    expect(shortPath("/r", "/elsewhere/x")).toBe("/elsewhere/x");
    expect(shortPath("/r", "/r")).toBe("/r");
  });
});
