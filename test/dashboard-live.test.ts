// The dashboard end to end: the built `orch serve` over a repository where a detached run of the command agent
// works, the built dashboard in Debian's chromium. The runs list shows the run and follows it live; the run page
// shows output as it arrives, the attempt's own transcript and a row's whole event, hostile output as text; pause
// and resume from the page reach the journal; desktop and phone screenshots are kept in test-artifacts/.
import { mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import type { Page } from "playwright-core";
import { afterEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { ARTIFACTS, DESKTOP, launchBrowser, PHONE, type Browser } from "./support/browser.js";
import { ORCH_MAIN, waitFor, type RunningProcess } from "./support/cli.js";
import { detach, FILES, untilEnded } from "./support/detached.js";
import { fixtureAgent, useSandboxes, type OrchSandbox } from "./support/e2e.js";
import { FILES as PLAN_FILES, PLAN } from "./support/plans.js";

const AGENT = resolve(import.meta.dirname, "fixtures/dashboard/agent.sh");
const sandboxes = useSandboxes({ prefix: "orch-dash-", graceMs: 5_000 });
let browser: Browser | undefined;

afterEach(async () => {
  await browser?.close();
  browser = undefined;
});

/** `orch serve --port 0 [...extra]` in the sandbox's repository: its URL once it listens, and what it printed. */
async function serve(box: OrchSandbox, extra: readonly string[] = []): Promise<{ url: string; server: RunningProcess; printed(): string }> {
  let out = "";
  const server = sandboxes.start(process.execPath, [ORCH_MAIN, "serve", "--port", "0", ...extra], {
    cwd: box.repo.dir,
    env: box.env,
    timeoutMs: 170_000,
    onStdout: (chunk) => {
      out += chunk;
    },
  });
  const url = await waitFor("orch serve to listen", () => /at (http:\/\/127\.0\.0\.1:\d+)\/?/.exec(out)?.[1]);
  return { url, server, printed: () => out };
}

const Events = z.object({ events: z.array(z.object({ seq: z.number(), type: z.string(), data: z.unknown() })), more: z.boolean() });

/** The types of the run's journal events, read through the API. */
async function journalTypes(url: string, runId: string): Promise<string[]> {
  const types: string[] = [];
  let after = 0;
  for (;;) {
    const response = await fetch(`${url}/api/runs/${runId}/events?after=${after}&limit=5000`);
    const page = Events.parse(await response.json());
    types.push(...page.events.map((e) => e.type));
    const last = page.events[page.events.length - 1];
    if (!page.more || last === undefined) return types;
    after = last.seq;
  }
}

const text = (page: Page, selector: string) => page.locator(selector).first().textContent();

describe("the dashboard over a live run", () => {
  it("shows the run live, its transcript, and pauses and resumes it from the page", async () => {
    const box = sandboxes.orchRepo(FILES);
    const { url, server } = await serve(box);
    const { runId } = await detach(box, ["--agent-command", `sh '${AGENT}'`, "--max-attempts", "4"]);
    browser = await launchBrowser();
    const errors: string[] = [];

    // The runs list, left open: it follows the run through the all-runs stream.
    const list = await browser.page(DESKTOP);
    list.on("pageerror", (e) => errors.push(String(e)));
    await list.goto(`${url}/`);
    await expect.poll(() => list.locator(`tr[data-run="${runId}"] .badge`).getAttribute("data-status")).toBe("running");
    await expect.poll(() => list.locator(".live").getAttribute("data-live")).toBe("true");

    const page = await browser.page(DESKTOP);
    page.on("pageerror", (e) => errors.push(String(e)));
    let dialogs = 0;
    page.on("dialog", (d) => {
      dialogs += 1;
      void d.dismiss();
    });
    await page.goto(`${url}/`);
    await page.locator(`a[href="#/runs/${runId}"]`).click();
    await expect.poll(() => page.locator("main.run-page").getAttribute("data-run")).toBe(runId);
    await expect.poll(() => page.locator(".live").getAttribute("data-live")).toBe("true");

    // Output arrives while we watch: the count of lines grows, the newest tick is in view (following).
    await expect.poll(() => page.locator(".vlist .row .txt").filter({ hasText: /tick \d+/ }).count()).toBeGreaterThan(0);
    const countNow = async () => Number(await page.locator(".vlist").getAttribute("data-count"));
    const before = await countNow();
    await expect.poll(countNow).toBeGreaterThan(before + 5);
    await expect.poll(() => page.locator(".slot .doing").first().textContent()).toMatch(/^attempt 1: tick \d+$/);
    await expect.poll(() => page.locator('.card[data-card="attempts"] .value').textContent()).toBe("1 / 4");
    await expect.poll(() => page.locator('tr[data-criterion="node test.mjs"]').getAttribute("data-passed")).toBe("unknown");
    await expect.poll(() => page.locator(".graph .node").first().getAttribute("data-status")).toBe("running");

    // The hostile line is text: no image, no script ran, escapes visible.
    const hostile = page.locator(".vlist .row .txt").filter({ hasText: "onerror" });
    await page.locator(".vlist").evaluate((el) => {
      el.scrollTop = 0;
    });
    await expect.poll(() => hostile.count()).toBe(1);
    expect(await hostile.textContent()).toBe('<img src=x onerror="window.pwned=1"> ␛[31mred␛[0m alert');
    expect(await page.locator(".vlist img").count()).toBe(0);

    // The attempt's own transcript, and a row's whole event fetched from the journal.
    const attemptId = `${runId}.${(await page.locator(".graph .node").first().getAttribute("data-task")) ?? ""}.1`;
    await page.locator(`table.attempts a[href$="/attempts/${attemptId}"]`).click();
    await expect.poll(() => page.locator(".transcript-head select").inputValue()).toBe(attemptId);
    await expect.poll(() => page.locator(".vlist .row .txt").filter({ hasText: /tick \d+/ }).count()).toBeGreaterThan(0);
    expect(await page.locator(".vlist .row .src").count()).toBe(0);
    await page.locator(".vlist .row").filter({ hasText: "onerror" }).click().catch(async () => {
      await page.locator(".vlist").evaluate((el) => {
        el.scrollTop = 0;
      });
      await page.locator(".vlist .row").filter({ hasText: "onerror" }).click();
    });
    await expect.poll(() => text(page, ".detail pre")).toMatch(/^agent\.emitted · seq \d+ · .*\n\n<img src=x onerror="window.pwned=1"> ␛\[31mred␛\[0m alert$/);
    expect(await page.locator(".detail img").count()).toBe(0);

    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, "run-live-desktop.png"), fullPage: true });
    await page.setViewportSize(PHONE);
    await page.screenshot({ path: join(ARTIFACTS, "run-live-phone.png") });
    await page.screenshot({ path: join(ARTIFACTS, "run-live-phone-full.png"), fullPage: true });
    await page.setViewportSize(DESKTOP);

    // Pause from the page: the run finishes its attempt (we let the agent end), then pauses.
    await page.locator('button[data-action="pause"]').click();
    await expect.poll(() => text(page, ".control-message")).toMatch(/paus/i);
    await expect.poll(() => text(page, ".now")).toMatch(/pausing after the current attempt/);
    writeFileSync(join(box.out, "release"), "");
    await expect.poll(() => page.locator("h1 .badge").getAttribute("data-status"), { timeout: 30_000 }).toBe("paused");
    await expect.poll(() => list.locator(`tr[data-run="${runId}"] .badge`).getAttribute("data-status")).toBe("paused");
    const paused = await journalTypes(url, runId);
    expect(paused).toContain("run.stop-requested");
    expect(paused).toContain("run.paused");
    expect(paused).not.toContain("run.resumed");

    // Resume from the page: a new supervisor takes the run, attempt 2 fixes the bug, the run succeeds.
    await page.locator('button[data-action="resume"]').click();
    await expect.poll(() => page.locator("h1 .badge").getAttribute("data-status"), { timeout: 60_000 }).toBe("succeeded");
    const view = await untilEnded(box, runId, 60_000);
    expect(view.status).toBe("succeeded");
    const resumed = await journalTypes(url, runId);
    expect(resumed.indexOf("run.resumed")).toBeGreaterThan(resumed.indexOf("run.paused"));
    await expect.poll(() => page.locator('tr[data-criterion="node test.mjs"]').getAttribute("data-passed")).toBe("true");
    await expect.poll(() => list.locator(`tr[data-run="${runId}"] .badge`).getAttribute("data-status")).toBe("succeeded");
    await expect.poll(() => page.locator(".report h2, .report h3").count(), { timeout: 20_000 }).toBeGreaterThan(0);

    await page.screenshot({ path: join(ARTIFACTS, "run-done-desktop.png"), fullPage: true });
    await page.setViewportSize(PHONE);
    await page.screenshot({ path: join(ARTIFACTS, "run-done-phone-full.png"), fullPage: true });
    await list.setViewportSize(PHONE);
    await list.screenshot({ path: join(ARTIFACTS, "runs-phone.png"), fullPage: true });

    expect(await page.evaluate(() => (globalThis as unknown as { pwned?: number }).pwned)).toBeUndefined();
    expect(dialogs).toBe(0);
    // A run that does not exist: the API's message, in plain words, and the way back.
    await page.goto(`${url}/#/runs/no-such-run`);
    await expect.poll(() => text(page, "main .error")).toBe('no run "no-such-run" (`orch list` shows the runs of this repository)');
    expect(errors).toEqual([]);
    server.signal("SIGINT");
    expect((await server.done).code).toBe(0);
  }, 180_000);

  it("opens with ?token= once, then works by the cookie and drops the token from the address", async () => {
    const box = sandboxes.orchRepo(FILES);
    const { url, server, printed } = await serve(box, ["--token"]);
    const opened = await waitFor("the URL with the token", () => /open (http\S+\?token=\S+)/.exec(printed())?.[1]);
    browser = await launchBrowser();
    const page = await browser.page(PHONE);
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(String(e)));
    // Without the token nothing is served; with it once in the address, the cookie carries on.
    expect((await fetch(`${url}/api/runs`)).status).toBe(401);
    await page.goto(opened);
    await expect.poll(() => text(page, "main.runs-page")).toContain("No runs yet");
    await expect.poll(() => page.locator(".live").getAttribute("data-live")).toBe("true");
    expect(page.url()).toBe(`${url}/`);
    const { runId } = await detach(box, ["--agent-command", `sh '${AGENT}'`, "--max-attempts", "2"]);
    await expect.poll(() => page.locator(`tr[data-run="${runId}"]`).count()).toBe(1);
    writeFileSync(join(box.out, "release"), "");
    await untilEnded(box, runId, 60_000);
    expect(errors).toEqual([]);
    server.signal("SIGINT");
    expect((await server.done).code).toBe(0);
  }, 120_000);

  it("shows a commit the approval gate holds as `orch status` does", async () => {
    const box = sandboxes.orchRepo({ "README.md": "# app\n" });
    // CI configuration is high risk: the run ends waiting for a human (exit 3).
    const ran = await box.orch(["run", "add CI", "--verify", "test -f .github/workflows/ci.yml", "--agent-command", "mkdir -p .github/workflows && echo 'on: push' > .github/workflows/ci.yml", "--json"]);
    expect(ran.code, ran.stderr).toBe(3);
    const { runId } = z.object({ runId: z.string() }).parse(JSON.parse(ran.stdout));
    const status = z.object({ tasks: z.array(z.object({ id: z.string(), held: z.string().nullable() })) }).parse(JSON.parse((await box.orch(["status", runId, "--json"])).stdout));
    const held = status.tasks.find((t) => t.held !== null);
    if (held === undefined || held.held === null) throw new Error("the CLI shows no held task");
    const { url, server } = await serve(box);
    browser = await launchBrowser();
    const page = await browser.page(PHONE);
    await page.goto(`${url}/#/runs/${runId}`);
    await expect.poll(() => page.locator("h1 .badge").getAttribute("data-status")).toBe("waiting");
    await expect.poll(() => text(page, `.held li[data-held="${held.id}"]`)).toBe(`${held.id} held: ${held.held} — orch approve ${runId}/${held.id} or orch reject ${runId}/${held.id} --reason "…"`);
    expect(await page.locator(`.graph .node[data-task="${held.id}"]`).getAttribute("data-status")).toBe("held");
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, "held-phone.png") });
    server.signal("SIGINT");
    expect((await server.done).code).toBe(0);
  }, 120_000);

  it("draws a planned run's task graph with its edges and live slots", async () => {
    const box = sandboxes.orchRepo(PLAN_FILES, { TASK_SLEEP: "1" });
    const planFile = join(box.out, "plan.json");
    writeFileSync(planFile, JSON.stringify(PLAN));
    const { url, server } = await serve(box);
    const started = await box.orch(["run", "build the plan", "--plan-file", planFile, "--verify", "node check.mjs", "--agent-command", fixtureAgent("plan-task.sh"), "--concurrency", "2", "--detach"]);
    expect(started.code, started.stderr).toBe(0);
    const runId = /^Run (\S+) is running in the background/m.exec(started.stdout)?.[1] ?? "";
    browser = await launchBrowser();
    const page = await browser.page(DESKTOP);
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(String(e)));
    await page.goto(`${url}/#/runs/${runId}`);
    await expect.poll(() => page.locator(".graph .node").count()).toBeGreaterThanOrEqual(PLAN.tasks.length);
    const edges = await page.locator(".graph path.edge").evaluateAll((paths) => paths.map((p) => p.getAttribute("data-edge")).sort());
    expect(edges).toEqual(["api->api-tests", "api-tests->docs", "setup->api", "setup->ui", "ui->ui-tests", "ui-tests->docs"]);
    // Columns by depth: setup, then api and ui, then their tests, then docs.
    const x = async (id: string) => Number(/translate\((\d+)/.exec((await page.locator(`.graph .node[data-task="${id}"]`).getAttribute("transform")) ?? "")?.[1]);
    expect(await x("setup")).toBeLessThan(await x("api"));
    expect(await x("api")).toBe(await x("ui"));
    expect(await x("api-tests")).toBeLessThan(await x("docs"));
    // While it runs, an agent's slot shows its task and what it does.
    await expect.poll(() => page.locator(".slot").count(), { timeout: 30_000 }).toBeGreaterThan(0);
    await expect.poll(() => page.locator('.card[data-card="parallelism"] .value').textContent()).toMatch(/ of 2/);
    await expect.poll(() => page.locator("h1 .badge").getAttribute("data-status"), { timeout: 90_000 }).toBe("succeeded");
    for (const t of PLAN.tasks) await expect.poll(() => page.locator(`.graph .node[data-task="${t.id}"]`).getAttribute("data-status")).toBe("succeeded");
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.locator(".graph").screenshot({ path: join(ARTIFACTS, "graph-desktop.png") });
    await page.setViewportSize(PHONE);
    await page.screenshot({ path: join(ARTIFACTS, "plan-done-phone.png") });
    expect(errors).toEqual([]);
    server.signal("SIGINT");
    expect((await server.done).code).toBe(0);
  }, 180_000);
});
