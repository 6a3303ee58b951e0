// Test counts read from the summary lines test runners print, and the partial score they give a verify
// command. Pure; every result keeps 0 <= passed + failed + skipped <= total, all non-negative integers.

export interface TestCounts {
  passed: number;
  failed: number;
  skipped: number;
  total: number;
  /** vitest | jest | mocha | node | tap | pytest | go | cargo | rspec | phpunit | generic */
  runner: string;
}

/** The summary is printed last; scanning only the tail bounds the work on huge logs. */
export const SCAN_TAIL_CHARS = 64 * 1024;

/** A summary found at a line: where it ends decides which summary is the last one. */
interface Found {
  line: number;
  counts: TestCounts;
}

type Detector = (lines: readonly string[]) => Found[];

/** Runners that print one summary per crate or per test, so a whole run is the sum of them. */
const SUMMED_RUNNERS: ReadonlySet<string> = new Set(["cargo", "go"]);

// CSI (colours, cursor, private modes), OSC (titles, links), charset designations like `ESC ( B`
// that tput emits after colours, and the remaining two-byte escapes.
const ANSI = /\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)|[()*+][0-9A-Za-z]|[@-Z\\-_])/g;

const MAX_LINE_CHARS = 512;

/** Counts above this are not real test counts; the cap keeps sums exact integers. */
const MAX_COUNT = 1e12;

/** The counts from the last recognisable summary in a command's output, or undefined when none is found. */
export function parseTestCounts(output: string): TestCounts | undefined {
  const lines = toLines(output);
  const found: { runner: string; line: number; counts: TestCounts; rank: number }[] = [];
  DETECTORS.forEach((detect, rank) => {
    for (const f of detect(lines)) found.push({ ...f, runner: f.counts.runner, rank });
  });
  let last: (typeof found)[number] | undefined;
  for (const f of found) {
    // On the same line the earlier (more specific) detector wins.
    if (last === undefined || f.line > last.line || (f.line === last.line && f.rank < last.rank)) last = f;
  }
  if (last === undefined) return undefined;
  if (!SUMMED_RUNNERS.has(last.runner)) return last.counts;
  const sum = { passed: 0, failed: 0, skipped: 0, total: 0 };
  for (const f of found) {
    if (f.runner !== last.runner) continue;
    sum.passed += f.counts.passed;
    sum.failed += f.counts.failed;
    sum.skipped += f.counts.skipped;
    sum.total += f.counts.total;
  }
  return { ...sum, runner: last.runner };
}

/**
 * A criterion's score in [0,1]: 1 when the command exited 0; passed/total when counts were parsed and
 * total > 0; else 0.
 */
export function criterionScore(exitCode: number | null, counts: TestCounts | undefined): number {
  if (exitCode === 0) return 1;
  if (counts === undefined || !(counts.total > 0)) return 0;
  const score = counts.passed / counts.total;
  return Number.isFinite(score) ? Math.min(1, Math.max(0, score)) : 0;
}

function toLines(output: string): string[] {
  let text = output;
  if (text.length > SCAN_TAIL_CHARS) {
    text = text.slice(-SCAN_TAIL_CHARS);
    // The first line was cut part-way (perhaps inside an escape sequence): drop it.
    const newline = text.indexOf("\n");
    text = newline === -1 ? "" : text.slice(newline + 1);
  }
  // A lone \r is a terminal overwrite (progress lines); each piece is a line of its own. Summaries are
  // short, so longer lines are blanked: that also keeps every pattern below cheap on hostile input.
  return text
    .replace(ANSI, "")
    .split(/\r\n|\r|\n/)
    .map((line) => (line.length > MAX_LINE_CHARS ? "" : line));
}

function count(digits: string | undefined): number | undefined {
  if (digits === undefined) return undefined;
  const n = Number(digits);
  return Number.isInteger(n) && n >= 0 && n <= MAX_COUNT ? n : undefined;
}

