// The dashboard in a real browser (Debian's chromium via playwright-core).
// (b) Heap: a million transcript lines streamed into the log view as the stream's JSON would bring them (parsed,
//     checked, made rows by the run page's TranscriptFeed, drawn by the virtual list), then the page's JS heap after a
//     full GC (CDP Performance.getMetrics, JSHeapUsedSize). Baseline: the same page with no lines, same run. Target:
//     under 300 MB.
import { rmSync } from "node:fs";
import type { Page } from "playwright-core";
import { buildTestPage, launchBrowser, serveStatic } from "../test/support/browser.js";
import { isMain, runBenchMain, say } from "./support/main.js";
import { baseline, type BenchResult, type Metric } from "./support/result.js";

const HEAP_LINES = Number(process.env["ORCH_BENCH_DASHBOARD_LINES"] ?? 1_000_000);
const HEAP_TARGET_BYTES = 300 * 1024 * 1024;

async function heapUsed(page: Page): Promise<number> {
  const cdp = await page.context().newCDPSession(page);
  try {
    await cdp.send("HeapProfiler.enable");
    await cdp.send("HeapProfiler.collectGarbage");
    await cdp.send("Performance.enable");
    const { metrics } = await cdp.send("Performance.getMetrics");
    const used = metrics.find((m) => m.name === "JSHeapUsedSize")?.value;
    if (used === undefined) throw new Error("chromium reported no JSHeapUsedSize");
    return used;
  } finally {
    await cdp.detach();
  }
}

async function benchHeap(): Promise<{ metric: Metric; notes: string[] }> {
  const dir = await buildTestPage("transcript-page");
  const server = await serveStatic(dir);
  const browser = await launchBrowser();
  try {
    const open = async (lines: number): Promise<{ page: Page; ms: number }> => {
      const page = await browser.page();
      const started = performance.now();
      await page.goto(`${server.url}?lines=${lines}&mode=json`);
      await page.waitForFunction(() => (globalThis as unknown as { page?: { filled: boolean } }).page?.filled === true, undefined, { timeout: 600_000, polling: 250 });
      return { page, ms: performance.now() - started };
    };
    const empty = await open(0);
    const base = await heapUsed(empty.page);
    await empty.page.close();
    const full = await open(HEAP_LINES);
    const used = await heapUsed(full.page);
    const rows = await full.page.locator(".vlist .row").count();
    const count = await full.page.locator(".vlist").getAttribute("data-count");
    await full.page.close();
    return {
      metric: {
        bench: "dashboard",
        label: `browser heap after ${HEAP_LINES.toLocaleString("en")} transcript lines`,
        figure: used,
        unit: "bytes",
        baselines: [baseline("the same page, no lines", base, "bytes", used)],
        target: "< 300 MB",
        pass: used < HEAP_TARGET_BYTES,
      },
      notes: [`heap: ${count ?? "?"} lines kept, ${rows} rows in the DOM, filled in ${(full.ms / 1000).toFixed(1)} s (${Math.round((HEAP_LINES / full.ms) * 1000).toLocaleString("en")} lines/s through parse, schema and rows)`],
    };
  } finally {
    await browser.close();
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function benchDashboard(): Promise<BenchResult> {
  const heap = await benchHeap();
  return { name: "dashboard", metrics: [heap.metric], notes: heap.notes };
}

if (isMain(import.meta.url)) {
  say(`dashboard: ${HEAP_LINES.toLocaleString("en")} lines into the log view in chromium…`);
  await runBenchMain(benchDashboard);
}
