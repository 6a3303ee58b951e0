// The supervisor's writer under its lease fence, against a real (in-memory) journal: once another supervisor
// has taken the run over, every write is refused, nothing more reaches the journal, and the lease counts as lost.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { NewEvent } from "../core/journal.js";
import { StaleWriterError } from "../store/errors.js";
import { openSqliteStore } from "../store/sqlite/open.js";
import type { Store } from "../store/store.js";
import { EventWriter } from "./event-writer.js";
import { claimRun, LeaseKeeper, ownerOf, type Supervisor } from "./lease.js";
import type { Logger } from "./logger.js";

const created: NewEvent = {
  type: "run.created",
  runId: "r1",
  data: {
    goal: "g",
    repoRoot: "/repo",
    baseBranch: "main",
    baseSha: "a".repeat(40),
    branch: "orch/r1/g",
    agent: { agent: "command", fallbackModels: [] },
    criteria: [],
    limits: { maxAttempts: 1, maxMs: 60_000, intervalMs: 0, stallAttempts: 1, stallTimeoutMs: 60_000, attemptTimeoutMs: 60_000 },
    config: {},
  },
};
const note = (message: string): NewEvent => ({ type: "run.noted", runId: "r1", data: { message } });
// Hosts of their own: neither supervisor is looked up among this machine's processes.
const a: Supervisor = { host: "host-a.invalid", pid: 1, startTime: "1" };
const b: Supervisor = { host: "host-b.invalid", pid: 2, startTime: "2" };

function recordingLogger(lines: string[]): Logger {
  const logger: Logger = {
    debug: () => undefined,
    info: () => undefined,
    warn: (message, fields) => lines.push(`${message} ${JSON.stringify(fields ?? {})}`),
    error: (message) => lines.push(message),
    child: () => logger,
  };
  return logger;
}

// Every test gets a fresh in-memory journal holding the run.
let store: Store;
beforeEach(async () => {
  store = await openSqliteStore({ path: ":memory:" });
  await store.append([created]);
});
afterEach(async () => {
  await store.close();
});

describe("EventWriter under a lease fence", () => {

  it("writes while its fence is current; after a takeover every write is refused, nothing is written, and the lease is lost once", async () => {
    const claim = await claimRun(store, "r1", a, 1_000, 10_000);
    if (!claim.won) throw new Error(claim.why);
    const warnings: string[] = [];
    let lost = 0;
    const keeper = new LeaseKeeper(store, "r1", ownerOf(a), { ttlMs: 600_000, now: () => 1_000, logger: recordingLogger(warnings), onLost: () => (lost += 1) });
    const writer = new EventWriter(store, { fence: { runId: "r1", fence: claim.fence }, onStale: (error) => keeper.lose(error.message) });
    try {
      await writer.write(note("mine"));
      writer.push(note("buffered output"));
      await writer.flush();

      // Supervisor b finds a's lease expired and takes the run over.
      const takeover = await claimRun(store, "r1", b, 20_000, 10_000);
      expect(takeover).toMatchObject({ won: true, fence: claim.fence + 1 });
      const before = await store.readEvents({ runId: "r1" });

      writer.push(note("output after the takeover"));
      await expect(writer.write(note("a state change after the takeover"))).rejects.toBeInstanceOf(StaleWriterError);
      await expect(writer.write(note("and another"))).rejects.toBeInstanceOf(StaleWriterError);
      await expect(writer.flush()).rejects.toBeInstanceOf(StaleWriterError);
      expect(await store.readEvents({ runId: "r1" })).toEqual(before);
      expect(keeper.lost).toBe(true);
      expect(lost).toBe(1);
      expect(warnings).toEqual([expect.stringMatching(/^lease lost: another supervisor drives this run now .*was taken over \(lease fence 2, this writer holds 1\)/)]);
    } finally {
      await keeper.release();
    }
    // A keeper that lost its lease does not release the new holder's.
    expect((await store.getRun("r1"))?.lease?.owner).toBe(ownerOf(b));
  });

  it("a writer without a fence writes whoever holds the lease (run creation, a CLI's stop request)", async () => {
    await claimRun(store, "r1", a, 1_000, 10_000);
    await claimRun(store, "r1", b, 20_000, 10_000);
    const writer = new EventWriter(store);
    await writer.write(note("unfenced"));
    expect((await store.readEvents({ runId: "r1" })).map((e) => e.type)).toEqual(["run.created", "run.noted"]);
  });
});

describe("EventWriter and a stop request", () => {

  it("writes a start only while the run has no request; a refused start writes nothing and leaves the writer working", async () => {
    const writer = new EventWriter(store);
    writer.push(note("output before"));
    expect(await writer.writeUnlessStopped(note("task starts"))).toBeUndefined();
    await store.append([{ type: "run.stop-requested", runId: "r1", data: { mode: "abort", by: "cli" } }]);
    writer.push(note("output after the request"));
    expect(await writer.writeUnlessStopped(note("another task starts"))).toBe("abort");
    await writer.write(note("the task ends"));
    const messages = (await store.readEvents({ runId: "r1" })).flatMap((e) => (e.type === "run.noted" ? [e.data.message] : []));
    // The buffered output goes through either way: only the start is refused.
    expect(messages).toEqual(["output before", "task starts", "output after the request", "the task ends"]);
  });
});

describe("EventWriter shows what it journaled", () => {
  it("each state change once it is written, with its sequence number; buffered output and refused starts are not shown", async () => {
    const shown: string[] = [];
    const writer = new EventWriter(store, { onWritten: (events) => shown.push(...events.map((e) => `${e.seq} ${e.type === "run.noted" ? e.data.message : e.type}`)) });
    writer.push(note("output"));
    await writer.write(note("a"), note("b"));
    await store.append([{ type: "run.stop-requested", runId: "r1", data: { mode: "abort", by: "cli" } }]);
    expect(await writer.writeUnlessStopped(note("refused"))).toBe("abort");
    await writer.flush();
    const seqs = (await store.readEvents({ runId: "r1" })).flatMap((e) => (e.type === "run.noted" && e.data.message !== "output" ? [`${e.seq} ${e.data.message}`] : []));
    expect(shown).toEqual(seqs);
    expect(shown.map((s) => s.split(" ")[1])).toEqual(["a", "b"]);
  });
});
