// The transcript's virtual list in a real browser (chromium via playwright-core) on a static page holding a million
// lines: the DOM keeps only the rows in view, scrolling reaches both ends, search finds the last line, following
// stops when the user scrolls up and resumes at the end, and hostile agent text stays text.
import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ARTIFACTS, buildTestPage, launchBrowser, PHONE, serveStatic, type Browser, type StaticServer } from "./support/browser.js";

const LINES = 1_000_000;
let dir = "";
let server: StaticServer | undefined;
let browser: Browser | undefined;

beforeAll(async () => {
  dir = await buildTestPage("transcript-page");
  server = await serveStatic(dir);
  browser = await launchBrowser();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  if (dir !== "") rmSync(dir, { recursive: true, force: true });
});

async function openPage(lines: number, size?: { width: number; height: number }): Promise<Page> {
  if (browser === undefined || server === undefined) throw new Error("no browser");
  const page = await browser.page(size);
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  await page.goto(`${server.url}?lines=${lines}`);
  await page.waitForFunction(() => (globalThis as unknown as { page?: { filled: boolean } }).page?.filled === true, undefined, { timeout: 60_000 });
  expect(errors).toEqual([]);
  return page;
}

const rowCount = (page: Page) => page.locator(".vlist .row").count();
const rowIndexes = (page: Page) => page.locator(".vlist .row").evaluateAll((rows) => rows.map((r) => Number(r.getAttribute("data-index"))));

describe("the transcript's virtual list over a million lines", () => {
  let page: Page;
  beforeAll(async () => {
    page = await openPage(LINES);
  }, 90_000);

  it("keeps only the rows in view in the DOM and follows the end", async () => {
    await expect.poll(() => page.locator(".vlist").getAttribute("data-count")).toBe(String(LINES));
    // Following: the last line is in view.
    await expect.poll(async () => (await rowIndexes(page)).includes(LINES - 1)).toBe(true);
    const rows = await rowCount(page);
    expect(rows).toBeGreaterThan(5);
    expect(rows).toBeLessThan(100);
    expect(await page.locator("body *").count()).toBeLessThan(300);
    await expect.poll(() => page.locator(".transcript .count").textContent()).toBe("1,000,000 lines");
  });

  it("scrolls to the top and back to the bottom", async () => {
    await page.locator(".vlist").evaluate((el) => {
      el.scrollTop = 0;
    });
    await expect.poll(async () => (await rowIndexes(page))[0]).toBe(0);
    await expect.poll(() => page.locator('.vlist .row[data-index="0"] .txt').textContent()).toBe("line 0: the agent reports progress on step 0 of the plan");
    expect(await page.locator("button.follow").getAttribute("aria-pressed")).toBe("false");
    // The middle, by proportion of the capped scroll height.
    await page.locator(".vlist").evaluate((el) => {
      el.scrollTop = (el.scrollHeight - el.clientHeight) / 2;
    });
    await expect.poll(async () => {
      const first = (await rowIndexes(page))[0] ?? 0;
      return Math.abs(first - LINES / 2) < 100;
    }).toBe(true);
    await page.locator(".vlist").evaluate((el) => {
      el.scrollTop = el.scrollHeight;
    });
    await expect.poll(async () => (await rowIndexes(page)).includes(LINES - 1)).toBe(true);
    // At the end again: following resumes.
    await expect.poll(() => page.locator("button.follow").getAttribute("aria-pressed")).toBe("true");
  });

  it("finds line 999,999 by searching, then the match before it, and marks the text", async () => {
    await page.locator(".vlist").evaluate((el) => {
      el.scrollTop = 0;
    });
    await page.locator(".search input").fill("line 999999:");
    await page.locator(".search input").press("Enter");
    await expect.poll(() => page.locator(".search-note").textContent()).toBe("line 1,000,000");
    await expect.poll(() => page.locator('.vlist .row.current[data-index="999999"] mark').textContent()).toBe("line 999999:");
    await page.locator(".search input").fill("step 96 of");
    await page.locator(".search input").press("Enter");
    // After the current match (999,999) the search wraps to the first line holding it.
    await expect.poll(() => page.locator(".search-note").textContent()).toBe("line 97");
    await page.locator(".search .prev").click();
    // Backwards from line 96 wraps to the last match: 999,999 - (999,999 - 96) % 97.
    const last = 999_999 - ((999_999 - 96) % 97);
    await expect.poll(() => page.locator(".search-note").textContent()).toBe(`line ${(last + 1).toLocaleString("en")}`);
    await expect.poll(() => page.locator(`.vlist .row.current[data-index="${last}"]`).count()).toBe(1);
    await page.locator(".search input").fill("no such text anywhere");
    await page.locator(".search input").press("Enter");
    await expect.poll(() => page.locator(".search-note").textContent()).toBe('no line holds "no such text anywhere"');
  });

  it("stops following when the user scrolls up and resumes at the end", async () => {
    await page.locator("button.follow").click();
    await expect.poll(() => page.locator("button.follow").getAttribute("aria-pressed")).toBe("true");
    await page.evaluate(() => (globalThis as unknown as { page: { push(n: number): void } }).page.push(10));
    await expect.poll(async () => (await rowIndexes(page)).includes(LINES + 9)).toBe(true);
    await page.locator(".vlist").hover();
    await page.mouse.wheel(0, -2_000);
    await expect.poll(() => page.locator("button.follow").getAttribute("aria-pressed")).toBe("false");
    // The wheel scrolls smoothly: wait until the view has come to rest.
    let before: number[] = [];
    await expect.poll(async () => {
      const now = await rowIndexes(page);
      const still = now.join() === before.join();
      before = now;
      return still;
    }).toBe(true);
    await page.evaluate(() => (globalThis as unknown as { page: { push(n: number): void } }).page.push(50));
    await expect.poll(() => page.locator(".vlist").getAttribute("data-count")).toBe(String(LINES + 60));
    // New lines do not move a paused view.
    expect(await rowIndexes(page)).toEqual(before);
    await page.locator(".vlist").evaluate((el) => {
      el.scrollTop = el.scrollHeight;
    });
    await expect.poll(() => page.locator("button.follow").getAttribute("aria-pressed")).toBe("true");
    await page.evaluate(() => (globalThis as unknown as { page: { push(n: number): void } }).page.push(5));
    await expect.poll(async () => (await rowIndexes(page)).includes(LINES + 64)).toBe(true);
  });
});

