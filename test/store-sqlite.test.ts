import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import BetterSqlite3 from "better-sqlite3";
import { spawn } from "node:child_process";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
import { openSqliteStore } from "../src/store/sqlite/open.js";
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
    expect(raw.prepare("select name from orch_migrations order by name").all()).toEqual([{ name: "0001_initial" }, { name: "0002_leases" }, { name: "0003_task_graph" }]);
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
});
