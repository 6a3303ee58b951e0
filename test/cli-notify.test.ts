// Webhooks end to end through the built CLI: a real HTTP server on 127.0.0.1 as the receiver, `orch run` with the
// command agent. What each webhook got (both formats), retries journaled, a receiver that never answers bounded by
// the run's end, a burst rolled up, a wait resolved by the resume, and a bad webhook in the config refused.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { parseRunResult } from "./support/cli.js";
import { eventData, fixtureAgent as agent, readJournal, useSandboxes, type OrchSandbox } from "./support/e2e.js";
import { detach, untilEnded, untilGone } from "./support/detached.js";
import { FILES as PLAN_FILES, task } from "./support/plans.js";
import { startWebhookServer, type Answer, type WebhookServer } from "./support/webhook-server.js";

const sandboxes = useSandboxes({ prefix: "orch-cli-notify-", graceMs: 3_000 });
const servers: WebhookServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function receiver(answer?: Answer): Promise<WebhookServer> {
  const server = await startWebhookServer(answer);
  servers.push(server);
  return server;
}

const FILES = { "README.md": "# app\n" };
const DONE = ["run", "write done.txt", "--verify", "test -f done.txt", "--agent-command", "echo ok > done.txt", "--json"];

function config(box: OrchSandbox, yaml: string): void {
  writeFileSync(join(box.repo.dir, "orch.config.yaml"), yaml);
}

const Delivery = z.object({ webhook: z.number(), host: z.string(), event: z.string(), resolved: z.boolean(), items: z.number() });
const Sent = Delivery.extend({ attempts: z.number(), status: z.number() });
const Failed = Delivery.extend({ attempts: z.number(), status: z.number().optional(), error: z.string() });
const Dropped = z.object({ deliveries: z.array(Delivery), reason: z.string() });

/** A run of DONE (or `args`) with one webhook answering as `answer`, `settings` beside it under `notify:`. */
async function runWithHook(answer: Answer, settings: string, args: readonly string[] = DONE, expectedCode = 0) {
  const hook = await receiver(answer);
  const box = sandboxes.orchRepo(FILES);
  config(box, `notify:\n${settings}  webhooks:\n    - url: ${hook.url("/h")}\n`);
  const result = await box.orch(args);
  expect(result.timedOut).toBe(false);
  expect(result.code, result.stderr).toBe(expectedCode);
  const { runId } = parseRunResult(result);
  return { hook, box, runId, journal: readJournal(box.repo, runId) };
}

const JsonBody = z.object({
  kind: z.string(),
  resolved: z.boolean(),
  run: z.object({ id: z.string(), goal: z.string() }),
  count: z.number(),
  items: z.array(z.object({ task: z.string().optional(), title: z.string().optional(), status: z.string(), reason: z.string(), next: z.string() })),
  next: z.string().optional(),
  text: z.string(),
});
const SlackBody = z.object({ text: z.string(), blocks: z.array(z.object({ type: z.string() }).loose()).min(1) }).strict();

