// A failed attempt's changes for the handoff: whole hunks within the budget, the most relevant first, the stat cut.
import { describe, expect, it } from "vitest";
import { attemptChanges, boundStat, parseDiff, selectHunks } from "./diff-excerpt.js";

function fileDiff(path: string, hunks: readonly string[]): string {
  const header = `diff --git a/${path} b/${path}\nindex 1111111..2222222 100644\n--- a/${path}\n+++ b/${path}\n`;
  return header + hunks.map((h, i) => `@@ -${i * 10 + 1},1 +${i * 10 + 1},1 @@\n-old ${h}\n+new ${h}\n`).join("");
}

describe("the changes of a failed attempt, bounded", () => {
  it("parses files and hunks of a unified diff", () => {
    const files = parseDiff(fileDiff("src/a.ts", ["x", "y"]) + fileDiff("b.md", ["z"]));
    expect(files.map((f) => [f.path, f.hunks.length])).toEqual([["src/a.ts", 2], ["b.md", 1]]);
    expect(files[0]?.hunks[1]).toBe("@@ -11,1 +11,1 @@\n-old y\n+new y");
  });

  it("keeps everything that fits, in the diff's order, each file's header once", () => {
    const diff = fileDiff("src/a.ts", ["x", "y"]) + fileDiff("b.md", ["z"]);
    expect(selectHunks(diff, "", 4_096)).toBe(diff.trimEnd());
  });

  it("puts the files the failing output names first, lock files last, and says how many hunks were left out", () => {
    const big = (tag: string) => `${tag} ${"a".repeat(150)}`;
    const diff = fileDiff("package-lock.json", [big("lock")]) + fileDiff("src/other.ts", [big("other")]) + fileDiff("src/sum.ts", [big("sum")]);
    const shown = selectHunks(diff, "FAIL test/sum.test.ts > sum.ts:3 expected 3", 900);
    expect(shown).toContain("+++ b/src/sum.ts");
    expect(shown).toContain("+++ b/src/other.ts");
    expect(shown).not.toContain("package-lock.json");
    expect(shown.endsWith("[1 more hunk(s) of 3 not shown]")).toBe(true);
    expect(shown.length).toBeLessThanOrEqual(900 + 40);
    // In the diff's order: other.ts before sum.ts.
    expect(shown.indexOf("src/other.ts")).toBeLessThan(shown.indexOf("src/sum.ts"));
    const tight = selectHunks(diff, "sum.ts failed", 500);
    expect(tight).toContain("src/sum.ts");
    expect(tight).not.toContain("src/other.ts");
  });

  it("cuts the most relevant hunk when not one fits whole", () => {
    const shown = selectHunks(fileDiff("src/big.ts", ["b".repeat(10_000)]), "", 1_000);
    expect(shown).toContain("+++ b/src/big.ts");
    expect(shown).toMatch(/\[… hunk cut to \d+ characters\]$/);
    expect(shown.length).toBeLessThanOrEqual(1_000 + 40);
  });

  it("cuts a long stat and keeps git's summary; no changes, no section", () => {
    const stat = [...Array.from({ length: 50 }, (_, i) => ` f${i}.ts | 1 +`), " 50 files changed, 50 insertions(+)"].join("\n");
    const bounded = boundStat(stat, 30).split("\n");
    expect(bounded).toHaveLength(32);
    expect(bounded[30]).toBe(" … 20 more file(s)");
    expect(bounded[31]).toBe(" 50 files changed, 50 insertions(+)");
    expect(attemptChanges("", "", "")).toBeUndefined();
    expect(attemptChanges(" a.ts | 1 +\n 1 file changed", fileDiff("a.ts", ["x"]), "")).toEqual({ stat: " a.ts | 1 +\n 1 file changed", hunks: fileDiff("a.ts", ["x"]).trimEnd() });
  });
});
