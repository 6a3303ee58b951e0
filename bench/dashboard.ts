// The dashboard in a real browser (Debian's chromium via playwright-core).
// (a) Latency: a detached planned run of 16 `command` agents printing 500 lines/s each for 10 s, stamped when written;
//     the built `orch serve`; the built dashboard's run page in chromium, whose EventSource messages are stamped as they
//     reach the page (an init script wraps the page's listeners; the time after the page's own handler ran is kept
//     too). Baseline, same run: a bare SSE client (fetch in this process) on the same stream. Target: p99 < 250 ms.
// (b) Heap: a million transcript lines streamed into the log view as the stream's JSON would bring them (parsed,
//     checked, made rows by the run page's TranscriptFeed, drawn by the virtual list), then the page's JS heap after a
//     full GC (CDP Performance.getMetrics, JSHeapUsedSize). Baseline: the same page with no lines, same run. Target:
//     under 300 MB.
import { rmSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { Page } from "playwright-core";
import { z } from "zod";
import { startProcess, waitFor, type RunningProcess } from "../test/support/cli.js";
import { buildTestPage, DESKTOP, launchBrowser, serveStatic } from "../test/support/browser.js";
import { envNumber } from "./support/env-number.js";
import { isMain, runBenchMain, say } from "./support/main.js";
import { makeRepo, shellQuote } from "./support/repo.js";
import { baseline, type BenchResult, type Metric } from "./support/result.js";

/** The built CLI (from dist-bench/bench/, two levels up is the checkout). */
const ORCH_MAIN = resolve(import.meta.dirname, "../../dist/cli/main.js");
const AGENTS = envNumber("ORCH_BENCH_DASHBOARD_AGENTS", 16, 1);
const LINES_PER_S = envNumber("ORCH_BENCH_DASHBOARD_RATE", 500, 1);
const SECONDS = envNumber("ORCH_BENCH_DASHBOARD_SECONDS", 10, 1);
const P99_TARGET_MS = 250;
const RunJson = z.object({ runId: z.string() });
const Attempts = z.object({ attempts: z.array(z.object({ status: z.string() })) });

const wallNow = () => performance.timeOrigin + performance.now();

function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
}

/**
 * Stamps each line as it reaches the page: a `journal` message of the stream (before and after the page's own
 * handler), or a line of an events page the page fetched after a `refetch` notice. Each line counts once.
 */
const STAMP_SCRIPT = `(() => {
  const stamps = { arrived: [], handled: [], viaPages: 0, refetches: 0 };
  const seen = new Set();
  globalThis.benchStamps = stamps;
  const re = /tick (\\d+\\.\\d+) (\\S+) (\\d+)/g;
  const first = (text, at) => {
    const out = [];
    for (const m of text.matchAll(re)) {
      const key = m[2] + ":" + m[3];
      if (seen.has(key)) continue;
      seen.add(key);
      out.push(at - Number(m[1]));
    }
    return out;
  };
  const add = EventSource.prototype.addEventListener;
  EventSource.prototype.addEventListener = function (type, listener, options) {
    if (type !== "journal" || typeof listener !== "function") {
      if (type !== "refetch" || typeof listener !== "function") return add.call(this, type, listener, options);
      return add.call(this, type, function (message) {
        stamps.refetches += 1;
        return listener.call(this, message);
      }, options);
    }
    return add.call(this, type, function (message) {
      const at = performance.timeOrigin + performance.now();
      const delays = first(message.data, at);
      const result = listener.call(this, message);
      const spent = performance.timeOrigin + performance.now() - at;
      for (const d of delays) {
        stamps.arrived.push(d);
        stamps.handled.push(d + spent);
      }
      return result;
    }, options);
  };
  const fetch0 = globalThis.fetch;
  globalThis.fetch = async function (input, init) {
    const response = await fetch0.call(this, input, init);
    if (String(input).includes("/events?")) {
      const text = await response.clone().text();
      const delays = first(text, performance.timeOrigin + performance.now());
      stamps.viaPages += delays.length;
      for (const d of delays) stamps.arrived.push(d);
    }
    return response;
  };
})();`;