describe("orch run with webhooks", () => {
  it("a run that ends posts run.finished to each webhook in its format; the journal and the report say so; no URL path or header is journaled", async () => {
    const hook = await receiver();
    const box = sandboxes.orchRepo(FILES, { HOOK_TOKEN: "tok-4242-very-secret" });
    config(
      box,
      [
        "notify:",
        "  webhooks:",
        `    - url: ${hook.url("/plain/p4th-s3cret?key=q-s3cret")}`,
        "      events: [run.finished]",
        "      headers:",
        "        Authorization: Bearer ${HOOK_TOKEN}",
        `    - url: ${hook.url("/slack")}`,
        "      format: slack",
        "",
      ].join("\n"),
    );
    const result = await box.orch(DONE);
    expect(result.code, result.stderr).toBe(0);
    const { runId } = parseRunResult(result);

    const plain = hook.requests.filter((r) => r.path.startsWith("/plain"));
    expect(plain).toHaveLength(1);
    expect(plain[0]?.headers["authorization"]).toBe("Bearer tok-4242-very-secret");
    expect(plain[0]?.headers["content-type"]).toBe("application/json");
    const body = JsonBody.parse(JSON.parse(plain[0]?.body ?? ""));
    expect(body).toMatchObject({ kind: "run.finished", resolved: false, run: { id: runId, goal: "write done.txt" }, count: 1, next: `orch report ${runId}` });
    expect(body.items).toEqual([expect.objectContaining({ status: "succeeded", next: `orch report ${runId}` })]);

    const slack = hook.requests.filter((r) => r.path === "/slack");
    expect(slack).toHaveLength(1);
    const slackBody = SlackBody.parse(JSON.parse(slack[0]?.body ?? ""));
    expect(slackBody.text).toContain(`orch run ${runId}: the run ended`);
    expect(slackBody.text).toContain(`next: orch report ${runId}`);

    const journal = readJournal(box.repo, runId);
    const sent = eventData(journal, "notify.sent", Sent);
    expect(sent.map((s) => [s.webhook, s.event, s.attempts, s.status])).toEqual([
      [0, "run.finished", 1, 200],
      [1, "run.finished", 1, 200],
    ]);
    expect(sent[0]?.host).toBe(new URL(hook.url("/")).host);
    const everything = JSON.stringify(journal.events);
    for (const secret of ["p4th-s3cret", "q-s3cret", "tok-4242-very-secret", "HOOK_TOKEN"]) expect(everything).not.toContain(secret);

    const logs = await box.orch(["logs", runId]);
    expect(logs.stdout).toContain(`notice run.finished to notify.webhooks[0] (${sent[0]?.host ?? ""}) sent: HTTP 200 after 1 try`);
    const report = await box.orch(["report", runId]);
    expect(report.stdout).toContain("## Notifications");
    expect(report.stdout).toContain("notify.webhooks[1]");
  });

  it("a receiver that answers 500 twice then 200 is tried three times, and the journal says so", async () => {
    const { hook, journal } = await runWithHook((n) => (n < 2 ? { status: 500, headers: { "retry-after": "0" } } : { status: 200 }), "");
    expect(hook.requests).toHaveLength(3);
    expect(eventData(journal, "notify.sent", Sent).map((s) => [s.event, s.attempts, s.status])).toEqual([["run.finished", 3, 200]]);
    expect(eventData(journal, "notify.failed", Failed)).toEqual([]);
  });

  it("a receiver that refuses for good (404) is not tried again; the run succeeds and status warns", async () => {
    const { hook, box, runId, journal } = await runWithHook(() => ({ status: 404 }), "");
    expect(hook.requests).toHaveLength(1);
    expect(eventData(journal, "notify.failed", Failed).map((f) => [f.event, f.attempts, f.status, f.error])).toEqual([["run.finished", 1, 404, "HTTP 404"]]);
    expect((await box.status(runId)).warnings).toEqual([expect.stringContaining("not delivered after 1 try (last answer HTTP 404)")]);
  });

  it("a receiver that never answers does not hold the run past the bounded wait at its end; what was left is journaled", async () => {
    // A POST's own timeout far beyond the CLI's 30 s bound: only the end's wait (1 s) can let the run end in time.
    // The task fails: its notice is in flight (and hangs) when the run's end is queued behind it.
    const failing = ["run", "write done.txt", "--verify", "test -f done.txt", "--agent-command", "true", "--max-attempts", "1", "--json"];
    const { hook, journal } = await runWithHook(() => "hang", "  timeout: 10m\n  endWait: 1s\n", failing, 1);
    expect(hook.requests).toHaveLength(1);
    expect(eventData(journal, "notify.failed", Failed).map((f) => [f.event, f.attempts, f.error])).toEqual([["task.escalated", 1, "cut short by the run's end"]]);
    const dropped = eventData(journal, "notify.dropped", Dropped);
    expect(dropped.map((d) => [d.deliveries.map((x) => x.event), d.reason])).toEqual([[["run.finished"], "the run's end waited 1 s for deliveries; 1 had not started"]]);
    expect(journal.run.status).toBe("failed");
  });

  it("a detached supervisor delivers too, and nothing of the delivery keeps it from exiting", async () => {
    const hook = await receiver();
    const box = sandboxes.orchRepo(FILES);
    config(box, `notify:\n  webhooks:\n    - url: ${hook.url("/h")}\n`);
    const { runId, result } = await detach(box, ["--agent-command", "true", "--max-attempts", "1"]);
    const pid = Number(/\(pid (\d+)\)/.exec(result.stdout)?.[1]);
    expect(await untilEnded(box, runId)).toMatchObject({ status: "failed" });
    await untilGone("the detached supervisor", pid);
    expect(hook.requests.map((r) => JsonBody.parse(JSON.parse(r.body)).kind)).toEqual(["task.escalated", "run.finished"]);
    const log = readFileSync(join(box.repo.dir, ".orch", "logs", runId, "orch.log"), "utf8");
    expect(log).not.toContain("still open");
    expect(log).toContain(`run ${runId} ended: failed`);
  });

  it("tasks blocked together behind a failed one are rolled up into one notice", async () => {
    const hook = await receiver();
    const plan = { tasks: [task("setup", []), task("api", ["setup"]), task("ui", ["setup"]), task("docs", ["api", "ui"])] };
    const box = sandboxes.orchRepo({ ...PLAN_FILES, "plan.json": JSON.stringify(plan) }, { FAIL_TASK: "setup" });
    config(box, `notify:\n  webhooks:\n    - url: ${hook.url("/h")}\n      events: [task.escalated]\n`);
    const result = await box.orch(["run", "make files", "--verify", "node check.mjs", "--plan-file", "plan.json", "--agent-command", agent("plan-task.sh"), "--max-attempts", "1", "--json"]);
    expect(result.code, result.stderr).toBe(1);
    const bodies = hook.requests.map((r) => JsonBody.parse(JSON.parse(r.body)));
    expect(bodies.map((b) => b.kind)).toEqual(["task.escalated"]);
    expect(bodies[0]?.items.map((i) => [i.task, i.status])).toEqual([
      ["setup", "failed"],
      ["api", "blocked"],
      ["ui", "blocked"],
      ["docs", "blocked"],
    ]);
    expect(bodies[0]?.text).toContain("4 tasks need a look");
  });

  it("a run that waits for a human is announced (to a webhook that wants task.waiting), and the resume resolves it", async () => {
    const hook = await receiver();
    const box = sandboxes.orchRepo({ "sum.mjs": "export function sum(a, b) {\n  return a - b;\n}\n", "test.mjs": 'import { sum } from "./sum.mjs";\nif (sum(2, 3) !== 5) process.exit(1);\n' });
    config(box, `notify:\n  webhooks:\n    - url: ${hook.url("/h")}\n      events: [task.waiting]\n`);
    const first = await box.orch(["run", "fix sum", "--verify", "node test.mjs", "--agent-command", agent("auth-until-key.sh"), "--json"]);
    expect(first.code, first.stderr).toBe(3);
    const { runId } = parseRunResult(first);
    writeFileSync(join(box.out, "key"), "fixed\n");
    const resumed = await box.orch(["resume", runId, "--json"]);
    expect(resumed.code, resumed.stderr).toBe(0);
    const bodies = hook.requests.map((r) => JsonBody.parse(JSON.parse(r.body)));
    expect(bodies.map((b) => [b.kind, b.resolved, b.next])).toEqual([
      ["run.waiting", false, `orch resume ${runId}`],
      ["run.waiting", true, undefined],
    ]);
    expect(bodies[1]?.text).toContain("the run no longer waits");
  });
});

describe("a bad webhook in orch.config.yaml", () => {
  it("is exit 2 before anything is written, every problem named at its line", async () => {
    const box = sandboxes.orchRepo(FILES);
    config(
      box,
      [
        "notify:",
        "  webhooks:",
        "    - url: ftp://example.com/hook",
        "      events: [run.finshed]",
        "      format: teams",
        "      headers:",
        "        Authorization: Bearer ${TOKEN",
        "",
      ].join("\n"),
    );
    const result = await box.orch(DONE);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/orch\.config\.yaml:3: notify\.webhooks\.0\.url: expected an http:\/\/ or https:\/\/ URL/);
    expect(result.stderr).toMatch(/orch\.config\.yaml:4: notify\.webhooks\.0\.events\.0: must be one of .*"run\.finished"/);
    expect(result.stderr).toMatch(/orch\.config\.yaml:5: notify\.webhooks\.0\.format: must be one of "json", "slack"/);
    expect(result.stderr).toMatch(/orch\.config\.yaml:7: notify\.webhooks\.0\.headers\.Authorization: a header value is one line; name an environment variable as \$\{NAME\}/);
    const list = await box.orch(["list", "--json"]);
    expect(list.stdout).not.toContain("write done.txt");
  });
});
