// `orch serve` under viewers: the built CLI's server in a repository, detached runs of the built CLI whose agent
// prints lines at 500 a second, and SSE viewers in this process that stamp each event as it arrives. Latency is
// journal append (the event's `at`) → receipt by a viewer; the server's RSS is read from /proc every 100 ms.
//   bare:      1 viewer, 5,000 lines at 500/s (the baseline)
//   viewers:   100 viewers, the same run again: p99 latency and RSS growth against the bare run
//   burst:     1 viewer reading a burst of 100,000 lines, twice (the first warms the server up to its working heap)
//   stalled:   the same burst with one more viewer that reads nothing: RSS grows no more than without it (it is
//              dropped with a refetch)
import { request, type ClientRequest, type IncomingMessage } from "node:http";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import { startProcess, type RunningProcess } from "../test/support/cli.js";
import { envNumber } from "./support/env-number.js";
import { isMain, runBenchMain, say } from "./support/main.js";
import { makeRepo, shellQuote } from "./support/repo.js";
import { baseline, type BenchResult } from "./support/result.js";

const ROOT = resolve(import.meta.dirname, "../..");
const ORCH_MAIN = resolve(ROOT, "dist/cli/main.js");
const VIEWERS = envNumber("ORCH_BENCH_SERVE_VIEWERS", 100, 1);
const LINES = envNumber("ORCH_BENCH_SERVE_LINES", 5_000, 100);
const RATE = envNumber("ORCH_BENCH_SERVE_RATE", 500, 1);
const BURST = envNumber("ORCH_BENCH_SERVE_BURST", 100_000, 1_000);
const TARGET_P99_MS = 250;
const TARGET_GROWTH_MB = 64;
const TARGET_STALLED_MB = 16;
const MB = 1024 * 1024;

const now = () => performance.timeOrigin + performance.now();
const RunJson = z.object({ runId: z.string() });
const EMITTED = /"type":"agent\.emitted","runId":"([^"]+)","taskId":[^,]*,"attemptId":[^,]*,"at":(\d+)/g;

function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
}

function rssOf(pid: number): number {
  const kb = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1];
  return Number(kb ?? 0) * 1024;
}

/**
 * One SSE viewer: latencies of the agent events of `runId`, and whether it saw the run's end. A reading viewer
 * reconnects with Last-Event-ID when the server ends its stream (as a browser's EventSource does); a paused one
 * reads nothing and never reconnects.
 */
class Viewer {
  readonly latencies: number[] = [];
  finished = false;
  reconnects = 0;
  readonly connected: Promise<void>;
  #tail = "";
  #lastId = 0;
  #closed = false;
  #req: ClientRequest | undefined;
  #res: IncomingMessage | undefined;
  constructor(
    readonly url: string,
    readonly runId: () => string | undefined,
    readonly paused = false,
  ) {
    this.connected = this.#connect();
  }
  #connect(): Promise<void> {
    return new Promise((ready) => {
      const headers: Record<string, string> = { accept: "text/event-stream", ...(this.#lastId > 0 ? { "last-event-id": String(this.#lastId) } : {}) };
      this.#tail = "";
      this.#req = request(this.url, { headers }, (res) => {
        this.#res = res;
        res.setEncoding("utf8");
        if (this.paused) res.pause();
        res.on("data", (chunk: string) => this.#take(chunk));
        res.on("error", () => {});
        res.on("close", () => {
          if (this.#closed || this.paused || this.finished) return;
          this.reconnects++;
          void this.#connect();
        });
        ready();
      });
      this.#req.on("error", () => ready());
      this.#req.end();
    });
  }
  #take(chunk: string): void {
    const at = now();
    const text = this.#tail + chunk;
    const cut = text.lastIndexOf("\n\n");
    if (cut < 0) {
      this.#tail = text;
      return;
    }
    this.#tail = text.slice(cut + 2);
    const whole = text.slice(0, cut);
    const runId = this.runId();
    for (const match of whole.matchAll(EMITTED)) if (match[1] === runId) this.latencies.push(at - Number(match[2]));
    for (const match of whole.matchAll(/^id: (\d+)$/gm)) this.#lastId = Number(match[1]);
    if (runId !== undefined && whole.includes(`"type":"run.finished","runId":"${runId}"`)) this.finished = true;
  }
  close(): void {
    this.#closed = true;
    this.#res?.destroy();
    this.#req?.destroy();
  }
}

