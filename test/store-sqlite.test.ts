import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import BetterSqlite3 from "better-sqlite3";
import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import { createInterface } from "node:readline";
import { pathToFileURL } from "node:url";
import type { NewEvent } from "../src/core/journal.js";
import { JournalDamagedError } from "../src/store/errors.js";

const require = createRequire(import.meta.url);
/** The built store (`npm run build`), for the child processes of the tests below. */
const BUILT_OPEN = pathToFileURL(join(import.meta.dirname, "../dist/store/sqlite/open.js")).href;
import { openSqliteStore } from "../src/store/sqlite/open.js";
import { Kysely, SqliteDialect } from "kysely";
import { migrateTo } from "../src/store/migrations/index.js";
import { describeStoreConformance, runCreated } from "./support/store-conformance.js";

const dir = mkdtempSync(join(tmpdir(), "orch-store-"));
let n = 0;
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describeStoreConformance("sqlite file", () => openSqliteStore({ path: join(dir, `db-${++n}`, "orch.db") }));
describeStoreConformance("sqlite memory", () => openSqliteStore({ path: ":memory:" }));
describeStoreConformance("sqlite through the query layer only", () => openSqliteStore({ path: ":memory:", fastInsert: false }));

describe("sqlite specifics", () => {
  it("uses WAL and migrates once, even when opened again", async () => {
    const path = join(dir, "wal", "orch.db");
    const a = await openSqliteStore({ path });
    await a.append([runCreated("r1")]);
    await a.close();
    const b = await openSqliteStore({ path });
    expect((await b.getRun("r1"))?.id).toBe("r1");
    await b.close();
    const raw = new BetterSqlite3(path, { readonly: true });
    expect(raw.pragma("journal_mode", { simple: true })).toBe("wal");
    expect(raw.prepare("select name from orch_migrations order by name").all()).toEqual([{ name: "0001_initial" }, { name: "0002_leases" }, { name: "0003_task_graph" }, { name: "0004_reviews" }, { name: "0005_runs_newest_first" }, { name: "0006_events_by_type" }]);
    raw.close();
  });

  it("migrates a journal an older orch left: its attempts stay, and a reviewer's attempt may share an implementer's number", async () => {
    const path = join(dir, "old", "orch.db");
    mkdirSync(dirname(path), { recursive: true });
    const raw = new BetterSqlite3(path);
    const old = new Kysely<unknown>({ dialect: new SqliteDialect({ database: raw }) });
    await migrateTo(old, "sqlite", "0003_task_graph");
    // Rows as 0003 holds them: every column that must have a value gets one of its type.
    const insert = (table: string, values: Record<string, unknown>) => {
      const required = (raw.prepare(`select name, type from pragma_table_info('${table}') where "notnull" = 1 and dflt_value is null`).all() as { name: string; type: string }[]).filter((c) => !(c.name in values));
      const row = { ...values, ...Object.fromEntries(required.map((c) => [c.name, /int|real/i.test(c.type) ? 0 : "x"])) };
      raw.prepare(`insert into ${table} (${Object.keys(row).join(", ")}) values (${Object.keys(row).map(() => "?").join(", ")})`).run(...Object.values(row));
    };
    insert("runs", { id: "r-old" });
    insert("tasks", { run_id: "r-old", id: "t" });
    insert("attempts", { id: "r-old.t.1", run_id: "r-old", task_id: "t", number: 1, agent: "command", status: "succeeded", transcript: "x", started_at: 1 });
    await old.destroy();

    const store = await openSqliteStore({ path });
    expect((await store.listAttempts({ runId: "r-old" })).map((a) => [a.id, a.role, a.number])).toEqual([["r-old.t.1", "implementer", 1]]);
    await store.append([
      { type: "attempt.started", runId: "r-old", taskId: "t", attemptId: "r-old.t.r1", data: { number: 1, agent: "codex", transcript: "y", role: "reviewer", reviews: "abc" } },
    ]);
    expect((await store.listAttempts({ runId: "r-old" })).map((a) => [a.id, a.role, a.number])).toEqual([
      ["r-old.t.1", "implementer", 1],
      ["r-old.t.r1", "reviewer", 1],
    ]);
    // Two attempts of one role still cannot share a number.
    await expect(
      store.append([{ type: "attempt.started", runId: "r-old", taskId: "t", attemptId: "r-old.t.r1b", data: { number: 1, agent: "codex", transcript: "z", role: "reviewer", reviews: "abc" } }]),
    ).rejects.toThrow(/UNIQUE/);
    await store.close();
  });

  it("finds the newest runs through an index, without reading and sorting every run", async () => {
    const path = join(dir, "newest", "orch.db");
    const store = await openSqliteStore({ path });
    await store.append(Array.from({ length: 30 }, (_, i) => runCreated(`r${String(i).padStart(2, "0")}`, 1_000 + (i % 3))));
    expect((await store.listRuns({ limit: 3 })).map((r) => r.id)).toEqual(["r29", "r26", "r23"]);
    await store.close();
    const raw = new BetterSqlite3(path, { readonly: true });
    const plan = (query: string) => (raw.prepare(`explain query plan ${query}`).all() as { detail: string }[]).map((row) => row.detail).join(" | ");
    // The order of `listRuns` (Kysely's and the reader's alike).
    expect(plan("select * from runs order by created_at desc, id desc limit 1")).toMatch(/USING INDEX runs_created_at_id/);
    expect(plan("select * from runs order by created_at desc, id desc limit 1")).not.toMatch(/TEMP B-TREE/);
    raw.close();
  });

  it("waits for another process's write lock instead of failing", async () => {
    const path = join(dir, "two", "orch.db");
    const a = await openSqliteStore({ path });
    await a.append([runCreated("r1")]);
    // Another process holds the write lock for a moment, as a detached run does while it appends.
    const holder = spawn(
      process.execPath,
      [
        "-e",
        `const D = require(${JSON.stringify(require.resolve("better-sqlite3"))});
         const db = new D(process.argv[1]);
         db.exec("begin immediate");
         db.prepare("insert into events (at, run_id, type, data) values (1, 'r1', 'run.noted', '{\\"message\\":\\"x\\"}')").run();
         console.log("locked");
         setTimeout(() => { db.exec("commit"); db.close(); }, 400);`,
        path,
      ],
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    await new Promise<void>((resolve) => holder.stdout.once("data", () => resolve()));
    await a.append([{ type: "run.started", runId: "r1", data: { pid: 1, host: "h", detached: true } }]);
    await new Promise((resolve) => holder.once("exit", resolve));
    expect((await a.getRun("r1"))?.status).toBe("running");
    expect((await a.readEvents({ runId: "r1" })).map((e) => e.type)).toEqual(["run.created", "run.noted", "run.started"]);
    await a.close();
  });

  it("a damaged file is a JournalDamagedError naming the file: at open, or at the first read or write that meets the damage", async () => {
    const path = join(dir, "damaged", "orch.db");
    const store = await openSqliteStore({ path });
    await store.append([runCreated("r1"), runCreated("r2")]);
    await store.close();
    const sound = readFileSync(path);

    const garbage = Buffer.from(sound);
    garbage.write("not the header of a SQLite database file", 0);
    writeFileSync(path, garbage);
    const refused = openSqliteStore({ path });
    await expect(refused).rejects.toBeInstanceOf(JournalDamagedError);
    await expect(refused).rejects.toMatchObject({ file: path, problem: "damaged", detail: "file is not a database (SQLITE_NOTADB)" });
    await expect(refused).rejects.toHaveProperty("cause.code", "SQLITE_NOTADB");

    // One table's page overwritten: the journal opens, and the first query into that table says it is damaged.
    const pageOf = (table: string): number => {
      writeFileSync(path, sound);
      const db = new BetterSqlite3(path, { readonly: true });
      const page = Number(db.prepare("select rootpage from sqlite_master where name = ?").pluck().get(table));
      const size = Number(db.pragma("page_size", { simple: true }));
      db.close();
      return (page - 1) * size;
    };
    for (const table of ["events", "runs"]) {
      const broken = Buffer.from(sound);
      broken.fill(0xa5, pageOf(table), pageOf(table) + 512);
      writeFileSync(path, broken);
      const opened = await openSqliteStore({ path });
      try {
        const read = table === "events" ? opened.readEvents({ runId: "r1" }) : opened.getRun("r1");
        await expect(read).rejects.toMatchObject({ name: "JournalDamagedError", file: path, problem: "damaged" });
        // A write meets it inside its transaction: the same error, not one from the rollback.
        const write = opened.append([{ type: "run.started", runId: "r2", data: { pid: 1, host: "h", detached: false } }]);
        await expect(write).rejects.toBeInstanceOf(JournalDamagedError);
      } finally {
        await opened.close();
      }
    }
  });

  it("lets several processes open a new journal at the same moment: one migrates, the others wait and find it done", async () => {
    // Six processes that have loaded the store and wait on stdin; each line sent to all of them at once is a
    // new journal to open, so they race on creating the file, switching it to WAL and migrating it.
    const children = Array.from({ length: 6 }, () => startOpener());
    try {
      await Promise.all(children.map((c) => c.ready));
      for (let round = 0; round < 8; round++) {
        const path = join(dir, `first-use-${round}`, "orch.db");
        const opened = await Promise.all(children.map((c, i) => c.open(path, runCreated(`r${i}`))));
        expect(opened, `round ${round}`).toEqual(children.map(() => "done"));
        const raw = new BetterSqlite3(path, { readonly: true });
        expect(raw.prepare("select name from orch_migrations order by name").pluck().all()).toEqual(["0001_initial", "0002_leases", "0003_task_graph", "0004_reviews", "0005_runs_newest_first", "0006_events_by_type"]);
        expect(raw.prepare("select count(*) from runs").pluck().get()).toBe(children.length);
        raw.close();
      }
    } finally {
      for (const c of children) c.end();
    }
    for (const c of children) expect(await c.exited).toEqual({ code: 0, stderr: "" });
  });
});

interface Opener {
  ready: Promise<void>;
  /** Opens the journal at `path`, appends `event`, closes it: "done", or the first line of what went wrong. */
  open(path: string, event: NewEvent): Promise<string>;
  end(): void;
  exited: Promise<{ code: number | null; stderr: string }>;
}

/** A child process with the built store loaded, opening a journal for each line it reads. */
function startOpener(): Opener {
  const child = spawn(
    process.execPath,
    [
      "--input-type=module",
      "-e",
      `const { openSqliteStore } = await import(${JSON.stringify(BUILT_OPEN)});
       const { createInterface } = await import("node:readline");
       console.log("ready");
       for await (const line of createInterface({ input: process.stdin })) {
         const { path, event } = JSON.parse(line);
         try {
           const store = await openSqliteStore({ path });
           await store.append([event]);
           await store.close();
           console.log("done");
         } catch (error) {
           console.log(String(error).split("\\n")[0]);
         }
       }`,
    ],
    { stdio: ["pipe", "pipe", "pipe"] },
  );
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  const waiting: ((line: string) => void)[] = [];
  createInterface({ input: child.stdout }).on("line", (line) => waiting.shift()?.(line));
  const next = () => new Promise<string>((resolve) => waiting.push(resolve));
  return {
    ready: next().then((line) => {
      if (line !== "ready") throw new Error(`the child said ${line}`);
    }),
    open: (path, event) => {
      const answer = next();
      child.stdin.write(`${JSON.stringify({ path, event })}\n`);
      return answer;
    },
    end: () => child.stdin.end(),
    exited: new Promise((resolve, reject) => {
      child.once("error", reject);
      child.once("close", (code) => resolve({ code, stderr }));
    }),
  };
}
