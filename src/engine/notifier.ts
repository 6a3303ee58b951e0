// The supervisor's webhooks: it is shown every event the supervisor journals, raises notices from them
// (core/notify.ts), holds task notices for their roll-up window, and posts each to the webhooks that asked for its
// kind, off the run's path: a queue per webhook, bounded, each delivery timed out and retried with backoff, each
// outcome journaled (`notify.sent`, `notify.failed`). The run's end waits for pending deliveries a bounded time,
// then journals what it dropped (`notify.dropped`). Nothing here throws into the run; URLs and headers are never
// journaled or logged (only the webhook's place in the config and its host).
import { setTimeout as sleepFor } from "node:timers/promises";
import type { NewEvent, StoredEvent } from "../core/journal.js";
import {
  DELIVERY_TRIES,
  deliveryDelay,
  due,
  emptyOutbox,
  evolveNotices,
  hold,
  initialNotifyState,
  nextDue,
  renderNotice,
  resolveHeaders,
  retriable,
  retryAfterMs,
  wants,
  type Notice,
  type NotifySettings,
  type NotifyState,
  type Outbox,
  type Webhook,
} from "../core/notify.js";
import { toError } from "../core/errors.js";
import type { Redactor } from "../core/redact.js";
import type { Logger } from "./logger.js";

/** Deliveries a webhook may have waiting; past this, new ones are dropped (and journaled as such at the end). */
const MAX_QUEUED = 100;

export interface NotifierDeps {
  runId: string;
  goal: string;
  /** The titles of the run's tasks, read when a notice names a task. */
  titles(): Promise<ReadonlyMap<string, string>>;
  /** Journals a delivery's outcome (the supervisor's fenced writer). */
  write(...events: NewEvent[]): Promise<unknown>;
  env: Readonly<Record<string, string | undefined>>;
  redactor: Redactor;
  logger: Logger;
  now(): number;
  random(): number;
}

interface Delivery {
  webhook: number;
  notice: Notice;
}

/** A webhook, its place in the config, its queue and the delivery under way. */
interface Hook {
  readonly index: number;
  readonly webhook: Webhook;
  readonly queue: Delivery[];
  running: Promise<void> | undefined;
}

export class Notifier {
  private state: NotifyState = initialNotifyState;
  private outbox: Outbox = emptyOutbox;
  private timer: NodeJS.Timeout | undefined;
  private readonly hooks: Hook[];
  private readonly dropped: Delivery[] = [];
  /** Aborted when the end's wait is over: what is in flight stops at once. */
  private readonly gone = new AbortController();
  private closed = false;

  constructor(
    private readonly settings: NotifySettings,
    private readonly deps: NotifierDeps,
  ) {
    this.hooks = settings.webhooks.map((webhook, index) => ({ index, webhook, queue: [], running: undefined }));
  }

  /** The run's journal before this supervisor: folded for the waits still open, nothing sent for it. */
  prime(past: readonly StoredEvent[]): void {
    for (const event of past) this.state = evolveNotices(this.state, event).state;
  }

  /** Events just journaled: the notices they raise are held, or sent at once. Never throws, never waits. */
  observe(events: readonly StoredEvent[]): void {
    if (this.closed || this.settings.webhooks.length === 0) return;
    const now = this.deps.now();
    for (const event of events) {
      const next = evolveNotices(this.state, event);
      this.state = next.state;
      for (const notice of next.notices) this.outbox = hold(this.outbox, notice, now);
    }
    this.release(false);
  }

  /**
   * The run's end: everything held goes now; pending deliveries have `endWaitMs` to finish, then the rest is
   * stopped and journaled as dropped. Safe to call twice.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.release(true);
    this.closed = true;
    clearTimeout(this.timer);
    const pending = () => this.hooks.flatMap((hook) => (hook.running === undefined ? [] : [hook.running]));
    // A delivery that ends starts the next of its queue: wait until the queues are empty or the time is up.
    const over = new AbortController();
    const timeUp = sleepFor(this.settings.endWaitMs, undefined, { signal: over.signal }).then(
      () => true,
      () => true,
    );
    while (pending().length > 0 && !(await Promise.race([Promise.all(pending()).then(() => false), timeUp]))) {
      // another round: the deliveries that just ended may have started the next ones
    }
    over.abort();
    const left = this.hooks.flatMap((hook) => hook.queue.splice(0));
    this.gone.abort();
    // What was in flight ends at once now (its POST aborted, its backoff cut): its outcome is journaled as it ends.
    await Promise.all(pending());
    const lost = [...this.dropped, ...left];
    if (lost.length === 0) return;
    const reason =
      left.length > 0
        ? `the run's end waited ${Math.round(this.settings.endWaitMs / 1000)} s for deliveries; ${left.length} had not started`
        : `more than ${MAX_QUEUED} deliveries waited for one webhook`;
    await this.journal({ type: "notify.dropped", runId: this.deps.runId, data: { deliveries: lost.map((d) => this.described(d)), reason } });
  }

  /** Hands the notices due to their webhooks' queues, and arms the timer for the next held one. */
  private release(all: boolean): void {
    const now = this.deps.now();
    const { outbox, notices } = due(this.outbox, now, this.settings.windowMs, all);
    this.outbox = outbox;
    for (const notice of notices) {
      for (const hook of this.hooks) {
        if (!wants(hook.webhook, notice)) continue;
        if (hook.queue.length >= MAX_QUEUED) this.dropped.push({ webhook: hook.index, notice });
        else hook.queue.push({ webhook: hook.index, notice });
        this.pump(hook);
      }
    }
    clearTimeout(this.timer);
    this.timer = undefined;
    const at = nextDue(this.outbox, this.settings.windowMs);
    if (at !== undefined && !all) {
      this.timer = setTimeout(() => this.release(false), Math.max(0, at - now));
      this.timer.unref();
    }
  }

