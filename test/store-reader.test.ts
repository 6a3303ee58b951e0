// The SQLite reader (`store/sqlite/reader.ts`) that `orch status`, `list`, `logs`, `report` and `diff` read the journal
// with: every read of the store's conformance suite answered by a reader of the same file, and what a reader must
// never do (write, create, migrate, read a schema it does not know).
import { createHash } from "node:crypto";
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import BetterSqlite3 from "better-sqlite3";
import { Kysely, SqliteDialect } from "kysely";
import { afterAll, describe, expect, it } from "vitest";
import { withJournalReader } from "../src/app/journal-reader.js";
import { NotFoundError } from "../src/core/errors.js";
import { JournalDamagedError } from "../src/store/errors.js";
import { migrateTo } from "../src/store/migrations/index.js";
import { openSqliteStore } from "../src/store/sqlite/open.js";
import { eventsQuery, openSqliteReader } from "../src/store/sqlite/reader.js";
import type { JournalReader, Store } from "../src/store/store.js";
import { describeStoreConformance, lifecycle, runCreated } from "./support/store-conformance.js";

const dir = mkdtempSync(join(tmpdir(), "orch-reader-"));
let n = 0;
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A store whose writes go to `writer` and whose every read is the reader's, on the same file. */
function readingThrough(writer: Store, reader: JournalReader): Store {
  return {
    append: (events, options) => writer.append(events, options),
    ingest: (events, options) => writer.ingest(events, options),
    dropOutput: (attemptId, keepChars, options) => writer.dropOutput(attemptId, keepChars, options),
    acquireLease: (runId, claim) => writer.acquireLease(runId, claim),
    renewLease: (runId, owner, until) => writer.renewLease(runId, owner, until),
    releaseLease: (runId, owner) => writer.releaseLease(runId, owner),
    getRun: (id) => reader.getRun(id),
    stopRequestOf: (runId) => reader.stopRequestOf(runId),
    findRuns: (prefix) => reader.findRuns(prefix),
    listRuns: (options) => reader.listRuns(options),
    listTasks: (runId) => reader.listTasks(runId),
    getTask: (runId, taskId) => reader.getTask(runId, taskId),
    listAttempts: (query) => reader.listAttempts(query),
    getAttempt: (id) => reader.getAttempt(id),
    readEvents: (query) => reader.readEvents(query),
    onChange: (listener) => writer.onChange(listener),
    close: async () => {
      await reader.close();
      await writer.close();
    },
  };
}

async function freshJournal(): Promise<{ path: string; writer: Store }> {
  const path = join(dir, `db-${++n}`, "orch.db");
  return { path, writer: await openSqliteStore({ path }) };
}

function readerOf(path: string): JournalReader {
  const reader = openSqliteReader({ path });
  if (reader === undefined) throw new Error(`no reader for ${path}: its schema is not current`);
  return reader;
}

describeStoreConformance("sqlite file, every read through a reader", async () => {
  const { path, writer } = await freshJournal();
  return readingThrough(writer, readerOf(path));
});

/** The journal file's bytes, with its WAL's when there is one. */
function fingerprint(path: string): string {
  const hash = createHash("sha256");
  for (const file of [path, `${path}-wal`]) if (existsSync(file)) hash.update(readFileSync(file));
  return hash.digest("hex");
}

describe("the sqlite reader", () => {
  it("reads what the store wrote and changes nothing of the file", async () => {
    const { path, writer } = await freshJournal();
    await writer.append([runCreated("r1"), ...lifecycle("r1")]);
    await writer.close();
    const before = fingerprint(path);

    const reader = readerOf(path);
    const store = await openSqliteStore({ path });
    try {
      expect(await reader.getRun("r1")).toEqual(await store.getRun("r1"));
      expect(await reader.listTasks("r1")).toEqual(await store.listTasks("r1"));
      expect(await reader.listAttempts({ runId: "r1", taskId: "fix" })).toEqual(await store.listAttempts({ runId: "r1", taskId: "fix" }));
      expect(await reader.readEvents({ runId: "r1", descending: true })).toEqual(await store.readEvents({ runId: "r1", descending: true }));
    } finally {
      await store.close();
      await reader.close();
    }
    expect(fingerprint(path)).toBe(before);
  });

  it("wakes its follower when another connection commits", async () => {
    const { path, writer } = await freshJournal();
    await writer.append([runCreated("r1")]);
    const reader = readerOf(path);
    try {
      const woke = new Promise<void>((resolve) => {
        const stop = reader.onChange(() => {
          stop();
          resolve();
        });
      });
      await writer.append([{ type: "run.noted", runId: "r1", data: { message: "hello" } }]);
      await woke;
      expect((await reader.readEvents({ runId: "r1", types: ["run.noted"] })).length).toBe(1);
    } finally {
      await reader.close();
      await writer.close();
    }
  });

  it("never makes a journal: a missing file is refused and nothing is created", () => {
    const path = join(dir, "missing", "orch.db");
    expect(() => openSqliteReader({ path })).toThrow(JournalDamagedError);
    expect(existsSync(dirname(path))).toBe(false);
  });

  it("says a damaged file is damaged, as the store does", async () => {
    const { path, writer } = await freshJournal();
    await writer.append([runCreated("r1")]);
    await writer.close();
    const garbage = readFileSync(path);
    garbage.write("not the header of a SQLite database file", 0);
    writeFileSync(path, garbage);
    expect(() => openSqliteReader({ path })).toThrow(expect.objectContaining({ name: "JournalDamagedError", file: path, problem: "damaged" }));
  });

  it("gives no reader for a journal an older orch left, and leaves it as it was", async () => {
    const path = join(dir, "old", "orch.db");
    mkdirSync(dirname(path), { recursive: true });
    const old = new Kysely<unknown>({ dialect: new SqliteDialect({ database: new BetterSqlite3(path) }) });
    await migrateTo(old, "sqlite", "0003_task_graph");
    await old.destroy();
    const before = fingerprint(path);
    expect(openSqliteReader({ path })).toBeUndefined();
    expect(fingerprint(path)).toBe(before);
  });
});

