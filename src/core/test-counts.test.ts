// Runner outputs as they really print (colour codes, CRLF from a pty, failure details after the summary).
import { readFileSync } from "node:fs";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { criterionScore, parseTestCounts, SCAN_TAIL_CHARS } from "./test-counts.js";
import type { TestCounts } from "./test-counts.js";

function fixture(name: string): string {
  return readFileSync(new URL(`./fixtures/test-output/${name}`, import.meta.url), "utf8");
}

function tc(runner: string, passed: number, failed: number, skipped: number, total: number): TestCounts {
  return { passed, failed, skipped, total, runner };
}

describe("parseTestCounts on real runner output", () => {
  const cases: [file: string, expected: TestCounts][] = [
    // vitest on a tty repaints its summary while running; the last one is the final one.
    ["vitest-tty-fail.txt", tc("vitest", 3, 1, 3, 7)],
    ["vitest-pass.txt", tc("vitest", 1, 0, 0, 1)],
    ["jest-fail.txt", tc("jest", 3, 1, 2, 6)],
    ["mocha-fail.txt", tc("mocha", 3, 1, 1, 5)],
    ["mocha-pass.txt", tc("mocha", 2, 0, 0, 2)],
    // node's spec reporter lists failing tests again after the summary.
    ["node-spec-tty-fail.txt", tc("node", 2, 1, 2, 5)],
    ["node-tap-fail.txt", tc("node", 2, 1, 2, 5)],
    ["tape-fail.txt", tc("tap", 3, 1, 0, 4)],
    ["tap-plan-first.txt", tc("tap", 2, 1, 2, 5)],
    ["pytest-tty-fail.txt", tc("pytest", 2, 2, 2, 6)],
    ["pytest-q-pass.txt", tc("pytest", 1, 0, 0, 1)],
    ["pytest-collection-error.txt", tc("pytest", 0, 1, 0, 1)],
    // Three test targets (unit, integration, doc-tests): their result lines are summed.
    ["cargo-tty-fail.txt", tc("cargo", 5, 1, 1, 7)],
    // Subtests count as tests, and the lines of every package are summed.
    ["go-verbose-fail.txt", tc("go", 5, 1, 1, 7)],
    ["rspec-fail.txt", tc("rspec", 3, 1, 1, 5)],
    ["phpunit-fail.txt", tc("phpunit", 3, 1, 1, 5)],
    ["phpunit-pass.txt", tc("phpunit", 5, 0, 0, 5)],
  ];
  it.each(cases)("%s", (file, expected) => {
    expect(parseTestCounts(fixture(file))).toEqual(expected);
  });

  it("gives no counts for go test without -v, where passing tests print nothing", () => {
    expect(parseTestCounts(fixture("go-quiet-fail.txt"))).toBeUndefined();
    expect(parseTestCounts("ok  \texample.com/calc/math\t0.002s\n")).toBeUndefined();
  });

  it("reads the fixtures the same with the colour codes and carriage returns gone", () => {
    for (const file of ["vitest-tty-fail.txt", "jest-fail.txt", "cargo-tty-fail.txt", "pytest-tty-fail.txt"]) {
      const plain = fixture(file)
        .replace(/\x1b\[[0-?]*[ -/]*[@-~]|\x1b\([A-Z]/g, "")
        .replace(/\r/g, "");
      expect(parseTestCounts(plain)).toEqual(parseTestCounts(fixture(file)));
    }
  });
});

describe("parseTestCounts on the documented shapes", () => {
  it.each<[string, TestCounts]>([
    ["      Tests  1 failed | 3 passed (4)", tc("vitest", 3, 1, 0, 4)],
    ["      Tests  1 failed | 3 passed | 2 skipped (6)", tc("vitest", 3, 1, 2, 6)],
    ["      Tests  2 passed | 1 expected fail (3)", tc("vitest", 3, 0, 0, 3)],
    ["Tests:       1 failed, 1 skipped, 3 passed, 5 total", tc("jest", 3, 1, 1, 5)],
    ["Tests:       0 total", tc("jest", 0, 0, 0, 0)],
    ["  3 passing (12ms)\n  2 pending\n  1 failing", tc("mocha", 3, 1, 2, 6)],
    ["  12 passing (2s)", tc("mocha", 12, 0, 0, 12)],
    ["# tests 4\n# pass 3\n# fail 1\n# skipped 0", tc("tap", 3, 1, 0, 4)],
    ["ℹ tests 4\nℹ suites 1\nℹ pass 3\nℹ fail 1", tc("node", 3, 1, 0, 4)],
    ["==== 1 failed, 3 passed, 1 skipped in 0.12s ====", tc("pytest", 3, 1, 1, 5)],
    ["5 passed in 0.01s", tc("pytest", 5, 0, 0, 5)],
    ["===== 1 failed, 4 passed in 0.05 seconds =====", tc("pytest", 4, 1, 0, 5)],
    ["=== 2 passed, 1 deselected, 3 warnings in 61.20s (0:01:01) ===", tc("pytest", 2, 0, 0, 2)],
    ["==== 3 errors in 0.40s ====", tc("pytest", 0, 3, 0, 3)],
    ["test result: FAILED. 3 passed; 1 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.01s", tc("cargo", 3, 1, 0, 4)],
    ["5 examples, 1 failure, 1 pending", tc("rspec", 3, 1, 1, 5)],
    ["1 example, 0 failures", tc("rspec", 1, 0, 0, 1)],
    ["0 examples, 0 failures, 1 error occurred outside of examples", tc("rspec", 0, 1, 0, 1)],
    ["FAILURES!\nTests: 5, Assertions: 9, Failures: 1.", tc("phpunit", 4, 1, 0, 5)],
    ["ERRORS!\nTests: 6, Assertions: 9, Errors: 1, Failures: 1, Incomplete: 1.", tc("phpunit", 3, 2, 1, 6)],
    ["OK, but there were issues!\nTests: 2, Assertions: 2, PHPUnit Deprecations: 1.", tc("phpunit", 2, 0, 0, 2)],
    ["OK (1 test, 1 assertion)", tc("phpunit", 1, 0, 0, 1)],
    ["3 passed, 1 failed", tc("generic", 3, 1, 0, 4)],
    ["Results: 3 passed, 1 failed, 2 skipped.", tc("generic", 3, 1, 2, 6)],
  ])("%j", (output, expected) => {
    expect(parseTestCounts(output)).toEqual(expected);
  });

  it("counts TAP results against a plan that promised more (the producer died)", () => {
    expect(parseTestCounts("TAP version 13\nok 1 - a\nnot ok 2 - b\n1..5\n")).toEqual(tc("tap", 1, 1, 0, 5));
  });

  it("takes only the last TAP stream when several were printed", () => {
    const out = "TAP version 13\nok 1 - a\nnot ok 2 - b\n1..2\nTAP version 13\nok 1 - c\n1..1\n";
    expect(parseTestCounts(out)).toEqual(tc("tap", 1, 0, 0, 1));
  });
});

describe("parseTestCounts across several summaries", () => {
  it("takes the last summary when a monorepo runs two vitest suites", () => {
    const out = [
      "> @app/core test",
      "      Tests  10 passed (10)",
      "   Duration  1.2s",
      "> @app/web test",
      "      Tests  1 failed | 4 passed (5)",
      "   Duration  0.8s",
    ].join("\n");
    expect(parseTestCounts(out)).toEqual(tc("vitest", 4, 1, 0, 5));
  });

  it("takes the last summary when two different runners ran", () => {
    const out = "Tests:       3 passed, 3 total\n...\n==== 1 failed, 1 passed in 0.2s ====\n";
    expect(parseTestCounts(out)).toEqual(tc("pytest", 1, 1, 0, 2));
  });

  it("sums cargo result lines across crates", () => {
    const line = (p: number, f: number, i: number): string =>
      `test result: ${f > 0 ? "FAILED" : "ok"}. ${p} passed; ${f} failed; ${i} ignored; 0 measured; 0 filtered out; finished in 0.00s`;
    const out = ["running 4 tests", line(3, 1, 0), "running 2 tests", line(1, 0, 1), "running 0 tests", line(0, 0, 0)].join("\n");
    expect(parseTestCounts(out)).toEqual(tc("cargo", 4, 1, 1, 6));
  });

  it("does not let node's spec block be mistaken for a TAP plan count", () => {
    const out = fixture("node-tap-fail.txt");
    expect(parseTestCounts(out)?.runner).toBe("node");
  });
});

describe("parseTestCounts edge cases", () => {
  it("returns undefined when there is no summary", () => {
    expect(parseTestCounts("")).toBeUndefined();
    expect(parseTestCounts("npm ERR! missing script: test\n")).toBeUndefined();
    expect(parseTestCounts("error TS2322: Type 'string' is not assignable to type 'number'.\n")).toBeUndefined();
  });

  it("is not fooled by count-like words inside ordinary log lines", () => {
    const out = [
      "[info] 3 passed to function validate(), 1 failed on retry",
      "debug: arguments 3 passed, 1 failed to parse at offset 7",
      "Resolved 12 packages in 0.4s",
      "for i in 1..3 { ok(i) }",
      "1..3",
      "The tests: 4 total were planned",
      "We had 3 passing (ish) results",
      "--- PASS: TestFake (0.00s)", // no `=== RUN`: not go test -v output
    ].join("\n");
    expect(parseTestCounts(out)).toBeUndefined();
  });

  it("does not read vitest's `Test Files` line as tests", () => {
    expect(parseTestCounts(" Test Files  1 failed | 2 passed (3)\n")).toBeUndefined();
  });

  it("reads an all-skipped run", () => {
    expect(parseTestCounts(" Test Files  1 skipped (1)\n      Tests  1 skipped | 1 todo (2)\n")).toEqual(tc("vitest", 0, 0, 2, 2));
    expect(parseTestCounts("==== 4 skipped in 0.02s ====")).toEqual(tc("pytest", 0, 0, 4, 4));
  });

  it("reads runs of zero tests as total 0", () => {
    expect(parseTestCounts("      Tests  no tests\n")).toEqual(tc("vitest", 0, 0, 0, 0));
    expect(parseTestCounts("==== no tests ran in 0.01s ====")).toEqual(tc("pytest", 0, 0, 0, 0));
    expect(parseTestCounts("  0 passing (1ms)\n")).toEqual(tc("mocha", 0, 0, 0, 0));
  });

  it("scans only the tail of huge output", () => {
    const summary = "Tests:       2 failed, 8 passed, 10 total\n";
    const early = "==== 1 passed in 0.1s ====\n";
    const filler = "x".repeat(79) + "\n";
    const out = early + filler.repeat(Math.ceil(SCAN_TAIL_CHARS / 80) + 10) + summary;
    expect(parseTestCounts(out)).toEqual(tc("jest", 8, 2, 0, 10));
    expect(parseTestCounts(early + filler.repeat(Math.ceil(SCAN_TAIL_CHARS / 80) + 10))).toBeUndefined();
  });

  it("stays fast on hostile lines that fill the scanned tail", () => {
    const lines = ["=".repeat(500), "= ".repeat(250) + "x", " in 1".repeat(100) + "x", "Tests  " + "1 passed | ".repeat(45), "Tests:  " + "1 x, ".repeat(100)];
    const hostile = lines.map((line) => `${line}\n`.repeat(25)).join("");
    expect(hostile.length).toBeLessThanOrEqual(SCAN_TAIL_CHARS);
    const started = performance.now();
    expect(parseTestCounts(hostile)).toBeUndefined();
    expect(performance.now() - started).toBeLessThan(1000);
  });
});

describe("criterionScore", () => {
  it("is 1 when the command exited 0, whatever the counts say", () => {
    expect(criterionScore(0, undefined)).toBe(1);
    expect(criterionScore(0, tc("jest", 1, 3, 0, 4))).toBe(1);
  });

  it("is passed/total when the command failed and counts were parsed", () => {
    expect(criterionScore(1, tc("jest", 3, 1, 0, 4))).toBe(0.75);
    expect(criterionScore(null, tc("pytest", 1, 1, 2, 4))).toBe(0.25);
  });

  it("is 0 when the command failed without usable counts", () => {
    expect(criterionScore(1, undefined)).toBe(0);
    expect(criterionScore(1, tc("vitest", 0, 0, 0, 0))).toBe(0);
    expect(criterionScore(null, undefined)).toBe(0);
  });

  it("stays within [0,1] for any counts", () => {
    fc.assert(
      fc.property(fc.option(fc.integer(), { nil: null }), fc.nat(), fc.nat(), fc.nat(), fc.nat(), (code, p, f, s, t) => {
        const score = criterionScore(code, tc("x", p, f, s, t));
        expect(score).toBeGreaterThanOrEqual(0);
        expect(score).toBeLessThanOrEqual(1);
      }),
    );
  });
});

describe("parseTestCounts properties", () => {
  const isCount = (n: number): boolean => Number.isSafeInteger(n) && n >= 0;

  function checkInvariants(output: string): void {
    const counts = parseTestCounts(output);
    if (counts === undefined) return;
    expect([counts.passed, counts.failed, counts.skipped, counts.total].every(isCount)).toBe(true);
    expect(counts.passed + counts.failed + counts.skipped).toBeLessThanOrEqual(counts.total);
  }

  it("never throws and keeps its invariants for arbitrary strings", () => {
    fc.assert(fc.property(fc.string({ unit: "binary", maxLength: 2000 }), checkInvariants), { numRuns: 200 });
  });

  it("keeps its invariants for summary-like lines with arbitrary numbers", () => {
    const num = fc.oneof(fc.nat(), fc.constant(Number.MAX_SAFE_INTEGER), fc.constant(1e30)).map((n) => n.toLocaleString("en-US", { useGrouping: false }));
    const line = fc.oneof(
      fc.tuple(num, num, num, num).map(([a, b, c, d]) => `      Tests  ${a} failed | ${b} passed | ${c} skipped (${d})`),
      fc.tuple(num, num, num).map(([a, b, c]) => `Tests:       ${a} failed, ${b} passed, ${c} total`),
      fc.tuple(num, num, num).map(([a, b, c]) => `${a} examples, ${b} failures, ${c} pending`),
      fc.tuple(num, num, num).map(([a, b, c]) => `Tests: ${a}, Assertions: 1, Failures: ${b}, Skipped: ${c}.`),
      fc.tuple(num, num, num).map(([a, b, c]) => `test result: ok. ${a} passed; ${b} failed; ${c} ignored; 0 measured; 0 filtered out;`),
      fc.tuple(num, num, num).map(([a, b, c]) => `# tests ${a}\n# pass ${b}\n# fail ${c}`),
      fc.tuple(num, num).map(([a, b]) => `==== ${a} failed, ${b} passed in 0.1s ====`),
      fc.tuple(num, num).map(([a, b]) => `  ${a} passing (1ms)\n  ${b} failing`),
      fc.nat(20).map((n) => `1..${n}\n${"ok 1\nnot ok 2 # TODO\n".repeat(n)}`),
    );
    fc.assert(fc.property(fc.array(line, { maxLength: 5 }), (lines) => checkInvariants(lines.join("\n"))), { numRuns: 500 });
  });
});
