// The store contract, as tests any implementation must pass. Each backend's test file calls
// `describeStoreConformance` with a factory that hands out a fresh, empty store.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { NewEvent } from "../../src/core/journal.js";
import { InvalidTransitionError } from "../../src/core/run.js";
import { StaleWriterError, StopRequestedError } from "../../src/store/errors.js";
import type { Store } from "../../src/store/store.js";

export function runCreated(runId: string, at = 1_000): NewEvent {
  return {
    type: "run.created",
    runId,
    at,
    data: {
      goal: "make the tests pass",
      repoRoot: "/repo",
      baseBranch: "main",
      baseSha: "a".repeat(40),
      branch: `orch/${runId}/fix`,
      agent: { agent: "command", model: "m1", fallbackModels: ["m2"] },
      criteria: ["npm test"],
      limits: {
        maxAttempts: 3,
        maxMs: 3_600_000,
        intervalMs: 0,
        stallAttempts: 3,
        stallTimeoutMs: 600_000,
        attemptTimeoutMs: 3_600_000,
        budgetUsd: 5,
      },
      config: { source: "test", agent: { name: "command", command: "true" } },
    },
  };
}

/** A run of one task from start to a succeeded end: one attempt, its usage and cost, verified, committed. */
export function lifecycle(runId: string): NewEvent[] {
  const taskId = "fix";
  const attemptId = `${runId}.fix.1`;
  return [
    { type: "run.started", runId, at: 2_000, data: { pid: 123, pidStartTime: "999", host: "box", detached: false } },
    {
      type: "task.created",
      runId,
      taskId,
      at: 2_001,
      data: { title: "fix", goal: "make the tests pass", criteria: ["npm test"], branch: `orch/${runId}/fix`, worktree: "/wt" },
    },
    { type: "task.started", runId, taskId, at: 2_002, data: {} },
    {
      type: "attempt.started",
      runId,
      taskId,
      attemptId,
      at: 2_003,
      data: { number: 1, agent: "command", model: "m1", transcript: "/logs/a1.jsonl" },
    },
    { type: "attempt.spawned", runId, taskId, attemptId, at: 2_004, data: { pid: 456 } },
    { type: "agent.emitted", runId, taskId, attemptId, at: 2_005, data: { type: "session.started", sessionId: "s-1", model: "m1-real" } },
    { type: "agent.emitted", runId, taskId, attemptId, at: 2_006, data: { type: "text", text: "working" } },
    {
      type: "attempt.exited",
      runId,
      taskId,
      attemptId,
      at: 2_100,
      data: {
        exitCode: 0,
        signal: null,
        reason: "exited",
        durationMs: 97,
        usage: { inputTokens: 100, outputTokens: 20 },
        costUsd: 0.25,
      },
    },
    {
      type: "verify.completed",
      runId,
      taskId,
      attemptId,
      at: 2_200,
      data: {
        progress: 1,
        criteria: [{ command: "npm test", exitCode: 0, passed: true, score: 1, durationMs: 80, timedOut: false, outputTail: "ok" }],
      },
    },
    { type: "attempt.finished", runId, taskId, attemptId, at: 2_201, data: { outcome: "succeeded", progress: 1, commit: "c".repeat(40) } },
    { type: "task.finished", runId, taskId, at: 2_202, data: { status: "succeeded", reason: "all criteria met", commit: "c".repeat(40) } },
    { type: "run.finished", runId, at: 2_203, data: { status: "succeeded", reason: "all criteria met", report: "/r.md" } },
  ];
}

