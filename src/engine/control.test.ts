import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { runCreated } from "../../test/support/store-conformance.js";
import type { StopMode } from "../core/run.js";
import { openSqliteStore } from "../store/sqlite/open.js";
import type { Store } from "../store/store.js";
import { watchStopRequests } from "./control.js";
import { silentLogger } from "./logger.js";

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

async function journal(path: string): Promise<Store> {
  const store = await openSqliteStore({ path });
  cleanup.push(() => store.close());
  return store;
}

describe("watchStopRequests", () => {
  it("hears a request another process writes when the journal changes, without waiting for its timer", async () => {
    const dir = mkdtempSync(join(tmpdir(), "orch-control-"));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const path = join(dir, "orch.db");
    const supervisor = await journal(path);
    const cli = await journal(path);
    await cli.append([runCreated("r1")]);
    const heard: StopMode[] = [];
    // A timer of ten minutes: within this test only the journal's change notice can bring the request.
    const watcher = watchStopRequests(supervisor, "r1", { intervalMs: 600_000, logger: silentLogger, onRequest: (mode) => heard.push(mode) });
    cleanup.push(() => watcher.dispose());
    await cli.append([{ type: "run.stop-requested", runId: "r1", data: { mode: "pause", by: "orch pause" } }]);
    await expect.poll(() => heard, { timeout: 5_000 }).toEqual(["pause"]);
    expect(watcher.current()).toBe("pause");
    await cli.append([{ type: "run.stop-requested", runId: "r1", data: { mode: "abort", by: "orch abort" } }]);
    await expect.poll(() => heard, { timeout: 5_000 }).toEqual(["pause", "abort"]);
  });
});
