// `orch serve`'s JSON API against a real server on 127.0.0.1 (`--port 0`) over journals written by real `orch run`s
// with the command agent: each route gives what the CLI gives for the same run, bad inputs are refused in plain
// words with the right status, a key written into the journal before redaction existed is served redacted
// everywhere, and /metrics passes a strict Prometheus text parser.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { openSqliteStore } from "../src/store/sqlite/open.js";
import { parseEventLines, parseJsonOutput, parseRunResult, waitFor, ListJson, StatusJson } from "./support/cli.js";
import { FILES, GOAL, VERIFY } from "./support/detached.js";
import { fixtureAgent, useSandboxes, type OrchSandbox } from "./support/e2e.js";
import { FAKE_SHAPES } from "./support/fake-secrets.js";
import { task } from "./support/plans.js";
import { parsePrometheusText } from "./support/prometheus-text.js";
import { getJson, openSse, startServe } from "./support/serve.js";

const sandboxes = useSandboxes({ prefix: "orch-serve-api-", graceMs: 3_000 });

/** A finished run of two attempts: the first fails its verification, the second fixes sum.mjs. */
async function finishedRun(box: OrchSandbox): Promise<string> {
  const result = await box.orch(["run", GOAL, "--verify", VERIFY, "--agent-command", fixtureAgent("fix-on-attempt.sh"), "--no-review", "--json"]);
  const run = parseRunResult(result);
  expect(run.status, result.stderr).toBe("succeeded");
  return run.runId;
}

const errorOf = (body: unknown) => (body as { error: { code: string; message: string } }).error;

