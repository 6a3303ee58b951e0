import { describe, expect, it } from "vitest";
import type { EventBody, StoredEvent } from "./journal.js";
import {
  deliveryDelay,
  describeDelivery,
  due,
  emptyOutbox,
  evolveNotices,
  hold,
  initialNotifyState,
  MAX_LISTED,
  NOTICE_EVENT_TYPES,
  renderNotice,
  resolveHeaders,
  retriable,
  retryAfterMs,
  wants,
  type Notice,
  type NotifyState,
  type Webhook,
} from "./notify.js";
import { createRedactor } from "./redact.js";

const RUN = "261207-1200-abcd";
let seq = 0;
function ev(body: EventBody, taskId?: string): StoredEvent {
  seq += 1;
  return { ...body, seq, at: 1_000 + seq, runId: RUN, ...(taskId !== undefined ? { taskId } : {}) };
}

function fold(events: StoredEvent[], state: NotifyState = initialNotifyState): { state: NotifyState; notices: Notice[] } {
  const notices: Notice[] = [];
  for (const event of events) {
    const next = evolveNotices(state, event);
    state = next.state;
    notices.push(...next.notices);
  }
  return { state, notices };
}

const context = { goal: "fix the parser", titleOf: (id: string) => (id === "api" ? "Build the API" : undefined) };

describe("which events raise a notice", () => {
  it("raises one for a wait, a pause, the run's end and a task that failed, stalled or was blocked", () => {
    const { notices } = fold([
      ev({ type: "run.started", data: { pid: 1, host: "h", detached: false } }),
      ev({ type: "task.finished", data: { status: "succeeded", reason: "done", commit: "abc" } }, "ok"),
      ev({ type: "task.finished", data: { status: "failed", reason: "verify failed 10 times" } }, "api"),
      ev({ type: "task.finished", data: { status: "stalled", reason: "no progress" } }, "ui"),
      ev({ type: "task.finished", data: { status: "blocked", reason: "depends on api" } }, "docs"),
      ev({ type: "task.finished", data: { status: "stopped", reason: "the run was stopped" } }, "x"),
      ev({ type: "run.paused", data: { reason: "orch pause" } }),
      ev({ type: "run.waiting", data: { reason: "claude is not logged in" } }),
      ev({ type: "run.finished", data: { status: "failed", reason: "api failed" } }),
    ]);
    expect(notices.map((n) => [n.kind, n.items.map((i) => i.taskId ?? "-").join(",")])).toEqual([
      ["task.escalated", "api"],
      ["task.escalated", "ui"],
      ["task.escalated", "docs"],
      ["run.paused", "-"],
      ["run.waiting", "-"],
      // The run ended while it waited: the wait is over, then the end itself.
      ["run.waiting", "-"],
      ["run.finished", "-"],
    ]);
    expect(notices[5]?.resolved).toBe(true);
    expect(notices.find((n) => n.kind === "run.finished")?.items[0]).toEqual({ status: "failed", reason: "api failed", next: `orch report ${RUN}` });
    expect(notices[0]?.items[0]?.next).toBe(`orch logs ${RUN}/api`);
    expect(notices.find((n) => n.kind === "run.waiting")?.items[0]?.next).toBe(`orch resume ${RUN}`);
  });

  it("names the event types a supervisor must fold on takeover", () => {
    expect([...NOTICE_EVENT_TYPES].sort()).toEqual(["run.finished", "run.paused", "run.resumed", "run.waiting", "task.approved", "task.assessed", "task.finished", "task.rejected"]);
  });
});

describe("which webhooks want a notice", () => {
  const hook = (events: Webhook["events"]): Webhook => ({ url: "http://h/", events, format: "json", headers: {} });
  const notice = (kind: Notice["kind"]): Notice => ({ kind, runId: RUN, resolved: false, items: [] });

  it("the kinds it lists; task.waiting also hears the run wait, the only way a task waits for a human today", () => {
    expect(wants(hook(["run.finished"]), notice("run.finished"))).toBe(true);
    expect(wants(hook(["run.finished"]), notice("task.escalated"))).toBe(false);
    expect(wants(hook(["task.waiting"]), notice("run.waiting"))).toBe(true);
    expect(wants(hook(["run.waiting"]), notice("task.waiting"))).toBe(false);
  });
});