describe("hostile agent text", () => {
  it("renders markup and terminal escapes as text, on a phone", async () => {
    const page = await openPage(0, PHONE);
    let dialogs = 0;
    page.on("dialog", (d) => {
      dialogs += 1;
      void d.dismiss();
    });
    const hostile = '<img src=x onerror="window.pwned=1;alert(1)"> \u001b[31mred\u001b[0m <script>window.pwned=2</script>\u0007';
    await page.evaluate((text) => {
      const hooks = (globalThis as unknown as { page: { pushEvent(type: string, data: Record<string, unknown>): void } }).page;
      hooks.pushEvent("agent.emitted", { type: "text", text });
      hooks.pushEvent("agent.emitted", { type: "tool.returned", isError: true, exitCode: 1, output: `${text}\nsecond line\nthird line` });
    }, hostile);
    await expect.poll(() => page.locator(".vlist .row").count()).toBe(2);
    const first = page.locator('.vlist .row[data-index="0"] .txt');
    await expect.poll(() => first.textContent()).toBe('<img src=x onerror="window.pwned=1;alert(1)"> ␛[31mred␛[0m <script>window.pwned=2</script>␇');
    await expect.poll(() => page.locator('.vlist .row[data-index="1"] .txt').textContent()).toMatch(/^✗ error \(exit 1\): <img .*␇ {2}\[\+2 lines, \d+ chars — open the row\]$/);
    expect(await page.locator(".vlist img, .vlist script").count()).toBe(0);
    await page.locator('.vlist .row[data-index="1"]').click();
    await expect.poll(() => page.locator(".detail pre").textContent()).toContain("<img src=x onerror=");
    expect(await page.locator(".detail img").count()).toBe(0);
    expect(await page.evaluate(() => (globalThis as unknown as { pwned?: number }).pwned)).toBeUndefined();
    expect(dialogs).toBe(0);
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, "transcript-hostile-phone.png") });
    await page.close();
  });
});