describe("orch serve: the JSON API", () => {
  it("answers every read route as the CLI does for the same run", async () => {
    const box = sandboxes.orchRepo(FILES);
    const runId = await finishedRun(box);
    const served = await startServe(sandboxes, box);
    try {
      const list = await getJson(`${served.url}api/runs`);
      expect(list.status).toBe(200);
      const listed = (await box.orch(["list", "--json"])).stdout;
      expect(parseJsonOutput(ListJson, listed).map((r) => r.runId)).toEqual([runId]);
      expect(list.body).toEqual({ runs: JSON.parse(listed) as unknown });
      expect(((await getJson(`${served.url}api/runs?limit=1`)).body as { runs: unknown[] }).runs).toHaveLength(1);

      // The status view, by id and by a unique prefix, is `orch status --json`'s.
      const cliStatus = JSON.parse((await box.orch(["status", runId, "--json"])).stdout) as unknown;
      const status = await getJson(`${served.url}api/runs/${runId}`);
      expect(status.status).toBe(200);
      expect(parseJsonOutput(StatusJson, JSON.stringify(status.body)).runId).toBe(runId);
      expect(status.body).toEqual(cliStatus);
      expect((await getJson(`${served.url}api/runs/${runId.slice(0, -2)}`)).body).toEqual(cliStatus);

      const attempts = (await getJson(`${served.url}api/runs/${runId}/attempts`)).body as { attempts: Record<string, unknown>[] };
      expect(attempts.attempts.map((a) => [a["number"], a["status"], (a["failure"] as { kind?: string } | null)?.kind ?? null, a["recovery"]])).toEqual([
        [1, "failed", "verify_failed", "attempt 2"],
        [2, "succeeded", null, null],
      ]);
      expect(attempts.attempts[0]).toMatchObject({ agent: "command", role: "implementer", taskId: expect.any(String), startedAt: expect.any(String), endedAt: expect.any(String) });

      // Pages of events, five at a time, give the journal of `orch logs --json` whole: no gap, no repeat.
      const logs = parseEventLines((await box.orch(["logs", runId, "--json"])).stdout);
      const paged: { seq: number; type: string }[] = [];
      let after = 0;
      for (let i = 0; i < 1_000; i++) {
        const page = (await getJson(`${served.url}api/runs/${runId}/events?after=${after}&limit=5`)).body as { events: { seq: number; type: string }[]; nextSeq: number; more: boolean };
        paged.push(...page.events);
        after = page.nextSeq;
        if (!page.more) break;
      }
      expect(paged.map((e) => `${e.seq} ${e.type}`)).toEqual(logs.map((e) => `${e.seq} ${e.type}`));
      const attemptId = String(attempts.attempts[1]?.["id"]);
      const ofAttempt = (await getJson(`${served.url}api/runs/${runId}/events?attempt=${attemptId}`)).body as { events: { attemptId: string }[] };
      expect(ofAttempt.events.length).toBeGreaterThan(0);
      expect(new Set(ofAttempt.events.map((e) => e.attemptId))).toEqual(new Set([attemptId]));
      const taskId = String(attempts.attempts[0]?.["taskId"]);
      const ofTask = (await getJson(`${served.url}api/runs/${runId}/events?task=${taskId}`)).body as { events: { taskId: string }[] };
      expect(new Set(ofTask.events.map((e) => e.taskId))).toEqual(new Set([taskId]));

      const report = await getJson(`${served.url}api/runs/${runId}/report`);
      expect(report.status).toBe(200);
      expect((report.body as { markdown: string }).markdown.trimEnd()).toBe((await box.orch(["report", runId])).stdout.trimEnd());
      const plan = await getJson(`${served.url}api/runs/${runId}/plan`);
      expect(plan.status).toBe(404);
      expect(errorOf(plan.body).message).toBe(`run ${runId} runs one task, without a plan`);

      // The dashboard `npm run build` made is served from the package: its page at / and for a client route, and
      // its assets (a folder without one says so in plain words: src/server/static.test.ts).
      const page = await fetch(served.url);
      expect(page.status).toBe(200);
      expect(page.headers.get("content-type")).toMatch(/^text\/html/);
      const html = await page.text();
      expect(html).toContain("<title>");
      const script = /src="\.?\/?(assets\/[^"]+\.js)"/.exec(html)?.[1];
      expect(script, html).toBeDefined();
      const asset = await fetch(new URL(script ?? "", served.url));
      expect(asset.status).toBe(200);
      expect(asset.headers.get("content-type")).toMatch(/javascript/);
      expect((await fetch(new URL("runs/some-run", served.url))).status).toBe(200);
    } finally {
      await served.stop();
    }
  });

  it("refuses bad input with a plain message and the right status", async () => {
    const box = sandboxes.orchRepo(FILES);
    const runId = await finishedRun(box);
    const other = await finishedRun(box);
    const served = await startServe(sandboxes, box);
    const api = `${served.url}api/runs`;
    try {
      const cases: [string, number, string, RequestInit?][] = [
        [`${api}?limit=0`, 400, "bad query: limit: a limit is at least 1"],
        [`${api}?limit=abc`, 400, "bad query: limit: a limit is a whole number"],
        [`${api}?limit=1001`, 400, "bad query: limit: a limit is at most 1000"],
        [`${api}?colour=red`, 400, 'bad query: Unrecognized key: "colour"'],
        [`${api}/${runId}/events?after=-1`, 400, "bad query: after: a sequence number is a whole number, 0 or more"],
        [`${api}/${runId}/events?limit=5001`, 400, "bad query: limit: a limit is at most 5000"],
        [`${api}/${runId}/events?task=nope`, 404, `run ${runId} has no task "nope"`],
        [`${api}/${runId}/events?attempt=${other}.x.1`, 404, `run ${runId} has no attempt "${other}.x.1"`],
        [`${api}/no-such-run`, 404, 'no run "no-such-run"'],
        [`${api}/bad%20ref`, 400, "bad run reference: a run id (or its prefix) holds letters, digits, '.', '_' and '-' only"],
        [`${api}/${runId}/stream?after=x`, 400, "bad query: after: a sequence number is a whole number, 0 or more"],
        [`${served.url}api/nothing/here`, 404, "no API route GET /api/nothing/here"],
        [`${api}/${runId}/pause`, 404, `no API route GET /api/runs/${runId}/pause`],
        [`${api}/${runId}/pause`, 400, "the body is not JSON; send nothing or {}", { method: "POST", body: "{oops" }],
        [`${api}/${runId}/pause`, 400, 'bad body: Unrecognized key: "force"', { method: "POST", body: '{"force":true}' }],
        [`${api}/${runId}/pause`, 409, `run ${runId} has already ended (succeeded)`, { method: "POST" }],
        [`${api}/${runId}/resume`, 409, `run ${runId} has already ended (succeeded); there is nothing to resume`, { method: "POST" }],
      ];
      // Two runs made within the same minute share their first characters.
      const shared = [...runId].findIndex((ch, i) => other[i] !== ch);
      if (shared > 1) cases.push([`${api}/${runId.slice(0, shared)}`, 400, `"${runId.slice(0, shared)}" matches 2 runs`]);
      for (const [url, status, message, init] of cases) {
        const reply = await getJson(url, init);
        expect([url, init?.method ?? "GET", reply.status]).toEqual([url, init?.method ?? "GET", status]);
        expect(errorOf(reply.body).message, url).toContain(message);
        expect(reply.headers.get("content-type")).toMatch(/^application\/json/);
      }
      const bad = await getJson(`${api}/${runId}/stream`, { headers: { "last-event-id": "12ab" } });
      expect(bad.status).toBe(400);
      expect(errorOf(bad.body).message).toBe("bad Last-Event-ID: a sequence number is a whole number, 0 or more");
    } finally {
      await served.stop();
    }
  });

  it("serves a planned run's plan", async () => {
    const box = sandboxes.orchRepo({ "CHANGELOG.md": "# Changelog\n" });
    const plan = join(box.repo.root, "plan.json");
    writeFileSync(plan, JSON.stringify({ tasks: [task("a", []), task("b", ["a"])] }));
    const result = await box.orch(["run", "two tasks", "--verify", "true", "--plan-file", plan, "--agent-command", fixtureAgent("plan-task.sh"), "--no-review", "--json"], { timeoutMs: 60_000 });
    const { runId } = parseRunResult(result);
    const served = await startServe(sandboxes, box);
    try {
      const reply = await getJson(`${served.url}api/runs/${runId}/plan`);
      expect(reply.status).toBe(200);
      const tasks = (reply.body as { plan: { tasks: { id: string; dependsOn: string[]; title: string }[] } }).plan.tasks;
      expect(tasks.filter((t) => t.id === "a" || t.id === "b").map((t) => [t.id, t.dependsOn, t.title])).toEqual([
        ["a", [], "make a"],
        ["b", ["a"], "make b"],
      ]);
    } finally {
      await served.stop();
    }
  });

  it("serves a key written into the journal before redaction existed redacted, in every answer", async () => {
    const box = sandboxes.orchRepo(FILES);
    const runId = await finishedRun(box);
    const key = FAKE_SHAPES["anthropic-key"];
    // Straight into the journal with the store, past the redacting store the engine writes through.
    const store = await openSqliteStore({ path: join(box.repo.dir, ".orch", "orch.db") });
    try {
      const [attempt] = await store.listAttempts({ runId });
      await store.append([
        { type: "run.noted", runId, data: { message: `the agent printed ANTHROPIC_API_KEY=${key}`, level: "warning" } },
        { type: "agent.emitted", runId, taskId: attempt?.taskId, attemptId: attempt?.id, data: { type: "text", text: `here is the key: ${key}` } },
      ]);
    } finally {
      await store.close();
    }
    const served = await startServe(sandboxes, box);
    try {
      const stream = openSse(`${served.url}api/runs/${runId}/stream?after=0`);
      const answers = [
        await fetch(`${served.url}api/runs/${runId}`).then((r) => r.text()),
        await fetch(`${served.url}api/runs/${runId}/events?limit=5000`).then((r) => r.text()),
        await fetch(`${served.url}api/runs/${runId}/report`).then((r) => r.text()),
        await fetch(`${served.url}api/runs/${runId}/attempts`).then((r) => r.text()),
        await fetch(`${served.url}api/runs`).then((r) => r.text()),
      ];
      // The key's own write is the journal's last: the replay has reached it once the stream says so.
      await waitForText(stream, "here is the key");
      stream.close();
      for (const text of [...answers, stream.text()]) expect(text).not.toContain(key.slice(8));
      expect(answers[0]).toContain("[redacted:anthropic-key]");
      expect(answers[1]).toContain("here is the key: [redacted:anthropic-key]");
      expect(stream.text()).toContain("here is the key: [redacted:anthropic-key]");
    } finally {
      await served.stop();
    }
  });

  it("exposes /metrics in the Prometheus text format, with the run's figures", async () => {
    const box = sandboxes.orchRepo(FILES);
    await finishedRun(box);
    const served = await startServe(sandboxes, box);
    try {
      const response = await fetch(`${served.url}metrics`);
      expect(response.status).toBe(200);
      expect(response.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
      const families = parsePrometheusText(await response.text());
      const value = (name: string, labels: Record<string, string> = {}) =>
        families.get(name)?.samples.find((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
      for (const family of families.values()) expect(family.help, family.name).toBeTruthy();
      expect(value("orch_runs", { status: "succeeded" })).toBe(1);
      expect(value("orch_runs", { status: "running" })).toBe(0);
      expect(families.get("orch_runs")?.type).toBe("gauge");
      expect(families.get("orch_attempts_total")?.type).toBe("counter");
      expect(value("orch_attempts_total", { agent: "command", model: "default", status: "failed" })).toBe(1);
      expect(value("orch_attempts_total", { agent: "command", model: "default", status: "succeeded" })).toBe(1);
      expect(value("orch_attempt_failures_total", { kind: "verify_failed" })).toBe(1);
      expect(value("orch_model_calls_total", { agent: "command", model: "default" })).toBe(2);
      expect(value("orch_server_sse_clients")).toBe(0);
      for (const name of ["orch_recoveries_total", "orch_slots", "orch_tasks", "orch_wait_seconds_total", "orch_waits_total", "orch_server_sse_dropped_clients_total"]) {
        expect(families.has(name), name).toBe(true);
      }
    } finally {
      await served.stop();
    }
  });
});

async function waitForText(stream: ReturnType<typeof openSse>, text: string): Promise<void> {
  await waitFor(`the stream to carry "${text}"`, () => (stream.text().includes(text) ? true : undefined));
}