describe("resolution", () => {
  it("a wait announced before is resolved once by the resume, even by a later supervisor that folded the past", () => {
    const past = fold([ev({ type: "run.waiting", data: { reason: "no credentials" } })]);
    const resumed = ev({ type: "run.resumed", data: { pid: 2, host: "h", detached: true, from: "waiting", reconciled: [] } });
    const { state, notices } = fold([resumed], past.state);
    expect(notices).toEqual([{ kind: "run.waiting", runId: RUN, resolved: true, items: [{ status: "resolved", reason: "the run was resumed", next: `orch resume ${RUN}` }] }]);
    // Resolved once: a second end of the wait says nothing.
    expect(fold([ev({ type: "run.finished", data: { status: "succeeded", reason: "done" } })], state).notices.map((n) => n.resolved)).toEqual([false]);
  });

  it("a commit the gate holds is a task waiting for a human; the approval resolves it, a judgement that lets it on raises nothing", () => {
    const held = ev({ type: "task.assessed", data: { commit: "c1", level: "high", rules: ["high ci: CI configuration"], decision: "human", why: "high risk: a human must approve" } }, "api");
    const { state, notices } = fold([held]);
    expect(notices).toEqual([
      { kind: "task.waiting", runId: RUN, resolved: false, items: [{ taskId: "api", status: "held for a human (high risk)", reason: "high risk: a human must approve", next: `orch approve ${RUN}/api` }] },
    ]);
    const approved = fold([ev({ type: "task.approved", data: { commit: "c1", by: "ana" } }, "api")], state);
    expect(approved.notices.map((n) => [n.kind, n.resolved, n.items[0]?.reason])).toEqual([["task.waiting", true, "approved by ana"]]);
    const rejected = fold([ev({ type: "task.rejected", data: { commit: "c1", by: "ana", reason: "no" } }, "api")], state);
    expect(rejected.notices.map((n) => n.items[0]?.reason)).toEqual(["rejected by ana: no"]);
    expect(fold([ev({ type: "task.assessed", data: { commit: "c2", level: "low", rules: [], decision: "integrate", why: "low risk" } }, "web")]).notices).toEqual([]);
  });

  it("a resume after a pause or a crash resolves nothing", () => {
    for (const from of ["paused", "crashed"] as const) {
      const { notices } = fold([ev({ type: "run.resumed", data: { pid: 2, host: "h", detached: true, from, reconciled: [] } })]);
      expect(notices).toEqual([]);
    }
  });
});

describe("roll-up", () => {
  const escalated = (task: string): Notice => ({ kind: "task.escalated", runId: RUN, resolved: false, items: [{ taskId: task, status: "blocked", reason: "r", next: "n" }] });
  const finished: Notice = { kind: "run.finished", runId: RUN, resolved: false, items: [{ status: "failed", reason: "r", next: "n" }] };

  it("ten tasks escalated within the window are one notice listing them", () => {
    let outbox = emptyOutbox;
    for (let i = 0; i < 10; i++) outbox = hold(outbox, escalated(`t${i}`), 100 + i * 10);
    expect(due(outbox, 100 + 1_999, 2_000).notices).toEqual([]);
    const { notices, outbox: left } = due(outbox, 100 + 2_000, 2_000);
    expect(notices).toHaveLength(1);
    expect(notices[0]?.items.map((i) => i.taskId)).toEqual(["t0", "t1", "t2", "t3", "t4", "t5", "t6", "t7", "t8", "t9"]);
    expect(left.batches).toEqual([]);
  });

  it("the run's own notice goes at once, and takes what was held before it, in order", () => {
    let outbox = hold(emptyOutbox, escalated("a"), 0);
    outbox = hold(outbox, finished, 10);
    const { notices } = due(outbox, 10, 2_000);
    expect(notices.map((n) => n.kind)).toEqual(["task.escalated", "run.finished"]);
  });

  it("everything goes when all is asked (the run's end)", () => {
    const outbox = hold(emptyOutbox, escalated("a"), 0);
    expect(due(outbox, 0, 2_000, true).notices).toHaveLength(1);
  });

  it("a roll-up lists at most MAX_LISTED and counts the rest", () => {
    const notice: Notice = { ...escalated("x"), items: Array.from({ length: MAX_LISTED + 5 }, (_, i) => ({ taskId: `t${i}`, status: "blocked", reason: "r", next: "n" })) };
    const body = renderNotice(notice, context, "json", (t) => t);
    expect(body["count"]).toBe(MAX_LISTED + 5);
    expect(String(body["text"])).toContain(`${MAX_LISTED + 5} tasks need a look`);
    expect(String(body["text"])).toContain("… and 5 more");
  });
});

