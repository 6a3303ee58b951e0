import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { lifecycle, runCreated } from "../../test/support/store-conformance.js";
import { openSqliteStore } from "../store/sqlite/open.js";
import type { Store } from "../store/store.js";
import { EndedRunCounters, renderMetrics } from "./metrics.js";

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A real journal, and how many times each run's attempts were read from it. */
async function countingStore(): Promise<{ store: Store; reads: Map<string, number> }> {
  const dir = mkdtempSync(join(tmpdir(), "orch-metrics-"));
  dirs.push(dir);
  const real = await openSqliteStore({ path: join(dir, "orch.db") });
  const reads = new Map<string, number>();
  const store = new Proxy(real, {
    get(target, name, receiver) {
      const value: unknown = Reflect.get(target, name, receiver);
      if (name !== "listAttempts" || typeof value !== "function") return typeof value === "function" ? value.bind(target) : value;
      return (query: { runId: string }) => {
        reads.set(query.runId, (reads.get(query.runId) ?? 0) + 1);
        return (value as Store["listAttempts"]).call(target, query);
      };
    },
  });
  return { store, reads };
}

const sse = { connected: 0, dropped: 0, framesSent: 0 };
/** The counter lines of a scrape (the server's own memory gauges change between any two). */
const counters = (text: string) => text.split("\n").filter((line) => line.startsWith("orch_") && !line.startsWith("orch_server_"));

describe("/metrics over a journal with history", () => {
  it("reads a run that has ended once, and again only when it changes; a live run on every scrape", async () => {
    const { store, reads } = await countingStore();
    try {
      // A run that ended failed on its attempts' limit (its one attempt was good, its end says otherwise: enough here).
      const failedEnd = lifecycle("done").map((e) => (e.type === "run.finished" || e.type === "task.finished" ? { ...e, data: { ...e.data, status: "failed" as const, reason: "out of attempts" } } : e));
      await store.append([runCreated("done"), ...failedEnd]);
      await store.append([runCreated("live"), lifecycle("live")[0] ?? runCreated("live")]);
      const ended = new EndedRunCounters();
      const first = await renderMetrics(store, sse, ended);
      const second = await renderMetrics(store, sse, ended);
      expect(counters(second)).toEqual(counters(first));
      expect(counters(first)).toContain('orch_attempts_total{agent="command",model="m1-real",status="succeeded"} 1');
      expect(reads.get("done")).toBe(1);
      expect(reads.get("live")).toBe(2);

      // Reopened with more attempts (`orch resume --max-attempts`), it is another run: read again on the next scrape.
      await store.append([{ type: "run.extended", runId: "done", at: 3_000, data: { maxAttempts: 5, maxMs: 3_600_000, previous: { maxAttempts: 3, maxMs: 3_600_000 }, by: "test" } }]);
      expect((await store.getRun("done"))?.status).not.toBe("failed");
      await renderMetrics(store, sse, ended);
      expect(reads.get("done")).toBe(2);
      expect(reads.get("live")).toBe(3);
    } finally {
      await store.close();
    }
  });

  it("forgets a run the journal no longer has", async () => {
    const { store, reads } = await countingStore();
    try {
      await store.append([runCreated("a"), ...lifecycle("a")]);
      const ended = new EndedRunCounters();
      expect(counters(await renderMetrics(store, sse, ended))).toContain('orch_runs{status="succeeded"} 1');
      ended.keepOnly(new Set());
      // Nothing kept: the next scrape reads the run again, and the figures are the same.
      expect(counters(await renderMetrics(store, sse, ended))).toContain('orch_runs{status="succeeded"} 1');
      expect(reads.get("a")).toBe(2);
    } finally {
      await store.close();
    }
  });
});
