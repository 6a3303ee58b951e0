// One SSE client: replays the journal after its last seen seq in bounded pages until it has caught up with the
// hub, then goes live on the hub's frames. Backpressure: its queue of live frames not yet written is bounded in
// count and bytes, and nothing more is written to its socket while `write` says the socket's buffer is full; when
// the queue would overflow, or the socket has not drained for `stallMs`, the client is sent `event: refetch` with
// the last seq it was sent and is closed (reconnecting with Last-Event-ID, it replays the rest from the journal).
// Invariant: the server holds at most one replay page or the bounded queue per client, so a stalled client never
// grows its memory; events are sent in seq order, each once (anything at or below the cursor is skipped).
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Redactor } from "../core/redact.js";
import { readTranscriptPage } from "../read/transcript.js";
import type { EventQuery, Store } from "../store/store.js";
import type { JournalHub } from "./hub.js";
import { batchEnd, framesOf, messageOf, rowBatches, type Frame } from "./wire.js";

export interface SseLimits {
  /** Frames a client may have queued (not yet written to its socket). */
  maxEvents: number;
  /** Bytes of such frames. */
  maxBytes: number;
  /** Rows read from the journal at once while replaying. */
  replayRows: number;
  heartbeatMs: number;
  /** How long a socket may stay full before its client is dropped, even when no new event comes. */
  stallMs: number;
}

export const DEFAULT_SSE_LIMITS: SseLimits = { maxEvents: 5_000, maxBytes: 2_097_152, replayRows: 500, heartbeatMs: 15_000, stallMs: 60_000 };

/** Characters of frames a `write` gathers (it goes on to the end of a row). */
const WRITE_CHARS = 65_536;

/** How long a dropped client's socket may take to take the rest of its stream and the refetch before it is destroyed. */
const DROP_GRACE_MS = 10_000;

/** The figures `/metrics` shows of the live streams. */
export interface SseCounters {
  connected: number;
  dropped: number;
  framesSent: number;
}

export interface SseDeps {
  store: Store;
  redactor: Redactor;
  hub: JournalHub;
  limits: SseLimits;
  counters: SseCounters;
}

export interface SseStart {
  req: IncomingMessage;
  res: ServerResponse;
  /** Only this run's events (the run's stream); all runs' without. */
  runId: string | undefined;
  /** Replay from after this seq (Last-Event-ID or ?after=); without it the stream starts at the journal's head. */
  afterSeq: number | undefined;
}

/** The open clients, so that the server can end them all when it closes. */
export class SseClients {
  readonly #open = new Set<SseClient>();
  constructor(readonly deps: SseDeps) {}

  open(start: SseStart): SseClient {
    const client = new SseClient(this.deps, start, () => {
      this.#open.delete(client);
      this.deps.counters.connected = this.#open.size;
    });
    this.#open.add(client);
    this.deps.counters.connected = this.#open.size;
    client.start();
    return client;
  }