  /** One delivery at a time per webhook, in the order the notices were raised. */
  private pump(hook: Hook): void {
    if (hook.running !== undefined) return;
    const next = hook.queue.shift();
    if (next === undefined) return;
    hook.running = this.deliver(hook.webhook, next)
      .catch((error: unknown) => this.deps.logger.warn("notice not delivered", { webhook: hook.index, why: toError(error).message }))
      .finally(() => {
        hook.running = undefined;
        if (!this.gone.signal.aborted) this.pump(hook);
      });
  }

  private async deliver(webhook: Webhook, delivery: Delivery): Promise<void> {
    const { headers, missing } = resolveHeaders(webhook.headers, this.deps.env);
    if (missing.length > 0) {
      await this.failed(delivery, 0, undefined, `not sent: the environment has no ${missing.map((m) => `$${m}`).join(", ")} (named in its headers)`);
      return;
    }
    const titles = await this.deps.titles();
    // A secret a header names is hidden in the body too, whatever its variable is called.
    const values = Object.values(headers).filter((v) => v.length >= 8);
    const redact = (text: string) => values.reduce((t, v) => t.replaceAll(v, "[redacted]"), this.deps.redactor.redact(text));
    const body = JSON.stringify(renderNotice(delivery.notice, { goal: this.deps.goal, titleOf: (id) => titles.get(id) }, webhook.format, redact));
    let status: number | undefined;
    let error = "";
    for (let tries = 1; ; tries++) {
      const answer = await this.post(webhook.url, headers, body);
      status = answer.status;
      if (answer.status !== undefined && answer.status >= 200 && answer.status < 300) {
        await this.journal({ type: "notify.sent", runId: this.deps.runId, data: { ...this.described(delivery), attempts: tries, status: answer.status } });
        return;
      }
      error = answer.error ?? `HTTP ${answer.status ?? "?"}`;
      if (!retriable(answer.status) || tries >= DELIVERY_TRIES || this.gone.signal.aborted) {
        const over = this.gone.signal.aborted && answer.cut !== true ? `${error}; no more tries after the run's end` : error;
        await this.failed(delivery, tries, status, over);
        return;
      }
      const wait = deliveryDelay(tries, this.deps.random(), answer.retryAfter);
      await sleepFor(wait, undefined, { signal: this.gone.signal }).catch(() => undefined);
      if (this.gone.signal.aborted) {
        await this.failed(delivery, tries, status, `${error}; the run's end came before try ${tries + 1}`);
        return;
      }
    }
  }

  private async post(url: string, headers: Record<string, string>, body: string): Promise<{ status?: number; retryAfter?: number; error?: string; cut?: boolean }> {
    const signal = AbortSignal.any([AbortSignal.timeout(this.settings.timeoutMs), this.gone.signal]);
    try {
      const response = await fetch(url, { method: "POST", headers: { "content-type": "application/json", ...headers }, body, signal, redirect: "error" });
      // The body is not needed; reading it frees the connection.
      await response.arrayBuffer().catch(() => undefined);
      const retryAfter = retryAfterMs(response.headers.get("retry-after"), this.deps.now());
      return { status: response.status, ...(retryAfter !== undefined ? { retryAfter } : {}) };
    } catch (caught) {
      const error = toError(caught);
      const cause = error.cause instanceof Error ? error.cause : undefined;
      const why =
        error.name === "TimeoutError"
          ? `no answer within ${Math.round(this.settings.timeoutMs / 100) / 10} s`
          : error.name === "AbortError"
            ? "cut short by the run's end"
            : (cause?.message ?? error.message);
      // An error's text could quote the URL, whose path or query may hold a token.
      return { error: why.replaceAll(url, new URL(url).host), ...(error.name === "AbortError" ? { cut: true } : {}) };
    }
  }

  private async failed(delivery: Delivery, attempts: number, status: number | undefined, error: string): Promise<void> {
    await this.journal({
      type: "notify.failed",
      runId: this.deps.runId,
      data: { ...this.described(delivery), attempts, ...(status !== undefined ? { status } : {}), error },
    });
  }

  private described(delivery: Delivery) {
    const url = this.settings.webhooks[delivery.webhook]?.url;
    return { webhook: delivery.webhook, host: url === undefined ? "?" : new URL(url).host, event: delivery.notice.kind, resolved: delivery.notice.resolved, items: delivery.notice.items.length };
  }

  /** A journal write that fails (the lease was lost) is logged: a notice is never worth the run. */
  private async journal(event: NewEvent): Promise<void> {
    try {
      await this.deps.write(event);
    } catch (error) {
      this.deps.logger.warn("a delivery's outcome was not journaled", { type: event.type, why: toError(error).message });
    }
  }
}