describe("the reader's event queries", () => {
  /** SQLite's plan for the reader's SQL of `query`, on a journal whose run has much agent output and two notes. */
  async function planOf(queries: Parameters<typeof eventsQuery>[0][]): Promise<string[]> {
    const { path, writer } = await freshJournal();
    await writer.append([runCreated("r1"), ...lifecycle("r1").slice(0, 5)]);
    const ids = { runId: "r1", taskId: "fix", attemptId: "r1.fix.1" } as const;
    await writer.ingest(Array.from({ length: 2_000 }, (_, i) => ({ type: "agent.emitted" as const, ...ids, data: { type: "tool.called" as const, name: "Bash", summary: `ls ${i}` } })));
    await writer.append([{ type: "run.noted", runId: "r1", data: { message: "one" } }, { type: "run.noted", runId: "r1", data: { message: "two" } }]);
    await writer.close();
    const raw = new BetterSqlite3(path, { readonly: true });
    try {
      return queries.map((query) => {
        const { text, params } = eventsQuery(query);
        return (raw.prepare(`explain query plan ${text}`).all(...params) as { detail: string }[]).map((row) => row.detail).join(" | ");
      });
    } finally {
      raw.close();
    }
  }

  it("answer a whole run's events of some kinds from the index by run and kind, not a walk over all its events", async () => {
    const [kinds, one] = await planOf([
      { runId: "r1", types: ["run.noted", "notify.failed"] },
      { runId: "r1", types: ["run.delivered"], descending: true },
    ]);
    expect(kinds).toMatch(/USING INDEX events_run_type_seq/);
    expect(one).toMatch(/USING INDEX events_run_type_seq/);
  });

  it("walk in order where the order is what stops early: a page after a sequence number, an attempt's newest", async () => {
    const [page, newest] = await planOf([
      { runId: "r1", taskId: "fix", types: ["agent.emitted"], afterSeq: 10, limit: 100 },
      { attemptId: "r1.fix.1", types: ["agent.emitted"], descending: true, limit: 1 },
    ]);
    // In order from the sequence number on, through either index that starts with the run: no sort of all of them.
    expect(page).toMatch(/USING INDEX events_run_(type_)?seq \(run_id=\?.*seq>\?\)/);
    expect(page).not.toMatch(/TEMP B-TREE/);
    expect(newest).toMatch(/USING INDEX events_attempt_seq/);
    expect(newest).not.toMatch(/TEMP B-TREE/);
  });
});

describe("withJournalReader", () => {
  function repo(): string {
    const root = mkdtempSync(join(dir, "repo-"));
    const git = (...args: string[]) => execFileSync("git", args, { cwd: root, stdio: "ignore" });
    git("init", "-q", "-b", "main");
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "--allow-empty", "-m", "first");
    return root;
  }

  it("says a repository without runs has none, and creates nothing", async () => {
    const root = repo();
    await expect(withJournalReader(root, () => Promise.resolve())).rejects.toBeInstanceOf(NotFoundError);
    expect(existsSync(join(root, ".orch"))).toBe(false);
  });

  it("reads a journal an older orch left by opening it as a writer, which migrates it", async () => {
    const root = repo();
    const path = join(root, ".orch", "orch.db");
    mkdirSync(dirname(path), { recursive: true });
    const old = new Kysely<unknown>({ dialect: new SqliteDialect({ database: new BetterSqlite3(path) }) });
    await migrateTo(old, "sqlite", "0003_task_graph");
    await old.destroy();
    expect(await withJournalReader(root, ({ journal }) => journal.listRuns())).toEqual([]);
    const migrated = openSqliteReader({ path });
    expect(migrated).toBeDefined();
    await migrated?.close();
  });
});