  closeAll(): void {
    for (const client of [...this.#open]) client.close();
  }
}

export class SseClient {
  readonly #deps: SseDeps;
  readonly #res: ServerResponse;
  readonly #req: IncomingMessage;
  readonly #runId: string | undefined;
  readonly #replayFrom: number | undefined;
  readonly #onClosed: () => void;
  /** Every event with a seq up to this one has been written to the socket. */
  #cursor = 0;
  /** Frames not yet written: `#queue` from `#queueHead` on (an index, as `shift` moves the whole array each time). */
  #queue: Frame[] = [];
  #queueHead = 0;
  #queuedBytes = 0;
  #live = false;
  /** When the socket last refused more (write returned false), until it drains. */
  #fullSince: number | undefined;
  #closed = false;
  #unsubscribe: (() => void) | undefined;
  #heartbeat: NodeJS.Timeout | undefined;

  constructor(deps: SseDeps, start: SseStart, onClosed: () => void) {
    this.#deps = deps;
    this.#req = start.req;
    this.#res = start.res;
    this.#runId = start.runId;
    this.#replayFrom = start.afterSeq;
    this.#onClosed = onClosed;
  }

  start(): void {
    this.#res.writeHead(200, {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache, no-transform",
      connection: "keep-alive",
      "x-accel-buffering": "no",
    });
    this.#res.write("retry: 2000\n\n");
    this.#res.on("close", () => this.#cleanup());
    this.#req.on("close", () => this.#cleanup());
    this.#res.on("drain", () => {
      this.#fullSince = undefined;
      this.#pump();
    });
    this.#heartbeat = setInterval(() => this.#beat(), this.#deps.limits.heartbeatMs);
    this.#heartbeat.unref();
    if (this.#replayFrom === undefined) {
      this.#goLive(this.#deps.hub.head);
      return;
    }
    this.#cursor = this.#replayFrom;
    this.#replay().catch(() => this.close());
  }

  /**
   * Subscribes and reads the hub's head in one synchronous step: every frame offered before it is at or below the
   * head (the hub moves its head before it offers), every frame after it comes to the queue.
   */
  #goLive(seenUpTo: number): void {
    this.#unsubscribe = this.#deps.hub.subscribe((frames) => this.#offer(frames));
    this.#cursor = Math.max(this.#cursor, seenUpTo);
    this.#live = true;
    this.#pump();
  }

  /** Ends the stream (the server closes). */
  close(): void {
    if (this.#closed) return;
    this.#res.end();
    this.#cleanup();
  }

  /**
   * Pages from the journal, waiting for the socket to drain between them, until the client has caught up with the
   * hub; only then does it subscribe, so a replay queues nothing and cannot overflow.
   */
  async #replay(): Promise<void> {
    const query: EventQuery = this.#runId === undefined ? {} : { runId: this.#runId };
    for (;;) {
      if (this.#closed) return;
      // Every event up to the hub's head was in the journal before this read began, so a read that comes back
      // without more has seen all of them that match (a run's stream may match none of the newest).
      const head = this.#deps.hub.head;
      const page = await readTranscriptPage(this.#deps.store, query, this.#cursor, this.#deps.limits.replayRows);
      if (this.#closed) return;
      // The page goes out in messages of bounded size, as live writes do; all of it, then the wait for a drain.
      let full = false;
      for (const batch of rowBatches(framesOf(page.events, this.#deps.redactor), WRITE_CHARS)) full = !this.#write(batch) || full;
      this.#cursor = page.nextSeq;
      if (!page.more) {
        this.#cursor = Math.max(this.#cursor, head);
        if (this.#cursor >= this.#deps.hub.head) break;
      }
      if (full) await this.#drained();
    }
    this.#goLive(this.#cursor);
  }

  #drained(): Promise<void> {
    return new Promise((resolve) => {
      if (this.#fullSince === undefined || this.#closed) return resolve();
      const done = () => {
        this.#res.off("drain", done);
        this.#res.off("close", done);
        resolve();
      };
      this.#res.on("drain", done);
      this.#res.on("close", done);
    });
  }

  #offer(frames: readonly Frame[]): void {
    if (this.#closed) return;
    for (const frame of frames) {
      if (this.#runId !== undefined && frame.runId !== this.#runId) continue;
      if (frame.seq <= this.#cursor) continue;
      this.#queue.push(frame);
      this.#queuedBytes += frame.text.length;
    }
    if (this.#queue.length - this.#queueHead > this.#deps.limits.maxEvents || this.#queuedBytes > this.#deps.limits.maxBytes) {
      this.#drop();
      return;
    }
    this.#pump();
  }

  /**
   * Writes queued frames while the socket takes them, several rows to a `write` (up to WRITE_CHARS, ending at a row's
   * end: `batchEnd`): at 500 events a second to 100 viewers, one write per event would be 50,000 writes a second.
   */
  #pump(): void {
    if (!this.#live || this.#closed) return;
    while (this.#fullSince === undefined && this.#queueHead < this.#queue.length) {
      const end = batchEnd(this.#queue, this.#queueHead, WRITE_CHARS);
      const batch = this.#queue.slice(this.#queueHead, end);
      this.#queueHead = end;
      for (const frame of batch) this.#queuedBytes -= frame.text.length;
      // Rows share their seq, so what was sent already drops out whole.
      const unsent = batch.filter((frame) => frame.seq > this.#cursor);
      if (unsent.length > 0) this.#write(unsent);
    }
    // What was written goes: all of it when the queue is empty, else once it is most of the array.
    if (this.#queueHead === this.#queue.length) {
      this.#queue = [];
      this.#queueHead = 0;
    } else if (this.#queueHead > 1_024 && this.#queueHead * 2 > this.#queue.length) {
      this.#queue = this.#queue.slice(this.#queueHead);
      this.#queueHead = 0;
    }
  }

  /** Writes whole rows in one `write`; false when the socket's buffer is full (nothing more is written until it drains). */
  #write(frames: readonly Frame[]): boolean {
    const ok = this.#res.write(messageOf(frames));
    for (const frame of frames) if (frame.end) this.#cursor = frame.seq;
    this.#deps.counters.framesSent += frames.length;
    if (!ok) this.#fullSince ??= Date.now();
    return ok;
  }

  #beat(): void {
    if (this.#fullSince !== undefined) {
      if (Date.now() - this.#fullSince >= this.#deps.limits.stallMs) this.#drop();
      return;
    }
    this.#res.write(": heartbeat\n\n");
  }

  /** Too far behind: the client is told where to go on from, and closed; a stalled socket is destroyed soon after. */
  #drop(): void {
    if (this.#closed) return;
    this.#deps.counters.dropped++;
    this.#res.end(`event: refetch\ndata: ${JSON.stringify({ afterSeq: this.#cursor })}\n\n`);
    const socket = this.#res.socket;
    this.#cleanup();
    // A client that reads nothing never lets the end through; its socket (and what it buffers) goes.
    if (socket !== null && !this.#res.writableFinished) setTimeout(() => socket.destroy(), DROP_GRACE_MS).unref();
  }

  #cleanup(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#unsubscribe?.();
    clearInterval(this.#heartbeat);
    this.#queue = [];
    this.#queueHead = 0;
    this.#queuedBytes = 0;
    this.#onClosed();
  }
}
