// Reset times read from the limit messages Claude Code prints; clock times are local, as the CLI writes them.
import { describe, expect, it } from "vitest";
import { readResetTime } from "./reset-time.js";

// 14:20 local time on 21 Nov 2026, whatever the machine's zone.
const NOW = new Date(2026, 10, 21, 14, 20).getTime();
const local = (month: number, day: number, hour: number, minute = 0, year = 2026) =>
  new Date(year, month, day, hour, minute).getTime();

describe("readResetTime", () => {
  it("reads the epoch suffix of older CLIs, in seconds or milliseconds", () => {
    expect(readResetTime("Claude AI usage limit reached|1795000000", NOW)).toBe(1_795_000_000_000);
    expect(readResetTime("Claude AI usage limit reached|1795000000123", NOW)).toBe(1_795_000_000_123);
  });

  it("reads a time of day, today or else tomorrow", () => {
    expect(readResetTime("You've hit your limit · resets 3pm (Europe/Berlin)", NOW)).toBe(local(10, 21, 15));
    expect(readResetTime("You've hit your limit · resets 3:45pm", NOW)).toBe(local(10, 21, 15, 45));
    expect(readResetTime("You've hit your limit · resets 2pm", NOW)).toBe(local(10, 22, 14));
    expect(readResetTime("resets 12am", NOW)).toBe(local(10, 22, 0));
    expect(readResetTime("resets 12pm", NOW)).toBe(local(10, 22, 12));
  });

  it("reads a date and time, rolling into next year when the date has passed", () => {
    expect(readResetTime("You've hit your weekly limit · resets Nov 23, 9am (UTC)", NOW)).toBe(local(10, 23, 9));
    expect(readResetTime("resets Nov 23, 2027, 9:30am", NOW)).toBe(local(10, 23, 9, 30, 2027));
    expect(readResetTime("resets Jan 2, 9am", NOW)).toBe(local(0, 2, 9, 0, 2027));
  });

  it("reads ISO timestamps that name their zone, and relative waits", () => {
    expect(readResetTime("limit resets at 2026-11-22T10:00:00Z", NOW)).toBe(Date.UTC(2026, 10, 22, 10));
    expect(readResetTime("Too many requests, try again in 30 seconds", NOW)).toBe(NOW + 30_000);
    expect(readResetTime("please retry after 2 minutes", NOW)).toBe(NOW + 120_000);
    expect(readResetTime("retry after 1500ms", NOW)).toBe(NOW + 1_500);
  });

  it("gives nothing when the message names no time, or an impossible or past one", () => {
    expect(readResetTime("Number of request tokens has exceeded your per-minute rate limit", NOW)).toBeUndefined();
    expect(readResetTime("resets 13pm", NOW)).toBeUndefined();
    expect(readResetTime("resets Foo 3, 9am", NOW)).toBeUndefined();
    expect(readResetTime("resets at 2020-01-01T00:00:00Z", NOW)).toBeUndefined();
    expect(readResetTime("", NOW)).toBeUndefined();
  });
});
