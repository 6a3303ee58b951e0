// Notices for humans, from the journal: which events raise one (one case per event type in `raisedBy`), which end
// a wait (`resolvedBy`), how notices of one kind that come close together are rolled up into one, and the body a webhook
// gets in each format. Pure: no clock, no network; the engine's notifier (engine/notifier.ts) does the sending.
// Invariant: every text of a body goes through the caller's redaction, and no webhook URL or header is in a body.
import type { EventBody, EventType, StoredEvent } from "./journal.js";
import { backoffDelay } from "./failure.js";
import type { NoticeKind } from "./notice-kind.js";

export { NOTICE_KINDS, type NoticeKind } from "./notice-kind.js";
export const WEBHOOK_FORMATS = ["json", "slack"] as const;
export type WebhookFormat = (typeof WEBHOOK_FORMATS)[number];

/** A webhook as the configuration gives it. Header values may name environment variables: `Bearer ${TOKEN}`. */
export interface Webhook {
  url: string;
  events: readonly NoticeKind[];
  format: WebhookFormat;
  headers: Readonly<Record<string, string>>;
}

/** The run's webhooks and how their deliveries are paced (`notify` in orch.config.yaml). */
export interface NotifySettings {
  webhooks: readonly Webhook[];
  /** How long one POST may take before it counts as failed (and is tried again). */
  timeoutMs: number;
  /** How long the run's end waits for deliveries still pending. */
  endWaitMs: number;
  /** How long a task's notice waits for others of its kind to be rolled up with it. */
  windowMs: number;
}

/** One thing a notice tells: a task (or the run) and its state, why, and the command to run next. */
export interface NoticeItem {
  taskId?: string | undefined;
  status: string;
  reason: string;
  next: string;
}

/** What one event raises: a notice of a kind, about one item. `wait`: it opens a wait a later event resolves. */
interface Raised {
  kind: NoticeKind;
  item: NoticeItem;
  wait?: boolean;
}

/** Task statuses that need a human's look: the task could not do its work, or could not start for another's. */
const ESCALATED_TASK_STATUSES: readonly string[] = ["failed", "stalled", "blocked"];

/** What ends a wait: the kind of the waiting notice and its task (none: the run's own wait), and how it ended. */
interface Resolution {
  kind: NoticeKind;
  taskId?: string;
  how: string;
}

/**
 * Which events raise a notice, one case each: a new kind of event (an approval the gate asks for, say) is one case
 * here, and its type goes into NOTICE_EVENT_TYPES.
 */
function raisedBy(e: StoredEvent): Raised | undefined {
  switch (e.type) {
    case "run.waiting":
      return { kind: "run.waiting", wait: true, item: { status: "waiting", reason: e.data.reason, next: `orch resume ${e.runId}` } };
    case "run.paused":
      return { kind: "run.paused", item: { status: "paused", reason: e.data.reason, next: `orch resume ${e.runId}` } };
    case "run.finished":
      return { kind: "run.finished", item: { status: e.data.status, reason: e.data.reason, next: `orch report ${e.runId}` } };
    case "task.assessed":
      return e.taskId !== undefined && e.data.decision === "human"
        ? {
            kind: "task.waiting",
            wait: true,
            item: { taskId: e.taskId, status: `held for a human (${e.data.level} risk)`, reason: e.data.why, next: `orch approve ${e.runId}/${e.taskId}` },
          }
        : undefined;
    case "task.finished":
      return e.taskId !== undefined && ESCALATED_TASK_STATUSES.includes(e.data.status)
        ? { kind: "task.escalated", item: { taskId: e.taskId, status: e.data.status, reason: e.data.reason, next: `orch logs ${e.runId}/${e.taskId}` } }
        : undefined;
    default:
      return undefined;
  }
}

/** Which events end a wait, one case each (their types go into NOTICE_EVENT_TYPES too). */
function resolvedBy(e: StoredEvent): Resolution | undefined {
  switch (e.type) {
    case "run.resumed":
      return e.data.from === "waiting" ? { kind: "run.waiting", how: "the run was resumed" } : undefined;
    case "run.finished":
      return { kind: "run.waiting", how: `the run ended (${e.data.status})` };
    case "task.approved":
      return e.taskId !== undefined ? { kind: "task.waiting", taskId: e.taskId, how: `approved by ${e.data.by}` } : undefined;
    case "task.rejected":
      return e.taskId !== undefined ? { kind: "task.waiting", taskId: e.taskId, how: `rejected by ${e.data.by}: ${e.data.reason}` } : undefined;
    default:
      return undefined;
  }
}

