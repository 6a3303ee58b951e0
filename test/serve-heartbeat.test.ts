// The server in process (`server/listen.ts`) over a real SQLite journal, with its heartbeat made short: a quiet
// stream carries heartbeat comments (every 15 s in the real `orch serve`), and closing the server ends every
// stream.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { createRedactor } from "../src/core/redact.js";
import { listen, type RunningServer } from "../src/server/listen.js";
import { openSqliteStore } from "../src/store/sqlite/open.js";
import type { Store } from "../src/store/store.js";
import { waitFor } from "./support/cli.js";
import { openSse } from "./support/serve.js";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function serverWith(limits: Parameters<typeof listen>[0]["limits"]): Promise<{ server: RunningServer; store: Store }> {
  const dir = mkdtempSync(join(tmpdir(), "orch-serve-heartbeat-"));
  const store = await openSqliteStore({ path: join(dir, "orch.db") });
  cleanups.push(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const server = await listen({
    host: "127.0.0.1",
    port: 0,
    loopbackOnly: true,
    store,
    repoRoot: dir,
    redactor: createRedactor({}),
    token: undefined,
    dashboardDir: join(dir, "dashboard"),
    launch: { entry: "/nonexistent", env: {} },
    log: () => {},
    limits,
  });
  cleanups.push(() => server.close());
  return { server, store };
}

describe("SSE in process", () => {
  it("sends a heartbeat comment on a quiet stream", async () => {
    const { server } = await serverWith({ heartbeatMs: 50 });
    const stream = openSse(`${server.url}api/stream`);
    expect(await stream.status).toBe(200);
    await waitFor("two heartbeats", () => ((stream.text().match(/^: heartbeat$/gm) ?? []).length >= 2 ? true : undefined), 10_000);
    expect(stream.events()).toEqual([]);
    stream.close();
  });

  it("ends every stream when the server closes", async () => {
    const { server } = await serverWith({});
    const stream = openSse(`${server.url}api/stream`);
    expect(await stream.status).toBe(200);
    await waitFor("the server to count the stream", () => (server.counters.connected === 1 ? true : undefined));
    await server.close();
    await stream.closed;
    expect(server.counters.connected).toBe(0);
  });
});