function counts(runner: string, passed: number, failed: number, skipped: number, total = 0): TestCounts {
  const p = Math.max(0, passed);
  const f = Math.max(0, failed);
  const s = Math.max(0, skipped);
  return { passed: p, failed: f, skipped: s, total: Math.max(total, p + f + s), runner };
}

/** Splits `"1 failed, 3 passed"`-style lists into words and numbers; undefined if any item has another shape. */
function items(text: string, separator: string): Map<string, number> | undefined {
  const out = new Map<string, number>();
  for (const part of text.split(separator)) {
    const m = /^(\d+) ([a-z]+(?: [a-z]+)?)$/.exec(part.trim());
    const n = count(m?.[1]);
    if (m === null || n === undefined) return undefined;
    const word = m[2] ?? "";
    out.set(word, (out.get(word) ?? 0) + n);
  }
  return out;
}

function get(map: Map<string, number>, ...words: string[]): number {
  return words.reduce((sum, w) => sum + (map.get(w) ?? 0), 0);
}

/** Runs `match` on each line and keeps the summaries it recognises, at that line. */
function eachLine(lines: readonly string[], match: (line: string) => TestCounts | undefined): Found[] {
  const out: Found[] = [];
  lines.forEach((line, i) => {
    const c = match(line);
    if (c !== undefined) out.push({ line: i, counts: c });
  });
  return out;
}

// vitest: `      Tests  1 failed | 3 passed | 2 skipped | 1 todo (7)`; the total in parentheses.
const vitest: Detector = (lines) =>
  eachLine(lines, (line) => {
    const m = /^\s*Tests\s+(.*?)(?:\s+\((\d+)\))?\s*$/.exec(line);
    if (m === null) return undefined;
    if (m[1] === "no tests") return counts("vitest", 0, 0, 0);
    const map = items(m[1] ?? "", " | ");
    const known = ["failed", "passed", "expected fail", "skipped", "todo"];
    if (map === undefined || ![...map.keys()].every((k) => known.includes(k))) return undefined;
    const passed = get(map, "passed", "expected fail");
    return counts("vitest", passed, get(map, "failed"), get(map, "skipped", "todo"), count(m[2]));
  });

// jest: `Tests:       1 failed, 1 skipped, 1 todo, 3 passed, 6 total`.
const jest: Detector = (lines) =>
  eachLine(lines, (line) => {
    const m = /^\s*Tests:\s+(?:(.*), )?(\d+) total\s*$/.exec(line);
    const total = count(m?.[2]);
    if (m === null || total === undefined) return undefined;
    const map = m[1] === undefined ? new Map<string, number>() : items(m[1], ", ");
    const known = ["failed", "skipped", "todo", "passed"];
    if (map === undefined || ![...map.keys()].every((k) => known.includes(k))) return undefined;
    return counts("jest", get(map, "passed"), get(map, "failed"), get(map, "skipped", "todo"), total);
  });

// mocha: `  3 passing (12ms)`, then `  2 pending` and `  1 failing` on the lines right after it.
const mocha: Detector = (lines) => {
  const out: Found[] = [];
  lines.forEach((line, i) => {
    const passing = count(/^\s*(\d+) passing \(\d+(?:\.\d+)?(?:ms|s|m|h|d)\)\s*$/.exec(line)?.[1]);
    if (passing === undefined) return;
    let pending = 0;
    let failing = 0;
    let end = i;
    for (let j = i + 1; j <= i + 2; j++) {
      const m = /^\s*(\d+) (pending|failing)\s*$/.exec(lines[j] ?? "");
      const n = count(m?.[1]);
      if (m === null || n === undefined) break;
      if (m[2] === "pending") pending = n;
      else failing = n;
      end = j;
    }
    out.push({ line: end, counts: counts("mocha", passing, failing, pending) });
  });
  return out;
};