/** The event types `raisedBy` and `resolvedBy` look at: what a supervisor that takes a run over folds first. */
export const NOTICE_EVENT_TYPES: readonly EventType[] = ["run.waiting", "run.paused", "run.finished", "run.resumed", "task.finished", "task.assessed", "task.approved", "task.rejected"];

/** A notice to send: one kind, one or more items (several: a roll-up), or the end of a wait (`resolved`). */
export interface Notice {
  kind: NoticeKind;
  runId: string;
  resolved: boolean;
  items: NoticeItem[];
}

// ---- the fold: open waits, from the run's journal ------------------------------------------------------------------

/** The waits a notice was raised for and no event has ended yet, by kind and task. */
export interface NotifyState {
  readonly open: ReadonlyMap<string, NoticeItem>;
}

export const initialNotifyState: NotifyState = { open: new Map() };

const waitKey = (kind: NoticeKind, taskId: string | undefined) => `${kind}\u0000${taskId ?? ""}`;

/**
 * Folds one journal event: the notices it raises (a new notice, or the end of a wait that was open). Replaying a
 * run's past events (and dropping what they raise) gives the waits still open when a supervisor takes over.
 */
export function evolveNotices(state: NotifyState, event: StoredEvent): { state: NotifyState; notices: Notice[] } {
  const notices: Notice[] = [];
  let open = state.open;
  const resolution = resolvedBy(event);
  if (resolution !== undefined) {
    const key = waitKey(resolution.kind, resolution.taskId);
    const item = open.get(key);
    if (item !== undefined) {
      const rest = new Map(open);
      rest.delete(key);
      open = rest;
      notices.push({ kind: resolution.kind, runId: event.runId, resolved: true, items: [{ ...item, status: "resolved", reason: resolution.how }] });
    }
  }
  const raised = raisedBy(event);
  if (raised !== undefined) {
    if (raised.wait === true) open = new Map([...open, [waitKey(raised.kind, raised.item.taskId), raised.item]]);
    notices.push({ kind: raised.kind, runId: event.runId, resolved: false, items: [raised.item] });
  }
  return { state: open === state.open ? state : { open }, notices };
}

// ---- roll-up ----------------------------------------------------------------------------------------------------------

/** Kinds about one task: a burst of them (ten tasks blocked at once) is rolled up; the run's own go at once. */
const ROLLED_UP: readonly NoticeKind[] = ["task.waiting", "task.escalated"];

interface Batch {
  notice: Notice;
  since: number;
}

/** Notices held for their roll-up window, oldest first. */
export interface Outbox {
  readonly batches: readonly Batch[];
}

export const emptyOutbox: Outbox = { batches: [] };

/**
 * Adds a notice. A task's notice waits `windowMs` for others of its kind (and resolution) to join it; a run's own
 * notice is due at once, and so is everything held before it, so notices leave in the order they were raised.
 */
export function hold(outbox: Outbox, notice: Notice, now: number): Outbox {
  const same = outbox.batches.find((b) => b.notice.kind === notice.kind && b.notice.resolved === notice.resolved);
  if (same !== undefined && ROLLED_UP.includes(notice.kind)) {
    const joined = { ...same, notice: { ...same.notice, items: [...same.notice.items, ...notice.items] } };
    return { batches: outbox.batches.map((b) => (b === same ? joined : b)) };
  }
  const since = ROLLED_UP.includes(notice.kind) ? now : Number.NEGATIVE_INFINITY;
  return { batches: [...outbox.batches, { notice, since }] };
}

/** The notices due by `now` (all of them with `all`), in order, and what stays held; a due notice takes the ones before it. */
export function due(outbox: Outbox, now: number, windowMs: number, all = false): { outbox: Outbox; notices: Notice[] } {
  let last = -1;
  outbox.batches.forEach((b, i) => {
    if (all || b.since + windowMs <= now) last = i;
  });
  return { outbox: { batches: outbox.batches.slice(last + 1) }, notices: outbox.batches.slice(0, last + 1).map((b) => b.notice) };
}

