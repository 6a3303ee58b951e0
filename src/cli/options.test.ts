import { describe, expect, it } from "vitest";
import { hours } from "./options.js";

describe("--max-hours", () => {
  it("reads a bare number as hours and anything else as a duration", () => {
    expect(hours("--max-hours", "3")).toBe(3 * 3_600_000);
    expect(hours("--max-hours", "1.5")).toBe(5_400_000);
    expect(hours("--max-hours", "2h")).toBe(2 * 3_600_000);
    expect(hours("--max-hours", "90m")).toBe(5_400_000);
    expect(hours("--max-hours", "1h30m")).toBe(5_400_000);
  });

  it("refuses nothing, zero, negatives and words, naming the flag", () => {
    expect(() => hours("--max-hours", "0")).toThrow('--max-hours must be a number above 0, not "0"');
    expect(() => hours("--max-hours", "-1")).toThrow('--max-hours must be a number above 0, not "-1"');
    expect(() => hours("--max-hours", "0h")).toThrow('--max-hours must be a number of hours or a duration such as 90m or 2h, above 0, not "0h"');
    expect(() => hours("--max-hours", "soon")).toThrow(/not "soon"$/);
    expect(() => hours("--max-hours", "")).toThrow(/not ""$/);
  });
});
