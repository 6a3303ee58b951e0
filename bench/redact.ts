// Redaction, the cost every agent line now pays: 200k typical stream-json lines (the ingest benchmark's) run
// through the run's redactor three ways — each line alone (`redact`), the raw stdout in 64 KiB chunks (the
// transcript's `RedactingStream`), and each parsed event's strings (`redactDeep`, the journal's) — with an
// environment holding a few secrets; and the whole stdout path of an attempt (`RedactedStdout`: decode, redact,
// encode, split into lines) against the line splitter alone, which is what that path did before. Baseline,
// same run: `JSON.parse` of the same lines, the least a parser does. Targets: each way of redacting ≥ 1M lines/s,
// so that at the ingest goal of 100k events/s it takes under 10% of one core; the whole stdout path ≥ 500k
// lines/s (under 20%: it also decodes, re-encodes and splits, which the line splitter alone did before).
import { createRedactor } from "../src/core/redact.js";
import { RedactingStream } from "../src/core/redact-stream.js";
import { RedactedStdout } from "../src/engine/agent-stdout.js";
import { LineSplitter } from "../src/process/line-splitter.js";
import { fakeLine } from "./fixtures/lines.js";
import { isMain, runBenchMain, say } from "./support/main.js";
import { baseline, formatValue, type BenchResult, type Metric } from "./support/result.js";

const LINES = Number(process.env.ORCH_BENCH_LINES ?? 200_000);
const TARGET_RATE = 1_000_000;
const TARGET_STDOUT_RATE = 500_000;
const CHUNK = 64 * 1024;
const ROUNDS = 5;

/** A user's environment: ordinary variables and a few secrets, fake and built here. */
function environment(): Record<string, string> {
  const fake = (prefix: string, length: number) => prefix + "q7Xk2".repeat(Math.ceil(length / 5)).slice(0, length);
  return {
    PATH: "/usr/local/bin:/usr/bin:/bin",
    HOME: "/home/dev",
    LANG: "C.UTF-8",
    ANTHROPIC_API_KEY: fake("sk-ant-api03-", 95),
    OPENAI_API_KEY: fake("sk-proj-", 120),
    GITHUB_TOKEN: fake("ghp_", 36),
    NPM_TOKEN: fake("npm_", 36),
    DATABASE_PASSWORD: fake("", 24),
    CLAUDE_CODE_USE_BEDROCK: "0",
  };
}

/** The best of `ROUNDS` timings of `work`, in lines per second. */
function rate(work: () => number): number {
  let best = Number.POSITIVE_INFINITY;
  let sink = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const start = performance.now();
    sink += work();
    best = Math.min(best, performance.now() - start);
  }
  if (sink < 0) say("unreachable");
  return LINES / (best / 1000);
}

export async function benchRedact(): Promise<BenchResult> {
  const redactor = createRedactor(environment());
  const lines = Array.from({ length: LINES }, (_, i) => fakeLine(i));
  const events = lines.map((line) => ({ type: "text", text: line.slice(60, 140) }));
  const raw = `${lines.join("\n")}\n`;
  // One secret in a thousand lines, so that the replacing path is timed too.
  for (let i = 0; i < LINES; i += 1000) lines[i] = JSON.stringify({ type: "assistant", seq: i, text: `GITHUB_TOKEN=${environment().GITHUB_TOKEN ?? ""}` });

  const parseRate = rate(() => lines.reduce((n, line) => n + (JSON.parse(line) === null ? 0 : 1), 0));
  const lineRate = rate(() => lines.reduce((n, line) => n + redactor.redact(line).length, 0));
  const deepRate = rate(() => events.reduce((n, event) => n + redactor.redactDeep(event).text.length, 0));
  const streamRate = rate(() => {
    const stream = new RedactingStream(redactor);
    let n = 0;
    for (let at = 0; at < raw.length; at += CHUNK) n += stream.push(raw.slice(at, at + CHUNK)).length;
    return n + stream.end().length;
  });

  const bytes = Buffer.from(raw, "utf8");
  const chunked = (feed: (chunk: Buffer) => void): void => {
    for (let at = 0; at < bytes.length; at += CHUNK) feed(bytes.subarray(at, at + CHUNK));
  };
  const splitRate = rate(() => {
    let n = 0;
    const splitter = new LineSplitter((line) => (n += line.length));
    chunked((chunk) => splitter.push(chunk));
    splitter.flush();
    return n;
  });
  const stdoutRate = rate(() => {
    let n = 0;
    const stdout = new RedactedStdout(redactor, (written) => (n += written.length), (line) => (n += line.length));
    chunked((chunk) => stdout.push(chunk));
    stdout.end();
    return n;
  });

  const metric = (label: string, figure: number): Metric => ({
    bench: "redact",
    label,
    figure,
    unit: "per_s",
    baselines: [baseline("JSON.parse", parseRate, "per_s", figure)],
    target: `≥ ${formatValue(TARGET_RATE, "per_s")}`,
    pass: figure >= TARGET_RATE,
  });
  return {
    name: "redact",
    metrics: [
      metric(`lines/s redacted one by one (${LINES} lines)`, lineRate),
      metric("lines/s redacted as a 64 KiB-chunk stream", streamRate),
      metric("events/s redacted field by field", deepRate),
      {
        ...metric("lines/s through an attempt's stdout path (decode, redact, split)", stdoutRate),
        baselines: [baseline("line splitter alone", splitRate, "per_s", stdoutRate), baseline("JSON.parse", parseRate, "per_s", stdoutRate)],
        target: `≥ ${formatValue(TARGET_STDOUT_RATE, "per_s")}`,
        pass: stdoutRate >= TARGET_STDOUT_RATE,
      },
    ],
    notes: [`redact: window ${redactor.window} chars; best of ${ROUNDS} rounds each`],
  };
}

if (isMain(import.meta.url)) {
  say(`redact: ${LINES} lines…`);
  await runBenchMain(benchRedact);
}