/** When the oldest held notice falls due; undefined when nothing is held. */
export function nextDue(outbox: Outbox, windowMs: number): number | undefined {
  const first = outbox.batches[0];
  return first === undefined ? undefined : first.since + windowMs;
}

/**
 * Whether a webhook asked for a notice of this kind. Today a task waits for a human only by making its run wait
 * (missing credentials), so `task.waiting` also hears of `run.waiting` (the approval gate will raise its own).
 */
export function wants(webhook: Webhook, notice: Notice): boolean {
  return webhook.events.includes(notice.kind) || (notice.kind === "run.waiting" && webhook.events.includes("task.waiting"));
}

// ---- bodies --------------------------------------------------------------------------------------------------------

/** What a body says of the run beyond the notice: its goal, and the title of each task it names. */
export interface NoticeContext {
  goal: string;
  titleOf(taskId: string): string | undefined;
}

/** A roll-up lists at most this many items; the rest are counted. */
export const MAX_LISTED = 20;
/** A reason is cut to this many characters in a body. */
const MAX_REASON = 500;

const HEADLINES: Record<NoticeKind, (n: number) => string> = {
  "task.waiting": (n) => (n === 1 ? "a task waits for a human" : `${n} tasks wait for a human`),
  "task.escalated": (n) => (n === 1 ? "a task needs a look" : `${n} tasks need a look`),
  "run.waiting": () => "the run waits for a human",
  "run.paused": () => "the run paused",
  "run.finished": () => "the run ended",
};

const RESOLVED_HEADLINES: Record<NoticeKind, (n: number) => string> = {
  "task.waiting": (n) => (n === 1 ? "a task no longer waits" : `${n} tasks no longer wait`),
  "task.escalated": (n) => (n === 1 ? "a task was taken up again" : `${n} tasks were taken up again`),
  "run.waiting": () => "the run no longer waits",
  "run.paused": () => "the run goes on",
  "run.finished": () => "the run goes on",
};

function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** The plain words of a notice: one headline, then a line per item (listed up to MAX_LISTED). */
export function noticeText(notice: Notice, context: NoticeContext): { headline: string; lines: string[]; next: string | undefined } {
  const n = notice.items.length;
  const headline = `orch run ${notice.runId}: ${(notice.resolved ? RESOLVED_HEADLINES : HEADLINES)[notice.kind](n)}`;
  const lines = notice.items.slice(0, MAX_LISTED).map((item) => {
    const title = item.taskId === undefined ? undefined : context.titleOf(item.taskId);
    const who = item.taskId === undefined ? "" : `${item.taskId}${title !== undefined && title !== item.taskId ? ` (${title})` : ""}: `;
    return `${who}${item.status} — ${clip(item.reason, MAX_REASON)}`;
  });
  if (n > MAX_LISTED) lines.push(`… and ${n - MAX_LISTED} more`);
  const nexts = [...new Set(notice.items.map((i) => i.next))];
  const next = notice.resolved ? undefined : nexts.length === 1 ? nexts[0] : `orch status ${notice.runId}`;
  return { headline, lines, next };
}

/** The body a webhook gets: plain JSON, or what Slack's incoming webhooks accept (`text` plus blocks). */
export function renderNotice(notice: Notice, context: NoticeContext, format: WebhookFormat, redact: (text: string) => string): Record<string, unknown> {
  const { headline, lines, next } = noticeText(notice, context);
  const goal = redact(clip(context.goal, MAX_REASON));
  const text = redact([headline, `goal: ${goal}`, ...lines, ...(next === undefined ? [] : [`next: ${next}`])].join("\n"));
  if (format === "json") {
    return {
      kind: notice.kind,
      resolved: notice.resolved,
      run: { id: notice.runId, goal },
      count: notice.items.length,
      items: notice.items.map((item) => ({
        ...(item.taskId !== undefined ? { task: item.taskId, title: redact(context.titleOf(item.taskId) ?? item.taskId) } : {}),
        status: item.status,
        reason: redact(clip(item.reason, MAX_REASON)),
        next: item.next,
      })),
      ...(next !== undefined ? { next } : {}),
      text,
    };
  }
  // Slack reads &, < and > as markup; a section's text holds at most 3,000 characters.
  const esc = (s: string) => s.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;");
  const list = redact(lines.map((l) => `• ${esc(l)}`).join("\n"));
  return {
    text: clip(esc(text), 3_000),
    blocks: [
      { type: "section", text: { type: "mrkdwn", text: clip(`*${esc(redact(headline))}*\n_${esc(goal)}_`, 3_000) } },
      ...(list === "" ? [] : [{ type: "section", text: { type: "mrkdwn", text: clip(list, 3_000) } }]),
      ...(next === undefined ? [] : [{ type: "context", elements: [{ type: "mrkdwn", text: `next: \`${esc(next)}\`` }] }]),
    ],
  };
}

