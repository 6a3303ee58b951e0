import { describe, expect, it } from "vitest";
import { didYouMean, editDistance, similarNames } from "./did-you-mean.js";

describe("did you mean", () => {
  it("measures edits, a swap of two neighbours counting as one", () => {
    expect(editDistance("maxAtempts", "maxAttempts")).toBe(1);
    expect(editDistance("verfiy", "verify")).toBe(1);
    expect(editDistance("", "abc")).toBe(3);
    expect(editDistance("codex", "codex")).toBe(0);
  });

  it("offers the nearest names, all of them on a tie, and none when nothing is close", () => {
    expect(similarNames("maxAtempts", ["maxAttempts", "maxHours", "stallAttempts"])).toEqual(["maxAttempts"]);
    expect(similarNames("gemnii", ["gemini", "codex"])).toEqual(["gemini"]);
    expect(similarNames("cat", ["bat", "car", "dog"])).toEqual(["bat", "car"]);
    expect(similarNames("gpt", ["claude-code", "codex", "gemini"])).toEqual([]);
    expect(didYouMean("verfy", ["verify", "base"])).toBe('; did you mean "verify"?');
    expect(didYouMean("xyz", ["verify"])).toBe("");
  });
});