const Page = z.object({ events: z.array(z.object({ seq: z.number(), data: z.unknown() })), more: z.boolean() });

/**
 * A bare SSE reader of the run's stream, as a minimal client must be: each line's delay from its stamp to its arrival
 * here; after a `refetch` notice, the missed events from the events pages, then the stream again with `?after=`.
 */
function bareClient(base: string, runId: string, signal: AbortSignal) {
  const state = { delays: [] as number[], viaPages: 0, refetches: 0 };
  const seen = new Set<string>();
  const stamp = (text: string, at: number): number => {
    let n = 0;
    for (const m of text.matchAll(/tick (\d+\.\d+) (\S+) (\d+)/g)) {
      const key = `${m[2]}:${m[3]}`;
      if (seen.has(key)) continue;
      seen.add(key);
      state.delays.push(at - Number(m[1]));
      n += 1;
    }
    return n;
  };
  let ready: () => void = () => undefined;
  const live = new Promise<void>((done) => {
    ready = done;
  });
  const readStream = async (after: number | undefined): Promise<number | undefined> => {
    const response = await fetch(`${base}/api/runs/${runId}/stream${after === undefined ? "" : `?after=${after}`}`, { signal, headers: { accept: "text/event-stream" } });
    if (response.body === null) throw new Error("the stream has no body");
    ready();
    const decoder = new TextDecoder();
    let pending = "";
    let refetch = false;
    for await (const chunk of response.body) {
      const at = wallNow();
      const lines = (pending + decoder.decode(chunk, { stream: true })).split("\n");
      pending = lines.pop() ?? "";
      for (const line of lines) {
        if (line === "event: refetch") refetch = true;
        else if (line.startsWith("data: ")) {
          if (refetch) {
            state.refetches += 1;
            return z.object({ afterSeq: z.number() }).parse(JSON.parse(line.slice(6))).afterSeq;
          }
          stamp(line, at);
        }
      }
    }
    return undefined;
  };
  const done = (async () => {
    let after: number | undefined;
    try {
      for (;;) {
        const refetchFrom = await readStream(after);
        if (refetchFrom === undefined) return;
        after = refetchFrom;
        for (;;) {
          const response = await fetch(`${base}/api/runs/${runId}/events?after=${after}&limit=5000`, { signal });
          const text = await response.text();
          state.viaPages += stamp(text, wallNow());
          const page = Page.parse(JSON.parse(text));
          const last = page.events[page.events.length - 1];
          if (last !== undefined) after = last.seq;
          if (!page.more || last === undefined) break;
        }
      }
    } catch (error) {
      if (!signal.aborted) throw error;
    }
  })();
  return { state, live, done };
}