// ---- delivery policy -------------------------------------------------------------------------------------------------

/** Tries of one delivery, and the backoff between them. */
export const DELIVERY_TRIES = 4;
const DELIVERY_BACKOFF = { baseMs: 500, capMs: 30_000 };
/** A Retry-After longer than this is not waited for: the next try goes after this. */
const MAX_RETRY_AFTER_MS = 60_000;

/** Whether an answer is worth another try: a timeout, too many requests, the server's own trouble. */
export function retriable(status: number | undefined): boolean {
  return status === undefined || status === 408 || status === 425 || status === 429 || status >= 500;
}

/** A Retry-After header's wait (seconds, or an HTTP date), or undefined when it says nothing usable. */
export function retryAfterMs(header: string | null | undefined, now: number): number | undefined {
  if (header === null || header === undefined || header.trim() === "") return undefined;
  const text = header.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1_000;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** How long to wait before try `tries + 1`: what the server asked for (bounded), else exponential with jitter. */
export function deliveryDelay(tries: number, random: number, retryAfter: number | undefined): number {
  if (retryAfter !== undefined) return Math.min(retryAfter, MAX_RETRY_AFTER_MS);
  return backoffDelay(tries, random, DELIVERY_BACKOFF);
}

/** `${NAME}` in a header value, replaced from the environment; the names that are not set. */
export function resolveHeaders(headers: Readonly<Record<string, string>>, env: Readonly<Record<string, string | undefined>>): { headers: Record<string, string>; missing: string[] } {
  const missing: string[] = [];
  const resolved = Object.fromEntries(
    Object.entries(headers).map(([name, value]) => [
      name,
      value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, variable: string) => {
        const found = env[variable];
        if (found === undefined) missing.push(variable);
        return found ?? "";
      }),
    ]),
  );
  return { headers: resolved, missing };
}

// ---- deliveries as words (orch logs, the report, orch status) --------------------------------------------------------

type DeliveryEvent = Extract<EventBody, { type: "notify.sent" | "notify.failed" | "notify.dropped" }>;
export const DELIVERY_EVENT_TYPES = ["notify.sent", "notify.failed", "notify.dropped"] as const;

interface Described {
  webhook: number;
  host: string;
  event: NoticeKind;
  resolved: boolean;
  items: number;
}

function whatWhere(d: Described): string {
  const what = `${d.event}${d.resolved ? " (resolved)" : ""}${d.items > 1 ? ` (${d.items} rolled up)` : ""}`;
  return `${what} to notify.webhooks[${d.webhook}] (${d.host})`;
}

const tries = (n: number) => `${n} ${n === 1 ? "try" : "tries"}`;

/** One line for a delivery's journaled outcome; `problem`: it was not delivered. */
export function describeDelivery(event: DeliveryEvent): { text: string; problem: boolean } {
  switch (event.type) {
    case "notify.sent":
      return { text: `notice ${whatWhere(event.data)} sent: HTTP ${event.data.status} after ${tries(event.data.attempts)}`, problem: false };
    case "notify.failed": {
      const status = event.data.status === undefined ? "" : ` (last answer HTTP ${event.data.status})`;
      return { text: `notice ${whatWhere(event.data)} not delivered after ${tries(event.data.attempts)}${status}: ${event.data.error}`, problem: true };
    }
    case "notify.dropped":
      return { text: `${event.data.deliveries.length} notice(s) dropped (${event.data.deliveries.map(whatWhere).join("; ")}): ${event.data.reason}`, problem: true };
  }
}
