// The run page when the server drops its stream: an in-process `orch serve` (src/server/listen.ts) with a queue of
// 40 frames per viewer, a run whose agent prints 3,000 lines at once while the page watches. The server tells the
// page to refetch; the page reads what it missed from the events pages, streams on from there, and ends up with the
// very lines a page opened afterwards reads from history alone: none lost, none twice.
import { writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { openRepoStore } from "../src/app/compose.js";
import { createRedactor } from "../src/core/redact.js";
import { listen, type RunningServer } from "../src/server/listen.js";
import type { Store } from "../src/store/store.js";
import { DESKTOP, launchBrowser, type Browser } from "./support/browser.js";
import { ORCH_MAIN } from "./support/cli.js";
import { FILES, untilEnded } from "./support/detached.js";
import { useSandboxes } from "./support/e2e.js";

const LINES = 3_000;
const sandboxes = useSandboxes({ prefix: "orch-dash-catch-", graceMs: 5_000 });
let browser: Browser | undefined;
let server: RunningServer | undefined;
let store: Store | undefined;

afterEach(async () => {
  await browser?.close();
  await server?.close();
  await store?.close();
  browser = undefined;
  server = undefined;
  store = undefined;
});

describe("the run page after the server drops its stream", () => {
  it("catches up from the events pages and streams on, every line once", async () => {
    const box = sandboxes.orchRepo(FILES);
    const agent = `while [ ! -e "$AGENT_OUT/go" ]; do sleep 0.05; done; i=0; while [ $i -lt ${LINES} ]; do i=$((i + 1)); echo "burst line $i"; done`;
    const started = await box.orch(["run", "print a burst", "--verify", "true", "--agent-command", agent, "--max-attempts", "1", "--detach"]);
    expect(started.code, started.stderr).toBe(0);
    const runId = /^Run (\S+) is running in the background/m.exec(started.stdout)?.[1] ?? "";

    const opened = await openRepoStore(box.repo.dir, { create: false });
    store = opened.store;
    server = await listen({
      host: "127.0.0.1",
      port: 0,
      loopbackOnly: true,
      store: opened.store,
      repoRoot: opened.repo.root,
      redactor: createRedactor(box.env),
      token: undefined,
      dashboardDir: resolve(import.meta.dirname, "../dist/dashboard"),
      launch: { entry: ORCH_MAIN, env: box.env },
      log: () => undefined,
      limits: { maxEvents: 40 },
    });
    const url = server.url.replace(/\/$/, "");
    browser = await launchBrowser();
    const page = await browser.page(DESKTOP);
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(String(e)));
    await page.goto(`${url}/#/runs/${runId}`);
    await expect.poll(() => page.locator(".live").getAttribute("data-live")).toBe("true");
    await expect.poll(() => page.locator(".vlist .row .txt").filter({ hasText: "attempt 1 started" }).count(), { timeout: 30_000 }).toBe(1);

    writeFileSync(join(box.out, "go"), "");
    await untilEnded(box, runId, 60_000);
    expect(server.counters.dropped).toBeGreaterThan(0);
    await expect.poll(() => page.locator("h1 .badge").getAttribute("data-status"), { timeout: 30_000 }).toBe("succeeded");

    // A page opened now reads the whole transcript from history: the live page must hold the same lines.
    const fresh = await browser.page(DESKTOP);
    await fresh.goto(`${url}/#/runs/${runId}`);
    await expect.poll(() => fresh.locator("h1 .badge").getAttribute("data-status")).toBe("succeeded");
    const count = (p: typeof page) => p.locator(".vlist").getAttribute("data-count");
    await expect.poll(async () => Number(await count(fresh))).toBeGreaterThan(LINES);
    const expected = await count(fresh);
    await expect.poll(() => count(page)).toBe(expected);
    // The last line is there once, and search finds the first burst line only once going round.
    await page.locator(".search input").fill(`burst line ${LINES}`);
    await page.locator(".search input").press("Enter");
    const first = await page.locator(".search-note").textContent();
    await page.locator(".search input").press("Enter");
    expect(await page.locator(".search-note").textContent()).toBe(first);
    expect(errors).toEqual([]);
  }, 150_000);
});
