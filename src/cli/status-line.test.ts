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

describe("the live status line", () => {
  it("shows attempt n/m, elapsed/limit, progress and what the agent is doing now", () => {
    let now = 1_000;
    const output = capture(false);
    const line = new StatusLine(output, 10, 1_000, 3 * 3_600_000, () => now);
    line.update({ kind: "attempt", attempt: 2, maxAttempts: 10, model: "m" });
    line.update({ kind: "verified", attempt: 2, progress: 0.5, passed: 1, total: 2, timedOut: [] });
    line.update({ kind: "agent", event: { type: "tool.called", name: "Bash", summary: "npm test", id: "t1" } });
    now += 65_000;
    expect(line.render()).toMatch(/^\S attempt 2\/10 · 1:05\/3:00:00 · 50% · Bash npm test$/);
    line.update({ kind: "verified", attempt: 3, progress: 0, passed: 0, total: 1, timedOut: ["sleep 100000"] });
    // Off a terminal, milestones are printed as lines instead of redrawing.
    expect(output.errors).toEqual([
      "orch: attempt 2/10 started",
      "orch: attempt 2: 1/2 criteria met, progress 50%",
      "orch: attempt 3: 0/1 criteria met, progress 0% (timed out: `sleep 100000`)",
    ]);
  });

  it("ignores usage and unreadable output, and cuts what does not fit the terminal", () => {
    const output = capture(false);
    const line = new StatusLine(output, 3, 0, 60_000, () => 0);
    line.update({ kind: "agent", event: { type: "text", text: `thinking ${"x".repeat(200)}\nsecond line` } });
    line.update({ kind: "agent", event: { type: "usage", usage: { inputTokens: 1, outputTokens: 1 } } });
    line.update({ kind: "agent", event: { type: "unknown", raw: "garbage" } });
    const rendered = line.render();
    expect(rendered).toContain("· thinking xxx");
    expect(rendered.endsWith("…")).toBe(true);
    expect(rendered.length).toBeLessThanOrEqual(80);
    expect(rendered).not.toContain("\n");
  });

  it("says when it waits and until when", () => {
    const output = capture(false);
    const line = new StatusLine(output, 3, 0, 60_000, () => 0);
    line.update({ kind: "waiting", until: Date.UTC(2026, 10, 21, 8, 0, 0), reason: "rate_limited: 429" });
    expect(line.render()).toMatch(/waiting until .* \(rate_limited: 429\)$/);
    expect(output.errors[0]).toMatch(/^orch: waiting until .* \(rate_limited: 429\)$/);
  });
});