// node --test (tap: `# tests 4`, spec: `ℹ tests 4`) and tape (`# pass  3`): a block of key/number lines.
const nodeOrTape: Detector = (lines) => {
  const out: Found[] = [];
  let block = new Map<string, number>();
  let prefix = "";
  const close = (end: number): void => {
    const tests = block.get("tests");
    if (tests !== undefined && block.has("pass")) {
      const nodeOnly = prefix === "ℹ" || ["suites", "cancelled", "duration_ms"].some((k) => block.has(k));
      const failed = get(block, "fail", "cancelled");
      const skipped = get(block, "skipped", "skip", "todo");
      out.push({ line: end, counts: counts(nodeOnly ? "node" : "tap", get(block, "pass"), failed, skipped, tests) });
    }
    block = new Map();
  };
  lines.forEach((line, i) => {
    const m = /^(#|ℹ) (tests|suites|pass|fail|cancelled|skipped|skip|todo|duration_ms) +(\d+)(?:\.\d+)?\s*$/.exec(line);
    const n = count(m?.[3]);
    if (m === null || n === undefined) {
      close(i - 1);
      return;
    }
    if (block.size === 0) prefix = m[1] ?? "";
    block.set(m[2] ?? "", n);
  });
  close(lines.length - 1);
  return out;
};

// TAP without a summary: count top-level `ok`/`not ok` lines of the stream that has the last `1..N` plan.
const tapPlan: Detector = (lines) => {
  let plan = -1;
  for (let i = lines.length - 1; i >= 0 && plan === -1; i--) if (/^1\.\.\d+\s*(?:#.*)?$/.test(lines[i] ?? "")) plan = i;
  const planned = count(/^1\.\.(\d+)/.exec(lines[plan] ?? "")?.[1]);
  if (planned === undefined) return [];
  const isBoundary = (line: string): boolean => /^(?:TAP version \d+|1\.\.\d+)/.test(line);
  const isResult = (line: string): boolean => /^(?:not )?ok\b/.test(line);
  let start = plan;
  while (start > 0 && !isBoundary(lines[start - 1] ?? "")) start--;
  let end = plan;
  const trailing = lines.slice(start, plan).some(isResult);
  if (!trailing) {
    start = plan + 1;
    while (end + 1 < lines.length && !isBoundary(lines[end + 1] ?? "")) end++;
  }
  let passed = 0;
  let failed = 0;
  let skipped = 0;
  let lastResult = plan;
  for (let i = start; i <= end; i++) {
    const line = lines[i] ?? "";
    if (!isResult(line)) continue;
    lastResult = i;
    if (/#\s*(?:SKIP|TODO)\b/i.test(line)) skipped++;
    else if (line.startsWith("not ok")) failed++;
    else passed++;
  }
  if (passed + failed + skipped === 0) return []; // a lone `1..3` line is not a TAP stream
  return [{ line: Math.max(plan, lastResult), counts: counts("tap", passed, failed, skipped, planned) }];
};

// pytest: `==== 1 failed, 3 passed, 1 skipped, 1 error in 0.12s ====`, or the -q form without the rules;
// pytest before 5.0 wrote `in 0.12 seconds`.
const PYTEST_WORDS = ["passed", "xpassed", "failed", "error", "errors", "skipped", "xfailed", "deselected"]
  .concat(["warning", "warnings", "rerun"]);
const pytest: Detector = (lines) =>
  eachLine(lines, (line) => {
    const m = /^[= ]*(.*?) in \d+(?:\.\d+)? ?s(?:econds)?(?: \(\d+:\d\d:\d\d\))?[= ]*$/.exec(line);
    if (m === null) return undefined;
    if (m[1] === "no tests ran") return counts("pytest", 0, 0, 0);
    const map = items(m[1] ?? "", ", ");
    if (map === undefined || ![...map.keys()].some((k) => PYTEST_WORDS.includes(k))) return undefined;
    // xfailed tests are known to be broken: not a pass, not a failure.
    const failed = get(map, "failed", "error", "errors");
    return counts("pytest", get(map, "passed", "xpassed"), failed, get(map, "skipped", "xfailed"));
  });

// go test -v: one `--- PASS: TestName (0.00s)` line per test and subtest; summed over the run.
const go: Detector = (lines) => {
  // Without -v passing tests print nothing, so the lines alone would undercount them.
  if (!lines.some((line) => line.startsWith("=== RUN "))) return [];
  return eachLine(lines, (line) => {
    const m = /^\s*--- (PASS|FAIL|SKIP): \S+ \(\d+(?:\.\d+)?s\)\s*$/.exec(line);
    if (m === null) return undefined;
    return counts("go", m[1] === "PASS" ? 1 : 0, m[1] === "FAIL" ? 1 : 0, m[1] === "SKIP" ? 1 : 0);
  });
};

// cargo test: `test result: FAILED. 3 passed; 1 failed; 0 ignored; 0 measured; 0 filtered out; ...`, per target.
const cargo: Detector = (lines) =>
  eachLine(lines, (line) => {
    const m = /^test result: (?:ok|FAILED)\. (\d+) passed; (\d+) failed; (\d+) ignored; \d+ measured; \d+ filtered out/
      .exec(line);
    const [passed, failed, ignored] = [count(m?.[1]), count(m?.[2]), count(m?.[3])];
    if (passed === undefined || failed === undefined || ignored === undefined) return undefined;
    return counts("cargo", passed, failed, ignored);
  });

// RSpec: `5 examples, 1 failure, 1 pending`, maybe `, 1 error occurred outside of examples`.
const rspec: Detector = (lines) =>
  eachLine(lines, (line) => {
    const m = /^(\d+) examples?, (\d+) failures?(?:, (\d+) pending)?(?:, (\d+) errors? occurred outside of examples)?\s*$/
      .exec(line);
    const [examples, failures] = [count(m?.[1]), count(m?.[2])];
    if (examples === undefined || failures === undefined) return undefined;
    const [pending, errors] = [count(m?.[3]) ?? 0, count(m?.[4]) ?? 0];
    return counts("rspec", examples - failures - pending, failures + errors, pending, examples + errors);
  });

// PHPUnit: `OK (5 tests, 9 assertions)`, or `FAILURES!` then `Tests: 5, Assertions: 9, Failures: 1, Skipped: 1.`
const phpunit: Detector = (lines) =>
  eachLine(lines, (line) => {
    const ok = count(/^OK \((\d+) tests?, \d+ assertions?\)\s*$/.exec(line)?.[1]);
    if (ok !== undefined) return counts("phpunit", ok, 0, 0, ok);
    const m = /^Tests: (\d+), Assertions: \d+((?:, [A-Z][A-Za-z ]*: \d+)*)\.\s*$/.exec(line);
    const tests = count(m?.[1]);
    if (m === null || tests === undefined) return undefined;
    const map = new Map<string, number>();
    for (const [, key, n] of (m[2] ?? "").matchAll(/, ([A-Za-z ]+): (\d+)/g)) map.set(key ?? "", count(n) ?? 0);
    const failed = get(map, "Errors", "Failures");
    const skipped = get(map, "Skipped", "Incomplete");
    return counts("phpunit", tests - failed - skipped, failed, skipped, tests);
  });

// The plain `3 passed, 1 failed` (`, 2 skipped`), alone on its line or after one `Word:`.
const generic: Detector = (lines) =>
  eachLine(lines, (line) => {
    const m = /^\s*(?:[A-Za-z]+:\s*)?(\d+) passed, (\d+) failed(?:, (\d+) skipped)?\.?\s*$/.exec(line);
    const [passed, failed] = [count(m?.[1]), count(m?.[2])];
    if (passed === undefined || failed === undefined) return undefined;
    return counts("generic", passed, failed, count(m?.[3]) ?? 0);
  });

/** In order of specificity: on a tie for the last line, the earlier one wins. */
const DETECTORS: readonly Detector[] = [
  cargo, go, vitest, jest, phpunit, rspec, nodeOrTape, tapPlan, mocha, pytest, generic,
];
