// The read model on a journal written by a real run: the status view, the runs list, transcript references and
// pages; and the live feed, which wakes on another connection's write with no poll to fall back on.
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { followJournal } from "../src/read/feed.js";
import { resolveRun } from "../src/read/runs.js";
import { listView, statusView } from "../src/read/status-view.js";
import { readTranscriptPage, resolveTranscript } from "../src/read/transcript.js";
import { openSqliteStore } from "../src/store/sqlite/open.js";
import type { StoredEvent } from "../src/core/journal.js";
import { parseRunResult } from "./support/cli.js";
import { useSandboxes } from "./support/e2e.js";

const sandboxes = useSandboxes({ prefix: "orch-read-model-" });

describe("the read model", () => {
  it("shows a finished run from its journal: status, list, transcript references and pages", { timeout: 60_000 }, async () => {
    const box = sandboxes.orchRepo({ "out/.keep": "" });
    const agent = 'echo "working on it"; if [ "$ORCH_ATTEMPT" = 2 ]; then echo ok > out/done.txt; fi';
    const result = await box.orch(["run", "write out/done.txt", "--verify", "test -f out/done.txt", "--agent-command", agent, "--json"]);
    expect(result.code, result.stderr).toBe(0);
    const { runId } = parseRunResult(result);
    const store = await openSqliteStore({ path: join(box.repo.dir, ".orch", "orch.db") });
    try {
      const run = await resolveRun(store, runId.slice(0, 10));
      expect(run.id).toBe(runId);
      const view = await statusView(store, run);
      expect(view).toMatchObject({ runId, status: "succeeded", attempts: 2, progress: 1, stale: false, next: "nothing: the run has ended" });
      expect(view.tasks).toHaveLength(1);
      expect(view.lastResult).toBe("attempt 2 succeeded");
      const [listed] = await listView(store);
      expect(listed).toMatchObject({ runId, status: "succeeded", attempts: 2, stale: false });

      const all = await resolveTranscript(store, runId);
      const task = await resolveTranscript(store, `${runId}/${view.tasks[0]?.id ?? ""}`);
      const attempts = await store.listAttempts({ runId });
      const second = await resolveTranscript(store, attempts[1]?.id);
      expect(task.taskId).toBe(view.tasks[0]?.id);
      expect(second.attemptId).toBe(attempts[1]?.id);
      // Pages of three, read on from each page's end, give every event once and in order.
      const whole = await store.readEvents(all.query);
      const paged: StoredEvent[] = [];
      let after = 0;
      for (;;) {
        const page = await readTranscriptPage(store, all.query, after, 3);
        paged.push(...page.events);
        after = page.nextSeq;
        if (!page.more && page.events.length < 3) break;
      }
      expect(paged.map((e) => e.seq)).toEqual(whole.map((e) => e.seq));
      const ofSecond = await store.readEvents(second.query);
      expect(ofSecond.every((e) => e.attemptId === attempts[1]?.id)).toBe(true);
      expect(ofSecond.some((e) => e.type === "agent.emitted")).toBe(true);
      await expect(resolveTranscript(store, `${runId}/no-such-task`)).rejects.toThrow(/has no task "no-such-task"/);
    } finally {
      await store.close();
    }
  });

  it("follows the journal: another connection's write wakes the follower, which never polls", { timeout: 30_000 }, async () => {
    const box = sandboxes.orchRepo({ "README.md": "follow\n" });
    const path = join(box.repo.dir, ".orch", "orch.db");
    const reader = await openSqliteStore({ path });
    const writer = await openSqliteStore({ path });
    const runId = "r-follow";
    try {
      await writer.append([
        {
          type: "run.created",
          runId,
          data: {
            goal: "follow",
            repoRoot: box.repo.dir,
            baseBranch: "main",
            baseSha: "0".repeat(40),
            branch: "orch/r-follow/_run",
            agent: { agent: "command", fallbackModels: [] },
            criteria: ["true"],
            limits: { maxAttempts: 1, maxMs: 60_000, intervalMs: 0, stallAttempts: 1, stallTimeoutMs: 60_000, attemptTimeoutMs: 60_000 },
            config: { agent: { name: "command", command: "true" } },
          },
        },
      ]);
      let ended = false;
      const seen: string[] = [];
      // A fallback of ten minutes: within this test only a change notice can wake the follower.
      const follow = (async () => {
        for await (const page of followJournal({ store: reader, query: { runId }, afterSeq: 0, done: async () => ended, fallbackMs: 600_000 })) {
          for (const event of page) seen.push(event.type === "run.noted" ? event.data.message : event.type);
        }
      })();
      await expect.poll(() => seen, { timeout: 5_000 }).toEqual(["run.created"]);
      await writer.append([{ type: "run.noted", runId, data: { message: "first" } }]);
      await expect.poll(() => seen, { timeout: 5_000 }).toEqual(["run.created", "first"]);
      ended = true;
      await writer.append([{ type: "run.noted", runId, data: { message: "last" } }]);
      await follow;
      expect(seen).toEqual(["run.created", "first", "last"]);
    } finally {
      await reader.close();
      await writer.close();
    }
  });
});
