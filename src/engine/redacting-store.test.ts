import { afterEach, describe, expect, it } from "vitest";
import { FAKE_ENV } from "../../test/support/fake-secrets.js";
import { runCreated } from "../../test/support/store-conformance.js";
import { createRedactor } from "../core/redact.js";
import { openSqliteStore } from "../store/sqlite/open.js";
import { StaleWriterError } from "../store/errors.js";
import type { Store } from "../store/store.js";
import { redactingStore } from "./redacting-store.js";

const stores: Store[] = [];
afterEach(async () => {
  await Promise.all(stores.splice(0).map((s) => s.close()));
});

describe("redactingStore", () => {
  it("journals every event redacted, through append and ingest, and its projections with it", async () => {
    const inner = await openSqliteStore({ path: ":memory:" });
    stores.push(inner);
    const store = redactingStore(inner, createRedactor(FAKE_ENV));
    const ids = { runId: "r1", taskId: "fix", attemptId: "r1.fix.1" };
    const token = FAKE_ENV.GITHUB_TOKEN;
    await store.append([
      runCreated("r1"),
      { type: "task.created", runId: "r1", taskId: "fix", data: { title: "fix", goal: "g", criteria: ["psql postgres://u:hunter22@db -c 'select 1'"], branch: "b", worktree: "/wt" } },
      { type: "task.started", runId: "r1", taskId: "fix", data: {} },
      { type: "attempt.started", ...ids, data: { number: 1, agent: "command", transcript: "/t.jsonl" } },
    ]);
    await store.ingest([{ type: "agent.emitted", ...ids, data: { type: "text", text: `GITHUB_TOKEN=${token}` } }]);
    await store.append([
      { type: "attempt.exited", ...ids, data: { exitCode: 0, signal: null, reason: "exited", durationMs: 5, stderrTail: `token ${token}` } },
      {
        type: "verify.completed",
        ...ids,
        data: { progress: 0, criteria: [{ command: "env", exitCode: 1, passed: false, score: 0, durationMs: 1, timedOut: false, outputTail: `GITHUB_TOKEN=${token}\n` }] },
      },
      { type: "attempt.finished", ...ids, data: { outcome: "failed", progress: 0, failure: { kind: "verify_failed", detail: `\`env\` printed ${token}` } } },
    ]);

    const events = JSON.stringify(await store.readEvents({ runId: "r1" }));
    expect(events).not.toContain(token);
    expect(events).toContain("GITHUB_TOKEN=[redacted:GITHUB_TOKEN]");
    const [attempt] = await store.listAttempts({ runId: "r1" });
    expect(attempt?.criteria?.[0]?.outputTail).toBe("GITHUB_TOKEN=[redacted:GITHUB_TOKEN]\n");
    expect(attempt?.failure?.detail).toBe("`env` printed [redacted:GITHUB_TOKEN]");
    // The run and its tasks are kept as asked for: their commands are run from the journal.
    expect((await store.getRun("r1"))?.criteria).toEqual(["npm test"]);
    expect((await store.getTask("r1", "fix"))?.criteria).toEqual(["psql postgres://u:hunter22@db -c 'select 1'"]);
  });

  it("passes the lease fence through: a stale supervisor's write is refused", async () => {
    const inner = await openSqliteStore({ path: ":memory:" });
    stores.push(inner);
    const store = redactingStore(inner, createRedactor(FAKE_ENV));
    await store.append([runCreated("r1")]);
    const first = await store.acquireLease("r1", { owner: "a", until: 10_000, now: 1_000 });
    if (!first.acquired) throw new Error("the first claim must win");
    await store.acquireLease("r1", { owner: "b", until: 20_000, now: 2_000, replacing: "a" });
    const note = { type: "run.noted" as const, runId: "r1", data: { message: "from a stale supervisor" } };
    await expect(store.append([note], { fence: { runId: "r1", fence: first.fence } })).rejects.toThrow(StaleWriterError);
    await expect(store.ingest([note], { fence: { runId: "r1", fence: first.fence } })).rejects.toThrow(StaleWriterError);
    expect(await store.readEvents({ runId: "r1", types: ["run.noted"] })).toEqual([]);
  });
});