async function benchLatency(): Promise<{ metric: Metric; notes: string[] }> {
  const repo = makeRepo("dashboard");
  const processes: RunningProcess[] = [];
  const browser = await launchBrowser();
  const abort = new AbortController();
  try {
    const ticker = fileURLToPath(new URL("./fixtures/dash-ticker.js", import.meta.url));
    const startFile = join(repo.tmp, "start");
    const planPath = join(repo.tmp, "plan.json");
    const tasks = Array.from({ length: AGENTS }, (_, i) => ({ id: `agent-${String(i + 1).padStart(2, "0")}`, title: `agent ${i + 1}`, goal: "print ticks", dependsOn: [] }));
    writeFileSync(planPath, JSON.stringify({ tasks }));
    const agent = `exec ${shellQuote(process.execPath)} ${shellQuote(ticker)} ${shellQuote(startFile)} ${LINES_PER_S} ${SECONDS}`;
    let served = "";
    const server = startProcess(process.execPath, [ORCH_MAIN, "serve", "--port", "0"], {
      cwd: repo.root,
      env: process.env,
      timeoutMs: 300_000,
      onStdout: (chunk) => {
        served += chunk;
      },
    });
    processes.push(server);
    const url = await waitFor("orch serve to listen", () => /at (http:\/\/127\.0\.0\.1:\d+)/.exec(served)?.[1], 30_000);
    const args = ["run", "print ticks", "--verify", "true", "--plan-file", planPath, "--concurrency", String(AGENTS), "--agent-command", agent, "--max-attempts", "1", "--detach", "--json"];
    const started = await startProcess(process.execPath, [ORCH_MAIN, ...args], { cwd: repo.root, env: process.env, timeoutMs: 60_000 }).done;
    if (started.code !== 0) throw new Error(`orch run --detach exited ${String(started.code)}: ${started.stderr.slice(-2_000)}`);
    const { runId } = RunJson.parse(JSON.parse(started.stdout));

    const bare = bareClient(url, runId, abort.signal);
    const page = await browser.page(DESKTOP);
    await page.addInitScript(STAMP_SCRIPT);
    await page.goto(`${url}/#/runs/${runId}`);
    await page.locator('.live[data-live="true"]').waitFor({ timeout: 60_000 });
    // A second baseline in the same browser: a page of the same origin doing nothing but an EventSource on the run's
    // stream with a listener that only stamps (what the browser's own event path costs, without the dashboard).
    const blank = await browser.page(DESKTOP);
    await blank.addInitScript(STAMP_SCRIPT);
    await blank.goto(`${url}/api/runs`);
    await blank.evaluate((stream) => {
      const source = new EventSource(stream);
      source.addEventListener("journal", () => undefined);
      return new Promise<void>((done) => source.addEventListener("open", () => done()));
    }, `/api/runs/${runId}/stream`);
    await bare.live;
    // Every agent running (and so waiting on the start file) before the first line.
    await waitFor(`${AGENTS} agents to run`, async () => {
      const response = await fetch(`${url}/api/runs/${runId}/attempts`);
      const running = Attempts.parse(await response.json()).attempts.filter((a) => a.status === "running").length;
      return running >= AGENTS ? true : undefined;
    }, 120_000);
    const cdp = await page.context().newCDPSession(page);
    await cdp.send("Performance.enable");
    const busy = async (): Promise<Record<string, number>> => {
      const { metrics } = await cdp.send("Performance.getMetrics");
      return Object.fromEntries(metrics.filter((m) => m.name === "TaskDuration" || m.name === "ScriptDuration" || m.name === "LayoutDuration" || m.name === "RecalcStyleDuration").map((m) => [m.name, m.value]));
    };
    const busyBefore = await busy();
    // ORCH_BENCH_DASHBOARD_PROFILE=FILE keeps a CPU profile of the page while the lines stream (open it in devtools).
    const profile = process.env["ORCH_BENCH_DASHBOARD_PROFILE"];
    if (profile !== undefined && profile !== "") {
      await cdp.send("Profiler.enable");
      await cdp.send("Profiler.start");
    }
    const streamStarted = performance.now();
    writeFileSync(startFile, "");
    const expected = AGENTS * Math.round(LINES_PER_S * SECONDS);
    await waitFor("the bare client to see every line", () => (bare.state.delays.length >= expected ? true : undefined), (SECONDS + 60) * 1000).catch((error: unknown) => {
      throw new Error(`${String(error)}: it saw ${bare.state.delays.length} of ${expected} and ${bare.state.refetches} refetch notices`);
    });
    await waitFor("the page to see every line", async () => ((await page.evaluate(() => (globalThis as unknown as { benchStamps: { arrived: number[] } }).benchStamps.arrived.length)) >= expected ? true : undefined), 60_000);
    await waitFor("the blank page to see every line", async () => ((await blank.evaluate(() => (globalThis as unknown as { benchStamps: { arrived: number[] } }).benchStamps.arrived.length)) >= expected ? true : undefined), 60_000).catch(() => undefined);
    const blankStamps = z.object({ arrived: z.array(z.number()), refetches: z.number() }).parse(await blank.evaluate(() => (globalThis as unknown as { benchStamps: unknown }).benchStamps));
    const stamps = z.object({ arrived: z.array(z.number()), handled: z.array(z.number()), viaPages: z.number(), refetches: z.number() }).parse(await page.evaluate(() => (globalThis as unknown as { benchStamps: unknown }).benchStamps));
    const busyAfter = await busy();
    if (profile !== undefined && profile !== "") writeFileSync(profile, JSON.stringify((await cdp.send("Profiler.stop")).profile));
    const streamSeconds = (performance.now() - streamStarted) / 1000;
    const spent = (name: string) => ((busyAfter[name] ?? 0) - (busyBefore[name] ?? 0)).toFixed(2);
    await cdp.detach();
    // The transcript draws new lines within half a second; the count it shows once it has.
    await waitFor("the page's transcript to show every line", async () => (Number(await page.locator(".vlist").getAttribute("data-count")) >= expected ? true : undefined), 30_000).catch(() => undefined);
    const count = await page.locator(".vlist").getAttribute("data-count");
    abort.abort();
    await bare.done;
    server.signal("SIGINT");
    await server.done;
    const sorted = (values: number[]) => [...values].sort((a, b) => a - b);
    const browserDelays = sorted(stamps.arrived);
    const handled = sorted(stamps.handled);
    const bareDelays = sorted(bare.state.delays);
    const blankDelays = sorted(blankStamps.arrived);
    const p99 = quantile(browserDelays, 0.99);
    return {
      metric: {
        bench: "dashboard",
        label: `agent line → browser event, p99 (${AGENTS} agents × ${LINES_PER_S} lines/s, ${browserDelays.length} lines)`,
        figure: p99,
        unit: "ms",
        baselines: [baseline("bare SSE client, p99", quantile(bareDelays, 0.99), "ms", p99), baseline("blank page's EventSource, p99", quantile(blankDelays, 0.99), "ms", p99)],
        target: `< ${P99_TARGET_MS} ms`,
        pass: p99 < P99_TARGET_MS,
      },
      notes: [
        `latency: load average ${loadavg().map((l) => l.toFixed(1)).join(" ")} at the end (the machine is shared)`,
        `latency: browser median ${quantile(browserDelays, 0.5).toFixed(1)} ms, p90 ${quantile(browserDelays, 0.9).toFixed(1)} ms, max ${browserDelays[browserDelays.length - 1]?.toFixed(1)} ms; after the page's handler p99 ${quantile(handled, 0.99).toFixed(1)} ms; blank page median ${quantile(blankDelays, 0.5).toFixed(1)} ms (${blankDelays.length} lines, ${blankStamps.refetches} refetch notices, not followed); bare client median ${quantile(bareDelays, 0.5).toFixed(1)} ms, max ${bareDelays[bareDelays.length - 1]?.toFixed(1)} ms; refetch notices: page ${stamps.refetches} (${stamps.viaPages} lines from pages), bare ${bare.state.refetches} (${bare.state.viaPages} lines from pages); the page's transcript holds ${count ?? "?"} lines; the page's main thread over those ${streamSeconds.toFixed(1)} s: tasks ${spent("TaskDuration")} s, script ${spent("ScriptDuration")} s, layout ${spent("LayoutDuration")} s, style ${spent("RecalcStyleDuration")} s`,
      ],
    };
  } finally {
    abort.abort();
    await browser.close();
    for (const p of processes) p.kill();
    repo.dispose();
  }
}

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
  const latency = await benchLatency();
  const heap = await benchHeap();
  return { name: "dashboard", metrics: [latency.metric, heap.metric], notes: [...latency.notes, ...heap.notes] };
}

if (isMain(import.meta.url)) {
  say(`dashboard: ${AGENTS} agents × ${LINES_PER_S} lines/s for ${SECONDS} s to chromium, then ${HEAP_LINES.toLocaleString("en")} lines into the log view…`);
  await runBenchMain(benchDashboard);
}