describe("bodies", () => {
  const notice: Notice = {
    kind: "task.escalated",
    runId: RUN,
    resolved: false,
    items: [{ taskId: "api", status: "failed", reason: "tests <fail> & more", next: `orch logs ${RUN}/api` }],
  };

  it("json: the run, goal, each task with its title, status, why, and the command to run next", () => {
    expect(renderNotice(notice, context, "json", (t) => t)).toEqual({
      kind: "task.escalated",
      resolved: false,
      run: { id: RUN, goal: "fix the parser" },
      count: 1,
      items: [{ task: "api", title: "Build the API", status: "failed", reason: "tests <fail> & more", next: `orch logs ${RUN}/api` }],
      next: `orch logs ${RUN}/api`,
      text: `orch run ${RUN}: a task needs a look\ngoal: fix the parser\napi (Build the API): failed — tests <fail> & more\nnext: orch logs ${RUN}/api`,
    });
  });

  it("slack: text and blocks, with Slack's markup characters escaped", () => {
    const body = renderNotice(notice, context, "slack", (t) => t);
    expect(Object.keys(body).sort()).toEqual(["blocks", "text"]);
    expect(body["text"]).toContain("tests &lt;fail&gt; &amp; more");
    expect(body["blocks"]).toEqual([
      { type: "section", text: { type: "mrkdwn", text: `*orch run ${RUN}: a task needs a look*\n_fix the parser_` } },
      { type: "section", text: { type: "mrkdwn", text: "• api (Build the API): failed — tests &lt;fail&gt; &amp; more" } },
      { type: "context", elements: [{ type: "mrkdwn", text: `next: \`orch logs ${RUN}/api\`` } ] },
    ]);
  });

  it("several tasks with different next commands point at orch status", () => {
    const two: Notice = { ...notice, items: [...notice.items, { taskId: "ui", status: "blocked", reason: "r", next: `orch logs ${RUN}/ui` }] };
    expect(renderNotice(two, context, "json", (t) => t)["next"]).toBe(`orch status ${RUN}`);
  });

  it("a secret in a reason, the goal or a title never reaches a body, in either format", () => {
    const token = "sk-ant-api03-" + "A".repeat(90);
    const redactor = createRedactor({ MY_API_KEY: "hunter2-hunter2-hunter2" });
    const secret: Notice = { ...notice, items: [{ taskId: "api", status: "failed", reason: `401 with ${token} and hunter2-hunter2-hunter2`, next: "n" }] };
    const ctx = { goal: `use hunter2-hunter2-hunter2`, titleOf: () => `title ${token}` };
    for (const format of ["json", "slack"] as const) {
      const body = JSON.stringify(renderNotice(secret, ctx, format, (t) => redactor.redact(t)));
      expect(body).not.toContain("hunter2");
      expect(body).not.toContain(token.slice(0, 30));
    }
  });

  it("a resolved wait says so and asks nothing more", () => {
    const resolved: Notice = { kind: "run.waiting", runId: RUN, resolved: true, items: [{ status: "resolved", reason: "the run was resumed", next: "x" }] };
    const body = renderNotice(resolved, context, "json", (t) => t);
    expect(body["text"]).toContain("the run no longer waits");
    expect(body["next"]).toBeUndefined();
  });
});

describe("delivery policy", () => {
  it("retries timeouts, 408, 429 and 5xx, not other answers", () => {
    expect([undefined, 408, 425, 429, 500, 503].map(retriable)).toEqual([true, true, true, true, true, true]);
    expect([400, 401, 403, 404, 410].map(retriable)).toEqual([false, false, false, false, false]);
  });

  it("reads Retry-After as seconds or a date, and honours it up to a bound", () => {
    expect(retryAfterMs("3", 0)).toBe(3_000);
    expect(retryAfterMs(new Date(10_000).toUTCString(), 4_000)).toBe(6_000);
    expect(retryAfterMs("soon", 0)).toBeUndefined();
    expect(retryAfterMs(null, 0)).toBeUndefined();
    expect(deliveryDelay(1, 0.5, 3_000)).toBe(3_000);
    expect(deliveryDelay(1, 0.5, 3_600_000)).toBe(60_000);
  });

  it("backs off exponentially with jitter when the server does not say", () => {
    expect(deliveryDelay(1, 0, undefined)).toBe(250);
    expect(deliveryDelay(1, 1, undefined)).toBe(500);
    expect(deliveryDelay(3, 1, undefined)).toBe(2_000);
  });

  it("resolves ${NAME} in header values from the environment and names what is missing", () => {
    expect(resolveHeaders({ Authorization: "Bearer ${TOKEN}", "X-Plain": "v" }, { TOKEN: "abc" })).toEqual({ headers: { Authorization: "Bearer abc", "X-Plain": "v" }, missing: [] });
    expect(resolveHeaders({ A: "${NOPE}" }, {}).missing).toEqual(["NOPE"]);
  });
});

describe("deliveries in words", () => {
  it("names the webhook by its place and host, never more of its URL", () => {
    const d = { webhook: 0, host: "127.0.0.1:9", event: "task.escalated" as const, resolved: false, items: 3 };
    expect(describeDelivery({ type: "notify.sent", data: { ...d, attempts: 3, status: 200 } })).toEqual({
      text: "notice task.escalated (3 rolled up) to notify.webhooks[0] (127.0.0.1:9) sent: HTTP 200 after 3 tries",
      problem: false,
    });
    expect(describeDelivery({ type: "notify.failed", data: { ...d, items: 1, attempts: 4, status: 500, error: "HTTP 500" } }).text).toBe(
      "notice task.escalated to notify.webhooks[0] (127.0.0.1:9) not delivered after 4 tries (last answer HTTP 500): HTTP 500",
    );
    expect(describeDelivery({ type: "notify.dropped", data: { deliveries: [d], reason: "the end came" } }).problem).toBe(true);
  });
});
