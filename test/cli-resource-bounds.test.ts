// Resource bounds of long runs, end to end through the built CLI with the `command` agent: an agent whose
// process tree passes --max-agent-memory is stopped and classified `crashed` with the figures, and the run
// recovers; a small transcriptMaxMb in orch.config.yaml rotates the attempt's transcript into gzip parts
// that read back whole; the journal stays within 1.5 bytes per byte of agent output; a line longer than 1 MiB is
// cut there with a marker, in the transcript as in the journal. afterEach fails a test that leaves a process running.
import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { readTranscript } from "../src/process/rotating-log.js";
import { isRunning, parseEventLines, parseRunResult, type EventJson } from "./support/cli.js";
import { fixtureAgent as agent, useSandboxes, type OrchSandbox } from "./support/e2e.js";

const GOAL = "make the failing test pass";
const FILES = {
  "sum.mjs": "export function sum(a, b) {\n  return a - b;\n}\n",
  "test.mjs": 'import { sum } from "./sum.mjs";\nprocess.exit(sum(2, 3) === 5 ? 0 : 1);\n',
};
const MB = 1024 * 1024;

const sandboxes = useSandboxes({ prefix: "orch-cli-bounds-", graceMs: 3_000 });

async function orchRun(box: OrchSandbox, args: readonly string[], expectedCode: number) {
  const result = await box.orch(["run", GOAL, "--verify", "node test.mjs", ...args, "--json"]);
  expect(result.code, `exit code; stderr:\n${result.stderr}`).toBe(expectedCode);
  return parseRunResult(result);
}

async function journal(box: OrchSandbox, runId: string): Promise<EventJson[]> {
  const result = await box.orch(["logs", runId, "--json"]);
  expect(result.code, result.stderr).toBe(0);
  return parseEventLines(result.stdout);
}

const ExitedData = z.object({
  reason: z.string(),
  peakRssBytes: z.number().optional(),
  failure: z.object({ kind: z.string(), detail: z.string() }).optional(),
});
const CreatedData = z.object({ limits: z.object({ agentMaxRssBytes: z.number().optional(), transcriptMaxMb: z.number(), transcriptKeep: z.number() }) });
const StartedData = z.object({ transcript: z.string() });
const TextData = z.object({ type: z.literal("text"), text: z.string() });

const ofType = <T>(events: readonly EventJson[], type: string, schema: z.ZodType<T>): T[] =>
  events.filter((event) => event.type === type).map((event) => schema.parse(event.data));