async function until(what: string, test: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!test()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

interface Phase {
  /** The server's heap in use at the end of the phase (from /metrics). */
  heapBytes: number;
  latencies: number[];
  reconnects: number;
  growthBytes: number;
  startBytes: number;
  dropped: number;
}

export async function benchServe(): Promise<BenchResult> {
  const repo = makeRepo("serve");
  let server: RunningProcess | undefined;
  try {
    let out = "";
    server = startProcess(process.execPath, [ORCH_MAIN, "serve", "--port", "0"], { cwd: repo.root, env: process.env, timeoutMs: 20 * 60_000, onStdout: (chunk) => (out += chunk) });
    await until("orch serve to print its URL", () => /at http:\/\/\S+\//.test(out), 20_000);
    const url = /at (http:\/\/\S+\/)/.exec(out)?.[1] ?? "";
    const pid = server.pid;
    const pacer = fileURLToPath(new URL("./fixtures/pacer.js", import.meta.url));
    const spew = fileURLToPath(new URL("./fixtures/spew.js", import.meta.url));

    const dropped = async (): Promise<number> => Number(/^orch_server_sse_dropped_clients_total (\d+)$/m.exec(await (await fetch(`${url}metrics`)).text())?.[1] ?? "0");

    const phase = async (viewers: number, agent: string, stalled: number): Promise<Phase> => {
      let runId: string | undefined;
      const all = Array.from({ length: viewers }, () => new Viewer(`${url}api/stream`, () => runId));
      const idle = Array.from({ length: stalled }, () => new Viewer(`${url}api/stream`, () => runId, true));
      await Promise.all([...all, ...idle].map((v) => v.connected));
      const droppedBefore = await dropped();
      global.gc?.();
      const startBytes = rssOf(pid);
      let peak = startBytes;
      const sampler = setInterval(() => (peak = Math.max(peak, rssOf(pid))), 100);
      try {
        const started = startProcess(process.execPath, [ORCH_MAIN, "run", "serve bench", "--verify", "true", "--agent-command", agent, "--no-review", "--detach", "--json"], {
          cwd: repo.root,
          env: process.env,
          timeoutMs: 60_000,
        });
        const result = await started.done;
        if (result.code !== 0) throw new Error(`orch run --detach exited ${String(result.code)}: ${result.stderr.slice(-2_000)}`);
        runId = RunJson.parse(JSON.parse(result.stdout)).runId;
        await until("every viewer to see the run end", () => all.every((v) => v.finished), 10 * 60_000);
      } finally {
        clearInterval(sampler);
        for (const v of [...all, ...idle]) v.close();
      }
      const latencies = all.flatMap((v) => v.latencies).sort((a, b) => a - b);
      const metrics = await (await fetch(`${url}metrics`)).text();
      const heapBytes = Number(/^orch_server_heap_bytes\{kind="used"\} (\d+)$/m.exec(metrics)?.[1] ?? "0");
      return {
        heapBytes, latencies, reconnects: all.reduce((sum, v) => sum + v.reconnects, 0), growthBytes: peak - startBytes, startBytes, dropped: (await dropped()) - droppedBefore };
    };

    const paced = `exec ${shellQuote(process.execPath)} ${shellQuote(pacer)} ${LINES} ${RATE} 1500`;
    const burst = `exec ${shellQuote(process.execPath)} ${shellQuote(spew)} ${BURST}`;
    say(`serve: 1 viewer, ${LINES} lines at ${RATE}/s…`);
    const bare = await phase(1, paced, 0);
    say(`serve: ${VIEWERS} viewers, the same…`);
    const many = await phase(VIEWERS, paced, 0);
    say(`serve: a burst of ${BURST} lines, 1 viewer (warming up), then again…`);
    await phase(1, burst, 0);
    const burstAlone = await phase(1, burst, 0);
    say(`serve: the same burst with one stalled viewer more…`);
    const withStalled = await phase(1, burst, 1);

    const p99 = quantile(many.latencies, 0.99);
    const bareP99 = quantile(bare.latencies, 0.99);
    const expected = LINES * VIEWERS;
    // A first burst warms the server up to its working size; the second is the baseline; beyond it, the stalled
    // phase's growth is what the stalled viewer costs (RSS follows the garbage collector: a few MB either way).
    const stalledGrowth = withStalled.growthBytes - burstAlone.growthBytes;
    return {
      name: "serve",
      metrics: [
        {
          bench: "serve",
          label: `journal → ${VIEWERS} SSE viewers, p99 (${RATE} events/s)`,
          figure: p99,
          unit: "ms",
          baselines: [baseline("1 bare viewer, p99", bareP99, "ms", p99)],
          target: `< ${TARGET_P99_MS} ms`,
          pass: p99 < TARGET_P99_MS && many.latencies.length >= expected * 0.99,
        },
        {
          bench: "serve",
          label: `server RSS growth with ${VIEWERS} viewers`,
          figure: many.growthBytes,
          unit: "bytes",
          baselines: [baseline("with 1 viewer", bare.growthBytes, "bytes", many.growthBytes)],
          target: `< ${TARGET_GROWTH_MB} MB`,
          pass: many.growthBytes < TARGET_GROWTH_MB * MB,
        },
        {
          bench: "serve",
          label: `server RSS growth through a burst of ${BURST} events with a stalled viewer, beyond the same burst without`,
          figure: Math.max(0, stalledGrowth),
          unit: "bytes",
          baselines: [baseline("the burst's growth without it (after a warm-up burst)", burstAlone.growthBytes, "bytes", Math.max(0, stalledGrowth))],
          target: `< ${TARGET_STALLED_MB} MB, and the stalled viewer dropped`,
          pass: stalledGrowth < TARGET_STALLED_MB * MB && withStalled.dropped === 1 + withStalled.reconnects,
        },
      ],
      notes: [
        `serve: ${many.latencies.length} of ${expected} events received by ${VIEWERS} viewers; median ${quantile(many.latencies, 0.5).toFixed(1)} ms (bare ${quantile(bare.latencies, 0.5).toFixed(1)} ms), max ${many.latencies[many.latencies.length - 1]?.toFixed(1)} ms`,
        `serve: server RSS at the start of each phase ${[bare, many, burstAlone, withStalled].map((p) => (p.startBytes / MB).toFixed(1)).join(" / ")} MB; growth ${[bare, many, burstAlone, withStalled].map((p) => (p.growthBytes / MB).toFixed(1)).join(" / ")} MB`,
        `serve: server heap in use at the end of each phase ${[bare, many, burstAlone, withStalled].map((p) => (p.heapBytes / MB).toFixed(1)).join(" / ")} MB`,
        `serve: viewers dropped ${[bare, many, burstAlone, withStalled].map((p) => p.dropped).join(" / ")}, of which reading viewers that reconnected ${[bare, many, burstAlone, withStalled].map((p) => p.reconnects).join(" / ")} (bare / ${VIEWERS} viewers / burst / burst with a stalled viewer)`,
      ],
    };
  } finally {
    server?.signal("SIGTERM");
    await server?.done;
    // The last run's supervisor may still be writing its delivery for a moment after its end.
    for (let tries = 0; ; tries++) {
      try {
        repo.dispose();
        break;
      } catch (error) {
        if (tries >= 20) throw error;
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    }
  }
}

if (isMain(import.meta.url)) {
  say(`serve: ${VIEWERS} SSE viewers at ${RATE} events/s, and one stalled viewer…`);
  await runBenchMain(benchServe);
}