export function describeStoreConformance(name: string, open: () => Promise<Store>): void {
  describe(`store conformance: ${name}`, () => {
    let store: Store;
    beforeEach(async () => {
      store = await open();
    });
    afterEach(async () => {
      await store.close();
    });

    it("creates a pending run from run.created", async () => {
      const [stored] = await store.append([runCreated("r1")]);
      expect(stored?.seq).toBeGreaterThan(0);
      const run = await store.getRun("r1");
      expect(run).toMatchObject({
        id: "r1",
        status: "pending",
        goal: "make the tests pass",
        agent: "command",
        model: "m1",
        fallbackModels: ["m2"],
        criteria: ["npm test"],
        createdAt: 1_000,
        attempts: 0,
        progress: 0,
      });
      expect(run?.limits.budgetUsd).toBe(5);
    });

    it("projects a whole lifecycle into runs, tasks and attempts", async () => {
      await store.append([runCreated("r1"), ...lifecycle("r1")]);
      const run = await store.getRun("r1");
      expect(run).toMatchObject({
        status: "succeeded",
        reason: "all criteria met",
        startedAt: 2_000,
        endedAt: 2_203,
        pid: 123,
        pidStartTime: "999",
        attempts: 1,
        progress: 1,
        costUsd: 0.25,
        tokensIn: 100,
        tokensOut: 20,
        report: "/r.md",
      });
      const [task] = await store.listTasks("r1");
      expect(task).toMatchObject({ id: "fix", status: "succeeded", attempts: 1, progress: 1, commit: "c".repeat(40) });
      const attempts = await store.listAttempts({ runId: "r1" });
      expect(attempts).toHaveLength(1);
      expect(attempts[0]).toMatchObject({
        id: "r1.fix.1",
        status: "succeeded",
        pid: 456,
        sessionId: "s-1",
        model: "m1-real",
        exitCode: 0,
        durationMs: 97,
        costUsd: 0.25,
        usage: { inputTokens: 100, outputTokens: 20 },
        commit: "c".repeat(40),
      });
      expect(attempts[0]?.criteria?.[0]?.passed).toBe(true);
      expect(await store.getAttempt("r1.fix.1")).toEqual(attempts[0]);
    });

    it("keeps a failed attempt's failure and progress", async () => {
      const events = lifecycle("r1").slice(0, 7);
      const attemptId = "r1.fix.1";
      await store.append([
        runCreated("r1"),
        ...events,
        {
          type: "attempt.exited",
          runId: "r1",
          taskId: "fix",
          attemptId,
          data: { exitCode: 1, signal: null, reason: "exited", durationMs: 5, failure: { kind: "rate_limited", detail: "429", resetAt: 5_000 } },
        },
        { type: "attempt.finished", runId: "r1", taskId: "fix", attemptId, data: { outcome: "failed", progress: 0 } },
      ]);
      const attempt = await store.getAttempt(attemptId);
      expect(attempt).toMatchObject({ status: "failed", failure: { kind: "rate_limited", detail: "429", resetAt: 5_000 }, progress: 0 });
    });

    it("reopens a run that failed on a limit with new limits, and its task; a succeeded task stays ended", async () => {
      const started = lifecycle("r1").slice(0, 3);
      await store.append([runCreated("r1"), ...started]);
      await store.append([
        { type: "task.finished", runId: "r1", taskId: "fix", data: { status: "failed", reason: "reached the limit of 3 attempts" } },
        { type: "run.finished", runId: "r1", data: { status: "failed", reason: "reached the limit of 3 attempts" } },
      ]);
      await store.append([
        { type: "run.extended", runId: "r1", data: { maxAttempts: 5, maxMs: 7_200_000, previous: { maxAttempts: 3, maxMs: 3_600_000 }, by: "test" } },
        { type: "task.reopened", runId: "r1", taskId: "fix", data: { to: "running", reason: "reached the limit of 3 attempts" } },
      ]);
      const run = await store.getRun("r1");
      expect(run).toMatchObject({ status: "paused", startedAt: 2_000, endedAt: undefined, limits: { maxAttempts: 5, maxMs: 7_200_000, budgetUsd: 5 } });
      expect(await store.getTask("r1", "fix")).toMatchObject({ status: "running", startedAt: 2_002, endedAt: undefined, reason: undefined });
      // A paused run only takes the limits.
      await store.append([{ type: "run.extended", runId: "r1", data: { maxAttempts: 6, maxMs: 7_200_000, previous: { maxAttempts: 5, maxMs: 7_200_000 }, by: "test" } }]);
      expect(await store.getRun("r1")).toMatchObject({ status: "paused", limits: { maxAttempts: 6 } });
      const before = await store.readEvents({ runId: "r1" });
      await expect(store.append([{ type: "task.reopened", runId: "r1", taskId: "fix", data: { to: "running", reason: "x" } }])).rejects.toBeInstanceOf(InvalidTransitionError);
      expect(await store.readEvents({ runId: "r1" })).toEqual(before);
    });

    it("rejects an invalid transition and writes nothing of that batch", async () => {
      await store.append([runCreated("r1")]);
      const before = await store.readEvents({ runId: "r1" });
      await expect(
        store.append([
          { type: "run.started", runId: "r1", data: { pid: 1, host: "h", detached: false } },
          { type: "run.started", runId: "r1", data: { pid: 1, host: "h", detached: false } },
        ]),
      ).rejects.toBeInstanceOf(InvalidTransitionError);
      expect(await store.readEvents({ runId: "r1" })).toEqual(before);
      expect((await store.getRun("r1"))?.status).toBe("pending");
    });

    it("refuses success for an attempt that was never verified", async () => {
      const events = lifecycle("r1");
      await store.append([runCreated("r1"), ...events.slice(0, 7)]);
      await expect(
        store.append([
          { type: "attempt.finished", runId: "r1", taskId: "fix", attemptId: "r1.fix.1", data: { outcome: "succeeded", progress: 1 } },
        ]),
      ).rejects.toBeInstanceOf(InvalidTransitionError);
    });

    it("refuses events for an unknown run, task or attempt", async () => {
      await expect(store.append([{ type: "run.started", runId: "nope", data: { pid: 1, host: "h", detached: false } }])).rejects.toThrow(/no run nope/);
      await store.append([runCreated("r1")]);
      await expect(store.append([{ type: "task.started", runId: "r1", taskId: "t", data: {} }])).rejects.toThrow(/no task t/);
    });

    it("records stop and abort requests; abort wins over stop", async () => {
      await store.append([runCreated("r1"), { type: "run.started", runId: "r1", data: { pid: 1, host: "h", detached: true } }]);
      expect(await store.stopRequestOf("r1")).toBeUndefined();
      await store.append([{ type: "run.stop-requested", runId: "r1", data: { mode: "stop", by: "cli" } }]);
      expect((await store.getRun("r1"))?.stopRequested).toBe("stop");
      expect(await store.stopRequestOf("r1")).toBe("stop");
      await store.append([{ type: "run.stop-requested", runId: "r1", data: { mode: "abort", by: "cli" } }]);
      await store.append([{ type: "run.stop-requested", runId: "r1", data: { mode: "stop", by: "cli" } }]);
      const run = await store.getRun("r1");
      expect(run?.stopRequested).toBe("abort");
      expect(run?.detached).toBe(true);
      await store.append([{ type: "run.finished", runId: "r1", data: { status: "aborted", reason: "aborted by user" } }]);
      expect(await store.getRun("r1")).toMatchObject({ status: "aborted", stopRequested: undefined });
      expect(await store.stopRequestOf("r1")).toBeUndefined();
      expect(await store.stopRequestOf("no-such-run")).toBeUndefined();
      await expect(
        store.append([{ type: "run.stop-requested", runId: "r1", data: { mode: "stop", by: "cli" } }]),
      ).rejects.toBeInstanceOf(InvalidTransitionError);
    });

    it("hands events back in order, filtered, after a sequence number, newest first on request", async () => {
      const stored = await store.append([runCreated("r1"), ...lifecycle("r1"), runCreated("r2", 5_000)]);
      const seqs = stored.map((e) => e.seq);
      expect([...seqs].sort((a, b) => a - b)).toEqual(seqs);
      expect(new Set(seqs).size).toBe(seqs.length);

      const all = await store.readEvents({ runId: "r1" });
      expect(all.map((e) => e.type)).toEqual(["run.created", ...lifecycle("r1").map((e) => e.type)]);
      expect(all[6]).toMatchObject({ type: "agent.emitted", attemptId: "r1.fix.1", data: { type: "session.started", sessionId: "s-1" } });

      const attemptOnly = await store.readEvents({ attemptId: "r1.fix.1", types: ["agent.emitted"] });
      expect(attemptOnly.map((e) => e.data)).toEqual([
        { type: "session.started", sessionId: "s-1", model: "m1-real" },
        { type: "text", text: "working" },
      ]);
      const third = all[2];
      if (third === undefined) throw new Error("missing event");
      const after = await store.readEvents({ runId: "r1", afterSeq: third.seq });
      expect(after).toEqual(all.slice(3));
      const newest = await store.readEvents({ runId: "r1", descending: true, limit: 2 });
      expect(newest.map((e) => e.type)).toEqual(["run.finished", "task.finished"]);
    });

    it("lists runs newest first and finds them by id prefix", async () => {
      await store.append([runCreated("261121-0900-aaaa", 1), runCreated("261121-0901-bbbb", 2), runCreated("261121-0902-bbbc", 3)]);
      expect((await store.listRuns()).map((r) => r.id)).toEqual(["261121-0902-bbbc", "261121-0901-bbbb", "261121-0900-aaaa"]);
      expect((await store.listRuns({ limit: 1 })).map((r) => r.id)).toEqual(["261121-0902-bbbc"]);
      expect((await store.findRuns("261121-090")).length).toBe(3);
      expect((await store.findRuns("261121-0901")).map((r) => r.id)).toEqual(["261121-0901-bbbb"]);
      expect(await store.findRuns("nothing")).toEqual([]);
      expect(await store.findRuns("%")).toEqual([]);
      expect(await store.getRun("missing")).toBeUndefined();
    });

    it("ingests agent output without handing it back, in order after what came before", async () => {
      await store.append([runCreated("r1"), ...lifecycle("r1").slice(0, 5)]);
      const output: NewEvent[] = ["one", "two", "three"].map((text) => ({
        type: "agent.emitted",
        runId: "r1",
        taskId: "fix",
        attemptId: "r1.fix.1",
        data: { type: "text", text },
      }));
      await store.ingest(output);
      await store.ingest([
        { type: "agent.emitted", runId: "r1", taskId: "fix", attemptId: "r1.fix.1", data: { type: "session.started", sessionId: "s-9" } },
      ]);
      const back = await store.readEvents({ attemptId: "r1.fix.1", types: ["agent.emitted"] });
      expect(back.map((e) => (e.type === "agent.emitted" && e.data.type === "text" ? e.data.text : "session"))).toEqual(["one", "two", "three", "session"]);
      // Ingested events still drive the projections they concern.
      expect((await store.getAttempt("r1.fix.1"))?.sessionId).toBe("s-9");
      await expect(store.ingest([{ type: "task.started", runId: "r1", taskId: "fix", data: {} }])).rejects.toBeInstanceOf(InvalidTransitionError);
    });

    it("gives ingested agent lines back one event each, in order, however many share a row, and newest first in reverse", async () => {
      await store.append([runCreated("r1"), ...lifecycle("r1").slice(0, 5)]);
      const ids = { runId: "r1", taskId: "fix", attemptId: "r1.fix.1" } as const;
      const texts = Array.from({ length: 300 }, (_, i) => `line ${i} ${"x".repeat(i % 50)} "quoted" \\ é 🙂`);
      const output: NewEvent[] = [
        ...texts.slice(0, 150).map((text): NewEvent => ({ type: "agent.emitted", ...ids, data: { type: "text", text } })),
        { type: "agent.emitted", ...ids, data: { type: "unknown", raw: "{not json" } },
        { type: "agent.emitted", ...ids, data: { type: "unknown", raw: "{nor this" } },
        { type: "agent.emitted", ...ids, data: { type: "tool.called", name: "Bash", summary: "ls" } },
        ...texts.slice(150).map((text): NewEvent => ({ type: "agent.emitted", ...ids, data: { type: "text", text } })),
        { type: "agent.emitted", runId: "r1", taskId: "fix", attemptId: "r1.fix.2", data: { type: "text", text: "another attempt's" } },
        { type: "agent.emitted", ...ids, data: { type: "text", text: "last" } },
      ];
      await store.ingest(output);
      const back = await store.readEvents({ runId: "r1", types: ["agent.emitted"] });
      expect(back.map((e) => (e.type === "agent.emitted" ? e.data : undefined))).toEqual(output.map((e) => (e.type === "agent.emitted" ? e.data : undefined)));
      expect(back.map((e) => e.attemptId)).toEqual(output.map((e) => e.attemptId));
      // Sequence numbers never go back; lines that share a row share its number.
      const seqs = back.map((e) => e.seq);
      expect([...seqs].sort((a, b) => a - b)).toEqual(seqs);
      const newest = await store.readEvents({ attemptId: "r1.fix.1", types: ["agent.emitted"], descending: true, limit: 1 });
      expect(newest.map((e) => (e.type === "agent.emitted" && e.data.type === "text" ? e.data.text : "")).at(0)).toBe("last");
      const newestText = await store.readEvents({ attemptId: "r1.fix.1", afterSeq: seqs[154] ?? 0, descending: true });
      expect(newestText.at(-1)?.seq).toBeGreaterThan(seqs[154] ?? 0);
      // Paged by sequence number, every line comes once.
      const paged: string[] = [];
      for (let after = 0; ; ) {
        const page = await store.readEvents({ attemptId: "r1.fix.1", types: ["agent.emitted"], afterSeq: after, limit: 3 });
        if (page.length === 0) break;
        for (const e of page) if (e.type === "agent.emitted" && e.data.type === "text") paged.push(e.data.text);
        after = page.at(-1)?.seq ?? after;
      }
      expect(paged).toEqual([...texts, "last"]);
    });

    it("drops an attempt's oldest output past what it keeps, never a state change, a tool call or its last words", async () => {
      await store.append([runCreated("r1"), ...lifecycle("r1").slice(0, 5)]);
      const ids = { runId: "r1", taskId: "fix", attemptId: "r1.fix.1" } as const;
      const line = (i: number): NewEvent => ({ type: "agent.emitted", ...ids, data: { type: "text", text: `${i}`.padStart(100, ".") } });
      const batches: NewEvent[][] = [
        [{ type: "agent.emitted", ...ids, data: { type: "session.started", sessionId: "s-1" } }],
        Array.from({ length: 100 }, (_, i) => line(i)),
        [{ type: "agent.emitted", ...ids, data: { type: "tool.called", name: "Bash", summary: "ls" } }],
        [{ type: "agent.emitted", ...ids, data: { type: "tool.returned", isError: false, output: "x".repeat(3_000) } }],
        Array.from({ length: 100 }, (_, i) => line(100 + i)),
        [{ type: "agent.emitted", ...ids, data: { type: "unknown", raw: "y".repeat(5_000) } }],
        [{ type: "agent.emitted", runId: "r1", taskId: "fix", attemptId: "r1.fix.2", data: { type: "text", text: "another attempt" } }],
      ];
      for (const batch of batches) await store.ingest(batch);
      const before = await store.readEvents({ runId: "r1" });
      // Far more than the attempt printed: nothing goes.
      expect(await store.dropOutput("r1.fix.1", 1_000_000)).toBe(0);
      expect(await store.readEvents({ runId: "r1" })).toEqual(before);

      expect(await store.dropOutput("r1.fix.1", 6_000)).toBeGreaterThan(0);
      const after = await store.readEvents({ runId: "r1" });
      const kinds = after.map((e) => (e.type === "agent.emitted" ? e.data.type : e.type));
      // State and what the loop reads stay, and so does the other attempt; the newest output stays.
      expect(after.filter((e) => e.type !== "agent.emitted")).toEqual(before.filter((e) => e.type !== "agent.emitted"));
      expect(kinds.filter((k) => k === "session.started" || k === "tool.called")).toEqual(["session.started", "tool.called"]);
      expect(after.filter((e) => e.attemptId === "r1.fix.2")).toHaveLength(1);
      expect(kinds.at(-2)).toBe("unknown");
      const texts = after.flatMap((e) => (e.type === "agent.emitted" && e.data.type === "text" && e.attemptId === "r1.fix.1" ? [Number(e.data.text.replace(/^\.+/, ""))] : []));
      // What stays of the text is its newest lines, in order, at least the last one (the attempt's last words).
      expect(texts.at(-1)).toBe(199);
      expect(texts).toEqual(Array.from({ length: texts.length }, (_, i) => 200 - texts.length + i));
      expect(texts.length).toBeLessThan(200);
      expect(kinds).not.toContain("tool.returned");
      // Under a fence that moved on, nothing goes.
      const lease = await store.acquireLease("r1", { owner: "a", until: 10_000, now: 0 });
      if (!lease.acquired) throw new Error("the lease was not free");
      const kept = await store.readEvents({ runId: "r1" });
      await expect(store.dropOutput("r1.fix.1", 0, { fence: { runId: "r1", fence: lease.fence - 1 } })).rejects.toBeInstanceOf(StaleWriterError);
      expect(await store.readEvents({ runId: "r1" })).toEqual(kept);
    });

    it("pauses and resumes a run; a resume drops a pending pause but keeps a stop", async () => {
      await store.append([runCreated("r1"), { type: "run.started", runId: "r1", data: { pid: 1, host: "h", detached: true } }]);
      await store.append([{ type: "run.stop-requested", runId: "r1", data: { mode: "pause", by: "cli" } }]);
      await store.append([{ type: "run.stop-requested", runId: "r1", data: { mode: "stop", by: "cli" } }]);
      await store.append([{ type: "run.stop-requested", runId: "r1", data: { mode: "pause", by: "cli" } }]);
      expect((await store.getRun("r1"))?.stopRequested).toBe("stop");
      const resumed = { pid: 2, pidStartTime: "77", host: "h2", detached: false, from: "crashed" as const, reconciled: [] };
      await store.append([{ type: "run.resumed", runId: "r1", data: resumed }]);
      expect(await store.getRun("r1")).toMatchObject({ status: "running", stopRequested: "stop", pid: 2, pidStartTime: "77", host: "h2", detached: false });

      await store.append([runCreated("r2"), { type: "run.started", runId: "r2", data: { pid: 1, host: "h", detached: true } }]);
      await store.append([{ type: "run.stop-requested", runId: "r2", data: { mode: "pause", by: "cli" } }]);
      await store.append([{ type: "run.paused", runId: "r2", at: 9_000, data: { reason: "paused on request" } }]);
      expect(await store.getRun("r2")).toMatchObject({ status: "paused", reason: "paused on request", stopRequested: undefined });
      // A paused run takes no requests (nobody drives it) until it is resumed.
      await expect(store.append([{ type: "run.stop-requested", runId: "r2", data: { mode: "stop", by: "cli" } }])).rejects.toBeInstanceOf(
        InvalidTransitionError,
      );
      await store.append([{ type: "run.resumed", runId: "r2", data: { ...resumed, from: "paused" } }]);
      expect(await store.getRun("r2")).toMatchObject({ status: "running", stopRequested: undefined, reason: undefined });
      await expect(store.append([{ type: "run.resumed", runId: "r1", data: resumed }, runCreated("r1")])).rejects.toThrow();
    });

    it("hands a run's lease to one claimant at a time: free, expired, own, or taken from a holder found dead", async () => {
      await store.append([runCreated("r1")]);
      expect((await store.getRun("r1"))?.lease).toBeUndefined();
      expect(await store.acquireLease("r1", { owner: "a", until: 10_000, now: 1_000 })).toEqual({ acquired: true, fence: 1 });
      expect(await store.getRun("r1")).toMatchObject({ lease: { owner: "a", until: 10_000, fence: 1 } });
      // Held and not expired: refused, naming the holder.
      expect(await store.acquireLease("r1", { owner: "b", until: 12_000, now: 2_000 })).toEqual({
        acquired: false,
        holder: { owner: "a", until: 10_000, fence: 1 },
      });
      // Renewal by the holder only.
      expect(await store.renewLease("r1", "a", 20_000)).toBe(true);
      expect(await store.renewLease("r1", "b", 30_000)).toBe(false);
      // A claimant that found the holder dead takes it before expiry; the fence moves on.
      expect(await store.acquireLease("r1", { owner: "b", until: 25_000, now: 3_000, replacing: "a" })).toEqual({ acquired: true, fence: 2 });
      // Two claimants that both found "a" dead: "a" is no longer the holder, so the second one loses.
      expect(await store.acquireLease("r1", { owner: "c", until: 25_000, now: 3_001, replacing: "a" })).toMatchObject({ acquired: false });
      expect(await store.renewLease("r1", "a", 40_000)).toBe(false);
      // Expired: anyone may take it.
      expect(await store.acquireLease("r1", { owner: "c", until: 60_000, now: 25_001 })).toEqual({ acquired: true, fence: 3 });
      await store.releaseLease("r1", "b");
      expect((await store.getRun("r1"))?.lease?.owner).toBe("c");
      await store.releaseLease("r1", "c");
      expect((await store.getRun("r1"))?.lease).toBeUndefined();
      expect(await store.acquireLease("nope", { owner: "a", until: 1, now: 0 })).toEqual({ acquired: false, holder: undefined });
    });

    it("refuses a write under a lease fence that is no longer current, and writes nothing of it", async () => {
      await store.append([runCreated("r1")]);
      const first = await store.acquireLease("r1", { owner: "a", until: 10_000, now: 1_000 });
      if (!first.acquired) throw new Error("the first claim must win");
      const stale = { runId: "r1", fence: first.fence };
      await store.append([{ type: "run.started", runId: "r1", data: { pid: 1, host: "h", detached: true } }], { fence: stale });
      // Supervisor "b" finds "a" dead and takes the run over: "a"'s fence is stale from now on.
      const second = await store.acquireLease("r1", { owner: "b", until: 20_000, now: 2_000, replacing: "a" });
      if (!second.acquired) throw new Error("the takeover must win");
      const current = { runId: "r1", fence: second.fence };
      const before = await store.readEvents({ runId: "r1" });

      const note = (message: string): NewEvent => ({ type: "run.noted", runId: "r1", data: { message } });
      const refused = store.append([note("from a"), { type: "run.paused", runId: "r1", data: { reason: "a pauses" } }], { fence: stale });
      await expect(refused).rejects.toBeInstanceOf(StaleWriterError);
      await expect(refused).rejects.toMatchObject({ runId: "r1", fence: first.fence, current: second.fence });
      await expect(store.ingest([note("output from a")], { fence: stale })).rejects.toBeInstanceOf(StaleWriterError);
      expect(await store.readEvents({ runId: "r1" })).toEqual(before);
      expect((await store.getRun("r1"))?.status).toBe("running");

      // The current holder writes; so does a writer without a fence (a CLI's stop request).
      await store.append([note("from b")], { fence: current });
      await store.ingest([note("output from b")], { fence: current });
      await store.append([{ type: "run.stop-requested", runId: "r1", data: { mode: "stop", by: "cli" } }]);
      expect((await store.readEvents({ runId: "r1", afterSeq: before.at(-1)?.seq ?? 0 })).map((e) => e.type)).toEqual([
        "run.noted",
        "run.noted",
        "run.stop-requested",
      ]);
      // A fence for a run the journal does not have is refused too.
      await expect(store.append([note("x")], { fence: { runId: "nope", fence: 1 } })).rejects.toMatchObject({ runId: "nope", current: undefined });
    });

    it("refuses a write meant only for a run with no stop request once one is in, and writes nothing of it", async () => {
      await store.append([runCreated("r1")]);
      const start: NewEvent = { type: "run.noted", runId: "r1", data: { message: "a task would start here" } };
      // No request yet: the write goes through.
      expect(await store.append([start], { unlessStopRequested: true })).toHaveLength(1);
      await store.append([{ type: "run.stop-requested", runId: "r1", data: { mode: "pause", by: "cli" } }]);
      const before = await store.readEvents({ runId: "r1" });
      const refused = store.append([start, { type: "run.noted", runId: "r1", data: { message: "and another" } }], { unlessStopRequested: true });
      await expect(refused).rejects.toBeInstanceOf(StopRequestedError);
      await expect(refused).rejects.toMatchObject({ runId: "r1", mode: "pause" });
      expect(await store.readEvents({ runId: "r1" })).toEqual(before);
      // Any other write goes on.
      await store.append([start]);
      expect(await store.readEvents({ runId: "r1" })).toHaveLength(before.length + 1);
    });

    it("keeps an agent's process start time beside its pid", async () => {
      const events = lifecycle("r1").slice(0, 4);
      await store.append([runCreated("r1"), ...events]);
      await store.append([{ type: "attempt.spawned", runId: "r1", taskId: "fix", attemptId: "r1.fix.1", data: { pid: 456, startTime: "31337" } }]);
      expect(await store.getAttempt("r1.fix.1")).toMatchObject({ status: "running", pid: 456, pidStartTime: "31337" });
    });

    it("takes a large batch of agent output in one append", async () => {
      const events = lifecycle("r1").slice(0, 5);
      await store.append([runCreated("r1"), ...events]);
      const batch: NewEvent[] = Array.from({ length: 2_345 }, (_, i) => ({
        type: "agent.emitted",
        runId: "r1",
        taskId: "fix",
        attemptId: "r1.fix.1",
        data: { type: "text", text: `line ${i}` },
      }));
      const stored = await store.append(batch);
      expect(stored).toHaveLength(2_345);
      const back = await store.readEvents({ attemptId: "r1.fix.1", types: ["agent.emitted"] });
      expect(back).toHaveLength(2_345);
      expect(back[2_344]?.data).toEqual({ type: "text", text: "line 2344" });
    });
  });
}
