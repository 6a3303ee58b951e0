// `orch serve`'s live events over SSE, against a real server and real runs: a stream opened before any run sees
// every event of runs started later; a reconnect with Last-Event-ID replays from the journal with no gap and no
// repeat, then goes live; a stalled viewer is dropped with `event: refetch` (its last seq) while another viewer
// keeps receiving, and picking up from that seq gives it the rest.
import { describe, expect, it } from "vitest";
import { parseEventLines, parseRunResult, waitFor } from "./support/cli.js";
import { FILES, GOAL, VERIFY } from "./support/detached.js";
import { fixtureAgent, useSandboxes, type OrchSandbox } from "./support/e2e.js";
import { parsePrometheusText } from "./support/prometheus-text.js";
import { openReconnecting, openSse, startServe, type SseEvent, type SseReader } from "./support/serve.js";

const sandboxes = useSandboxes({ prefix: "orch-serve-sse-", graceMs: 3_000 });

interface Journaled {
  seq: number;
  type: string;
  runId: string;
}

/** The journal events of the stream: a message carries one event, or (whole rows written at once) an array of them. */
const journalEvents = (events: readonly SseEvent[]): Journaled[] =>
  events.filter((e) => e.event === "journal").flatMap((e) => {
    const data = JSON.parse(e.data) as Journaled | Journaled[];
    return Array.isArray(data) ? data : [data];
  });
const keys = (events: readonly { seq: number; type: string }[]) => events.map((e) => `${e.seq} ${e.type}`);

async function journal(box: OrchSandbox): Promise<Journaled[]> {
  // Every run's events, by `orch logs RUN --json`, in journal order.
  const runs = JSON.parse((await box.orch(["list", "--json"])).stdout) as { runId: string }[];
  const all: Journaled[] = [];
  for (const { runId } of runs) all.push(...parseEventLines((await box.orch(["logs", runId, "--json"])).stdout));
  return all.sort((a, b) => a.seq - b.seq);
}

/** The last `id:` the stream has carried, read from its tail only (a stream of 30 MB is not parsed every 50 ms). */
function lastId(reader: SseReader): number {
  const ids = [...reader.text().slice(-65_536).matchAll(/^id: (\d+)$/gm)];
  return Number(ids[ids.length - 1]?.[1] ?? 0);
}

function untilSeq(reader: SseReader, seq: number, timeoutMs = 30_000): Promise<true> {
  return waitFor(`the stream to reach seq ${seq}`, () => (lastId(reader) >= seq ? true : undefined), timeoutMs);
}

async function dropped(url: string): Promise<number> {
  const families = parsePrometheusText(await (await fetch(`${url}metrics`)).text());
  return families.get("orch_server_sse_dropped_clients_total")?.samples[0]?.value ?? -1;
}

describe("orch serve: live events", () => {
  it("streams runs started after the server, and replays from Last-Event-ID with no gap and no repeat", { timeout: 120_000 }, async () => {
    const box = sandboxes.orchRepo(FILES);
    // No run yet: the server waits for the first.
    const served = await startServe(sandboxes, box);
    try {
      const all = openSse(`${served.url}api/stream`);
      expect(await all.status).toBe(200);
      const first = parseRunResult(await box.orch(["run", GOAL, "--verify", VERIFY, "--agent-command", fixtureAgent("fix-on-attempt.sh"), "--no-review", "--json"]));
      let written = await journal(box);
      const last = written[written.length - 1]?.seq ?? 0;
      await untilSeq(all, last);
      expect(keys(journalEvents(all.events()))).toEqual(keys(written));

      // A reconnect from the middle: the replay is the journal after that seq, exactly.
      const middle = written[Math.floor(written.length / 2)]?.seq ?? 0;
      const again = openSse(`${served.url}api/stream`, { "last-event-id": String(middle) });
      await untilSeq(again, last);
      expect(keys(journalEvents(again.events()))).toEqual(keys(written.filter((e) => e.seq > middle)));

      // Then live: a second run reaches both streams, and a run's own stream has only that run's events.
      const own = openSse(`${served.url}api/runs/${first.runId}/stream?after=0`);
      const second = parseRunResult(await box.orch(["run", GOAL, "--verify", VERIFY, "--agent-command", fixtureAgent("fix-on-attempt.sh"), "--no-review", "--json"]));
      written = await journal(box);
      const end = written[written.length - 1]?.seq ?? 0;
      await untilSeq(all, end);
      await untilSeq(again, end);
      expect(keys(journalEvents(all.events()))).toEqual(keys(written));
      expect(keys(journalEvents(again.events()))).toEqual(keys(written.filter((e) => e.seq > middle)));
      expect(journalEvents(again.events()).some((e) => e.runId === second.runId)).toBe(true);
      await untilSeq(own, last);
      expect(keys(journalEvents(own.events()))).toEqual(keys(written.filter((e) => e.runId === first.runId)));
      for (const reader of [all, again, own]) reader.close();
    } finally {
      await served.stop();
    }
  });

  it("drops a stalled viewer with a refetch from its last seq while another keeps receiving", { timeout: 180_000 }, async () => {
    const box = sandboxes.orchRepo(FILES, { AGENT_LINES: "100000" });
    const served = await startServe(sandboxes, box);
    try {
      const stalled = openSse(`${served.url}api/stream`, {}, { paused: true });
      // The other reads as a browser's EventSource does: dropped in a burst it is slower than, it reconnects.
      const reading = openReconnecting(`${served.url}api/stream`);
      expect(await stalled.status).toBe(200);
      const running = box.orch(["run", GOAL, "--verify", VERIFY, "--agent-command", fixtureAgent("spew-fix.sh"), "--no-review", "--json"], { timeoutMs: 120_000 });
      // Dropped while the run still writes; it reads again at once (a dropped socket is kept a few seconds for
      // it to take the rest): what the socket held, then the refetch, then the end.
      await waitFor("the stalled viewer to be dropped", async () => ((await dropped(served.url)) >= 1 ? true : undefined), 60_000);
      stalled.resume();
      await stalled.closed;
      const run = parseRunResult(await running);
      expect(run.status).toBe("succeeded");
      const written = await journal(box);
      const last = written[written.length - 1]?.seq ?? 0;
      expect(written.length).toBeGreaterThan(100_000);
      const got = stalled.events();
      const refetch = got[got.length - 1];
      expect(refetch?.event).toBe("refetch");
      const { afterSeq } = JSON.parse(refetch?.data ?? "{}") as { afterSeq: number };
      const ids = got.filter((e) => e.id !== undefined).map((e) => Number(e.id));
      expect(afterSeq).toBe(ids[ids.length - 1] ?? 0);
      expect(afterSeq).toBeLessThan(last);

      // The other viewer got everything, in order, once.
      await waitFor(`the reading viewer to reach seq ${last}`, () => (reading.lastId() >= last ? true : undefined), 60_000);
      // Dropped: the stalled viewer once, and the reading one each time it had to reconnect (most often never).
      expect(await dropped(served.url)).toBe(reading.connections());
      expect(keys(journalEvents(reading.events()))).toEqual(keys(written));

      // Picking up from the refetch's seq gives the stalled viewer the rest: together, the journal whole.
      const rest = openSse(`${served.url}api/stream`, { "last-event-id": String(afterSeq) });
      await untilSeq(rest, last, 60_000);
      expect(keys([...journalEvents(got), ...journalEvents(rest.events())])).toEqual(keys(written));
      rest.close();
      reading.close();
    } finally {
      await served.stop();
    }
  });
});