describe("orch run: resource bounds", () => {
  it("--max-agent-memory stops an agent whose process tree grows past it, as crashed with the figures; the next attempt converges", async () => {
    const box = sandboxes.orchRepo(FILES);
    const json = await orchRun(box, ["--agent-command", agent("memory-hog-once.sh"), "--max-agent-memory", "100m"], 0);
    expect(json).toMatchObject({ status: "succeeded", attempts: 2 });
    expect(isRunning(Number(readFileSync(join(box.out, "hog.1"), "utf8").trim()))).toBe(false);

    const events = await journal(box, json.runId);
    expect(ofType(events, "run.created", CreatedData)[0]?.limits).toEqual({ agentMaxRssBytes: 100 * MB, transcriptMaxMb: 64, transcriptKeep: 10 });
    const [first, second] = ofType(events, "attempt.exited", ExitedData);
    expect(first?.reason).toBe("memory");
    expect(first?.peakRssBytes).toBeGreaterThan(100 * MB);
    expect(first?.failure?.kind).toBe("crashed");
    expect(first?.failure?.detail).toMatch(/^its process tree used \d+(\.\d+)? MB, over the 100 MB cap; the agent was stopped$/);
    expect(second).toMatchObject({ reason: "exited" });
    expect(second?.failure).toBeUndefined();
    expect((await box.status(json.runId)).figures).toMatchObject({ failuresByKind: { crashed: 1 }, recovered: 1, escalated: 0 });
  });

  it("transcriptMaxMb in orch.config.yaml rotates the attempt's transcript into gzip parts that read back whole", async () => {
    const box = sandboxes.orchRepo(FILES);
    writeFileSync(join(box.repo.dir, "orch.config.yaml"), "limits:\n  transcriptMaxMb: 0.01\n  transcriptKeep: 100\n  agentMaxRss: 2g\n");
    const json = await orchRun(box, ["--agent-command", agent("verbose-fix.sh")], 0);
    expect(json).toMatchObject({ status: "succeeded", attempts: 1 });

    const events = await journal(box, json.runId);
    expect(ofType(events, "run.created", CreatedData)[0]?.limits).toMatchObject({ agentMaxRssBytes: 2 * 1024 * MB, transcriptMaxMb: 0.01, transcriptKeep: 100 });
    const transcript = ofType(events, "attempt.started", StartedData)[0]?.transcript ?? "";
    const lines: string[] = [];
    for await (const line of readTranscript(transcript)) lines.push(line);
    const expected = [...Array.from({ length: 3000 }, (_, i) => `{"type":"note","n":${i + 1}}`), '{"type":"note","text":"sum fixed"}'];
    expect(lines).toEqual(expected);
    // ~70 KB in parts of at least 10 KB: the first parts are compressed, numbered from 1.
    const first = readFileSync(`${transcript}.1.gz`);
    expect(first.subarray(0, 2)).toEqual(Buffer.from([0x1f, 0x8b]));
    expect(readFileSync(`${transcript}.5.gz`).length).toBeGreaterThan(0);
  });

  it("keeps the journal within 1.5 bytes per byte of agent output, and gives every line back", async () => {
    const lines = 20_000;
    const box = sandboxes.orchRepo(FILES, { AGENT_LINES: String(lines) });
    const result = await box.orch(["run", GOAL, "--verify", "node test.mjs", "--agent-command", agent("spew-fix.sh"), "--json"]);
    expect(result.code, result.stderr).toBe(0);
    const json = parseRunResult(result);
    const events = await journal(box, json.runId);
    const transcript = ofType(events, "attempt.started", StartedData)[0]?.transcript ?? "";
    const output = statSync(transcript).size;
    expect(output).toBeGreaterThan(lines * 160);
    const db = join(box.repo.dir, ".orch", "orch.db");
    const journalBytes = statSync(db).size + (existsSync(`${db}-wal`) ? statSync(`${db}-wal`).size : 0);
    expect(journalBytes / output).toBeLessThanOrEqual(1.5);
    // Every line is an event of its own in `orch logs --json`, in order.
    const texts = events.flatMap((e) => (e.type === "agent.emitted" ? [TextData.parse(e.data).text] : []));
    expect(texts).toHaveLength(lines);
    expect(texts[lines - 1]).toContain(`"seq":${lines - 1},`);
  });

  it("keeps in the journal as much agent output as the transcript keeps, and every state change", async () => {
    const lines = 20_000;
    const box = sandboxes.orchRepo(FILES, { AGENT_LINES: String(lines) });
    writeFileSync(join(box.repo.dir, "orch.config.yaml"), "limits:\n  transcriptMaxMb: 0.01\n  transcriptKeep: 2\n");
    const result = await box.orch(["run", GOAL, "--verify", "node test.mjs", "--agent-command", agent("spew-fix.sh"), "--json"]);
    expect(result.code, result.stderr).toBe(0);
    const json = parseRunResult(result);
    const events = await journal(box, json.runId);
    expect(events.filter((e) => e.type !== "agent.emitted").map((e) => e.type)).toEqual([
      "run.created",
      "task.created",
      "run.started",
      "task.started",
      "attempt.started",
      "attempt.spawned",
      "attempt.exited",
      "verify.completed",
      "attempt.finished",
      // The approval gate let the low-risk commit on by itself.
      "task.assessed",
      "task.integrated",
      "task.finished",
      // The task's worktree, removed once its work was integrated.
      "run.collected",
      "run.finished",
      // Delivery: the sandbox has no remote, so nothing is pushed (one outcome), and the report says so.
      "run.delivered",
    ]);
    const transcript = ofType(events, "attempt.started", StartedData)[0]?.transcript ?? "";
    const kept: string[] = [];
    for await (const line of readTranscript(transcript)) kept.push(line);
    const texts = events.flatMap((e) => (e.type === "agent.emitted" ? [TextData.parse(e.data).text] : []));
    // The newest lines, in order, through the last one; about as many as the transcript's live file and 2 parts hold.
    const seqOf = (line: string | undefined) => Number(/"seq":(\d+),/.exec(line ?? "")?.[1]);
    expect(texts.map(seqOf)).toEqual(Array.from({ length: texts.length }, (_, i) => lines - texts.length + i));
    expect(kept.length).toBeLessThan(300);
    expect(texts.length).toBeGreaterThan(kept.length / 2);
    // The journal keeps the newest transcriptMaxMb × (transcriptKeep + 1) of output data, dropped when the transcript
    // passes a part's size, behind the writer's batches: bounded by a few times that, whatever the agent printed
    // (here 20,000 lines, 1.7 MB of text; measured 54–88 kB kept of a 31 kB target).
    const part = 0.01 * 1024 * 1024;
    const db = new Database(join(box.repo.dir, ".orch", "orch.db"), { readonly: true, fileMustExist: true });
    try {
      const stored = z.object({ chars: z.number() }).parse(db.prepare("SELECT coalesce(sum(length(data)), 0) AS chars FROM events WHERE run_id = ? AND type = 'agent.emitted'").get(json.runId));
      expect(stored.chars).toBeLessThan(part * (2 + 1) * 4);
    } finally {
      db.close();
    }
    expect(texts.length).toBeLessThan(lines / 10);
  });

  it("cuts a 20 MB line without a newline at 1 MiB, with a marker in the transcript and in the journal", async () => {
    const box = sandboxes.orchRepo(FILES, { AGENT_LINES: "10", AGENT_LONG_MB: "20" });
    writeFileSync(join(box.repo.dir, "orch.config.yaml"), "limits:\n  transcriptMaxMb: 1\n");
    const result = await box.orch(["run", GOAL, "--verify", "node test.mjs", "--agent-command", agent("spew-fix.sh"), "--json"]);
    expect(result.code, result.stderr).toBe(0);
    const json = parseRunResult(result);
    const events = await journal(box, json.runId);
    const transcript = ofType(events, "attempt.started", StartedData)[0]?.transcript ?? "";
    const marker = `[orch: line cut at ${MB} bytes; ${19 * MB} more bytes dropped]`;
    const lines: string[] = [];
    for await (const line of readTranscript(transcript)) lines.push(line);
    expect(lines).toHaveLength(11);
    expect(lines[10]).toBe(`${"x".repeat(MB)} ${marker}`);
    expect(statSync(transcript).size).toBeLessThan(MB + 4_096);
    const texts = events.flatMap((e) => (e.type === "agent.emitted" ? [TextData.parse(e.data).text] : []));
    expect(texts).toHaveLength(11);
    expect(texts[10]).toMatch(/^x+\n… \[\d+ characters cut\] …\nx+ \[orch: line cut at/);
    expect(texts[10]?.endsWith(marker)).toBe(true);
  });
});
