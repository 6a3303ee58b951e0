// The loop's folding writer: every event reaches the journal, and the loop's state is the journal's, while a run of
// agent text lines is folded once (its last line), not line by line.
import { describe, expect, it } from "vitest";
import type { NewEvent, StoredEvent } from "../core/journal.js";
import type { LoopEvent } from "../core/task-loop.js";
import { foldingWriter } from "./converge.js";
import type { JournalWriter } from "./event-writer.js";

function recorder(): JournalWriter & { events: NewEvent[] } {
  const events: NewEvent[] = [];
  return {
    events,
    push: (event) => void events.push(event),
    write: (...written) => {
      events.push(...written);
      return Promise.resolve(written.map((e, i) => ({ ...e, seq: i, at: e.at ?? 0 }) as StoredEvent));
    },
    writeUnlessStopped: (...written) => {
      events.push(...written);
      return Promise.resolve(undefined);
    },
    flush: () => Promise.resolve(),
  };
}

const ids = { runId: "r", taskId: "t", attemptId: "r.t.1" };
const line = (i: number): NewEvent => ({ type: "agent.emitted", ...ids, data: { type: "text", text: `line ${i}` } });

describe("foldingWriter", () => {
  it("folds a run of 10,000 text lines once, before the next other event, and journals every one of them", async () => {
    const inner = recorder();
    const folded: LoopEvent[] = [];
    const writer = foldingWriter(inner, () => 5, (event) => folded.push(event));
    writer.push({ type: "agent.emitted", ...ids, data: { type: "session.started", sessionId: "s" } });
    for (let i = 0; i < 10_000; i++) writer.push(line(i));
    expect(folded.map((e) => e.type)).toEqual(["agent.emitted"]);
    writer.push({ type: "agent.emitted", ...ids, data: { type: "tool.called", name: "Bash", summary: "ls" } });
    for (let i = 10_000; i < 10_005; i++) writer.push(line(i));
    await writer.write({ type: "attempt.exited", ...ids, data: { exitCode: 0, signal: null, reason: "exited", durationMs: 1 } });
    expect(folded.map((e) => (e.type === "agent.emitted" ? e.data.type : e.type))).toEqual(["session.started", "text", "tool.called", "text", "attempt.exited"]);
    expect(folded.filter((e) => e.type === "agent.emitted" && e.data.type === "text").map((e) => (e.type === "agent.emitted" && e.data.type === "text" ? e.data.text : ""))).toEqual([
      "line 9999",
      "line 10004",
    ]);
    expect(inner.events).toHaveLength(1 + 10_005 + 1 + 1);
    expect(inner.events.every((e) => e.at === 5)).toBe(true);
  });

  it("settle folds a held line at once: the loop reads its state only after settling", () => {
    const folded: LoopEvent[] = [];
    const writer = foldingWriter(recorder(), () => 5, (event) => folded.push(event));
    writer.push(line(1));
    expect(folded).toHaveLength(0);
    writer.settle();
    writer.settle();
    expect(folded).toHaveLength(1);
  });
});
