import { describe, expect, it } from "vitest";
import type { Output } from "./output.js";
import { StatusLine } from "./status-line.js";

function capture(tty: boolean): Output & { errors: string[] } {
  const errors: string[] = [];
  return {
    errors,
    out: () => undefined,
    err: (text) => errors.push(text),
    json: () => undefined,
    errIsTTY: tty,
    columns: 80,
  };
}

const one = (maxAttempts: number, limitMs: number, now: () => number, startedAt = 0) => ({ maxAttempts, startedAt, limitMs, withTask: false, now });

describe("the live status line", () => {
  it("shows attempt n/m, elapsed/limit, progress and what the agent is doing now", () => {
    let now = 1_000;
    const output = capture(true);
    const line = new StatusLine(output, one(10, 3 * 3_600_000, () => now, 1_000));
    line.update({ taskId: "t", kind: "attempt", attempt: 2, maxAttempts: 10, model: "m" });
    line.update({ taskId: "t", kind: "verified", attempt: 2, progress: 0.5, passed: 1, total: 2, timedOut: [] });
    line.update({ taskId: "t", kind: "agent", event: { type: "tool.called", name: "Bash", summary: "npm test", id: "t1" } });
    now += 65_000;
    expect(line.render()).toMatch(/^\S attempt 2\/10 · 1m 05s of 3h 00m · progress 50% · Bash npm test$/);
    // On a terminal, milestones are printed above the line; the agent's lines are only drawn on it.
    expect(output.errors).toEqual(["  attempt 2/10 started", "  attempt 2: criteria 1/2 passed · progress 50%"]);
  });

  it("off a terminal, prints milestones and the agent's own lines, controls shown as text", () => {
    const output = capture(false);
    const line = new StatusLine(output, one(10, 60_000, () => 0));
    line.update({ taskId: "t", kind: "attempt", attempt: 1, maxAttempts: 10, model: undefined });
    line.update({ taskId: "t", kind: "agent", event: { type: "text", text: "looking at sum.js\u001b[2J" } });
    line.update({ taskId: "t", kind: "agent", event: { type: "tool.called", name: "Bash", summary: "npm test", id: "t1" } });
    line.update({ taskId: "t", kind: "agent", event: { type: "usage", usage: { inputTokens: 1, outputTokens: 1 } } });
    line.update({ taskId: "t", kind: "verified", attempt: 1, progress: 1, passed: 1, total: 1, timedOut: ["sleep 9"] });
    expect(output.errors).toEqual([
      "orch: attempt 1/10 started",
      "orch: #1 » looking at sum.js\\u001b[2J",
      "orch: #1 → Bash npm test",
      "orch: attempt 1: criteria 1/1 passed · progress 100% (timed out: `sleep 9`)",
    ]);
  });

  it("in a planned run, names the task on every line and shows the task that spoke last", () => {
    const output = capture(false);
    const line = new StatusLine(output, { maxAttempts: 10, startedAt: 0, limitMs: 60_000, withTask: true, now: () => 0 });
    line.update({ taskId: "api", kind: "attempt", attempt: 1, maxAttempts: 10, model: undefined });
    line.update({ taskId: "ui", kind: "attempt", attempt: 1, maxAttempts: 10, model: undefined });
    line.update({ taskId: "ui", kind: "agent", event: { type: "text", text: "ui: wrote it\nand checked" } });
    line.update({ taskId: "api", kind: "verified", attempt: 1, progress: 0.5, passed: 1, total: 2, timedOut: [] });
    expect(output.errors).toEqual([
      "orch: api: attempt 1/10 started",
      "orch: ui: attempt 1/10 started",
      "orch: ui#1 » ui: wrote it\n             and checked",
      "orch: api: attempt 1: criteria 1/2 passed · progress 50%",
    ]);
    expect(line.render()).toMatch(/^\S api attempt 1\/10 · 0s of 1m 00s · progress 50% · criteria 1\/2 passed$/);
  });

  it("forgets a task whose loop ended, and shows it until another task speaks", () => {
    const output = capture(false);
    const line = new StatusLine(output, { maxAttempts: 3, startedAt: 0, limitMs: 60_000, withTask: true, now: () => 0 });
    for (const taskId of ["a", "b", "c"]) {
      line.update({ taskId, kind: "attempt", attempt: 1, maxAttempts: 3, model: undefined });
      line.update({ taskId, kind: "verified", attempt: 1, progress: 1, passed: 1, total: 1, timedOut: [] });
    }
    line.update({ taskId: "a", kind: "ended", status: "succeeded" });
    line.update({ taskId: "c", kind: "ended", status: "succeeded" });
    expect(line.following).toBe(1);
    expect(line.render()).toMatch(/^\S c attempt 1\/3 · 0s of 1m 00s · progress 100% · criteria 1\/1 passed$/);
    line.update({ taskId: "b", kind: "agent", event: { type: "text", text: "still here" } });
    expect(line.render()).toMatch(/^\S b attempt 1\/3 .* still here$/);
    line.update({ taskId: "b", kind: "ended", status: "failed" });
    expect(line.following).toBe(0);
    expect(output.errors.at(-1)).toBe("orch: b#1 » still here");
  });

  it("ignores usage and unreadable output, and cuts what does not fit the terminal", () => {
    const output = capture(true);
    const line = new StatusLine(output, one(3, 60_000, () => 0));
    line.update({ taskId: "t", kind: "agent", event: { type: "text", text: `thinking ${"x".repeat(200)}\nsecond line` } });
    line.update({ taskId: "t", kind: "agent", event: { type: "usage", usage: { inputTokens: 1, outputTokens: 1 } } });
    line.update({ taskId: "t", kind: "agent", event: { type: "unknown", raw: "garbage" } });
    const rendered = line.render();
    expect(rendered).toContain("· thinking xxx");
    expect(rendered.endsWith("…")).toBe(true);
    expect(rendered.length).toBeLessThanOrEqual(80);
    expect(rendered).not.toContain("\n");
    expect(output.errors).toEqual([]);
  });

  it("says when it waits and until when", () => {
    const output = capture(false);
    const line = new StatusLine(output, one(3, 60_000, () => 0));
    line.update({ taskId: "t", kind: "waiting", until: Date.UTC(2026, 10, 21, 8, 0, 0), reason: "rate_limited: 429" });
    expect(line.render()).toContain("waiting until 2026-11-21 08:00");
    expect(output.errors[0]).toBe("orch: waiting until 2026-11-21 08:00:00Z (rate_limited: 429)");
  });

  it("says what each number of a verdict is, and why progress is off the plain share of criteria", () => {
    const output = capture(false);
    const line = new StatusLine(output, one(3, 60_000, () => 0));
    line.update({ taskId: "t", kind: "verified", attempt: 1, progress: 0.5, passed: 0, total: 1, timedOut: [] });
    expect(output.errors).toEqual(["orch: attempt 1: criteria 0/1 passed · progress 50%, counting the tests that pass in failing criteria"]);
  });
});
