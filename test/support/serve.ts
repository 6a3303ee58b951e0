// `orch serve` under test: started with the built CLI on 127.0.0.1 and a free port (`--port 0`), its URL read from
// what it prints, and stopped with SIGTERM, after which it must exit 0. Plus small HTTP and SSE clients over
// node's fetch and raw sockets, so that a test can read a stream at its own pace (or not at all).
import { request, type ClientRequest, type IncomingMessage } from "node:http";
import { expect } from "vitest";
import { ORCH_MAIN, waitFor, type RunningProcess } from "./cli.js";
import type { OrchSandbox, Sandboxes } from "./e2e.js";

export interface Served {
  /** The server's base URL, ending in "/". */
  url: string;
  process: RunningProcess;
  stdout(): string;
  /** SIGTERM, then its exit, which must be 0. */
  stop(): Promise<void>;
}

export async function startServe(sandboxes: Sandboxes, box: OrchSandbox, args: readonly string[] = [], timeoutMs = 120_000): Promise<Served> {
  let out = "";
  const child = sandboxes.start(process.execPath, [ORCH_MAIN, "serve", "--port", "0", ...args], { cwd: box.repo.dir, env: box.env, timeoutMs, onStdout: (chunk) => (out += chunk) });
  const url = await waitFor("orch serve to print its URL", () => /at (http:\/\/\S+\/)$/m.exec(out)?.[1] ?? (child.running() ? undefined : "exited"), 20_000);
  if (url === "exited") throw new Error(`orch serve exited early:\n${(await child.done).stderr}`);
  return {
    url: url.replace("0.0.0.0", "127.0.0.1"),
    process: child,
    stdout: () => out,
    stop: async () => {
      child.signal("SIGTERM");
      const result = await child.done;
      expect(result.code, result.stderr).toBe(0);
    },
  };
}

export interface JsonReply {
  status: number;
  headers: Headers;
  body: unknown;
}

/** `fetch` whose answer must be JSON. */
export async function getJson(url: string, init: RequestInit = {}): Promise<JsonReply> {
  const response = await fetch(url, init);
  const text = await response.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new Error(`${init.method ?? "GET"} ${url}: ${response.status}, not JSON: ${text.slice(0, 300)}`);
  }
  return { status: response.status, headers: response.headers, body };
}

export interface SseEvent {
  id: string | undefined;
  event: string;
  data: string;
}

/** Parses SSE text into its events (comments skipped); `rest` is an incomplete tail. */
export function parseSse(text: string): { events: SseEvent[]; rest: string } {
  const events: SseEvent[] = [];
  const blocks = text.split("\n\n");
  const rest = blocks.pop() ?? "";
  for (const block of blocks) {
    let id: string | undefined;
    let event = "message";
    const data: string[] = [];
    let any = false;
    for (const line of block.split("\n")) {
      if (line.startsWith(":") || line === "") continue;
      const colon = line.indexOf(":");
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
      if (field === "id") id = value;
      else if (field === "event") event = value;
      else if (field === "data") data.push(value);
      else continue;
      any = true;
    }
    if (any && (data.length > 0 || event !== "message")) events.push({ id, event, data: data.join("\n") });
  }
  return { events, rest };
}

/** An SSE connection read as it comes; `paused` ones read nothing (a stalled viewer). */
export interface SseReader {
  status: Promise<number>;
  /** Everything read so far. */
  text(): string;
  events(): SseEvent[];
  /** Resolves when the server has closed the stream. */
  closed: Promise<void>;
  close(): void;
  /** A paused reader starts reading (what the socket holds, then the rest). */
  resume(): void;
  response: Promise<IncomingMessage>;
}

export function openSse(url: string, headers: Record<string, string> = {}, options: { paused?: boolean } = {}): SseReader {
  let text = "";
  let req: ClientRequest;
  let resolveClosed: () => void = () => {};
  const closed = new Promise<void>((resolve) => (resolveClosed = resolve));
  const response = new Promise<IncomingMessage>((resolve, reject) => {
    req = request(url, { headers: { accept: "text/event-stream", ...headers } }, (res) => {
      resolve(res);
      res.setEncoding("utf8");
      // Paused, it reads nothing: the socket's buffers fill and the server sees a stalled client.
      if (options.paused === true) res.pause();
      res.on("data", (chunk: string) => (text += chunk));
      res.on("end", resolveClosed);
      res.on("close", resolveClosed);
      res.on("error", resolveClosed);
    });
    req.on("error", (error) => {
      reject(error);
      resolveClosed();
    });
    req.end();
  });
  return {
    status: response.then((res) => res.statusCode ?? 0),
    text: () => text,
    events: () => parseSse(text).events,
    closed,
    close: () => req.destroy(),
    resume: () => void response.then((res) => res.resume()),
    response,
  };
}

/** An SSE reader that reconnects as a browser's EventSource does: when the server ends the stream, again with Last-Event-ID. */
export interface ReconnectingReader {
  /** Every event of every connection, in order. */
  events(): SseEvent[];
  /** The last `id:` received (read from the tail only). */
  lastId(): number;
  connections(): number;
  close(): void;
}

export function openReconnecting(url: string): ReconnectingReader {
  const done: string[] = [];
  let current: SseReader | undefined;
  let connections = 0;
  let closed = false;
  let lastId = 0;
  const idOf = (text: string): number | undefined => {
    const ids = [...text.slice(-65_536).matchAll(/^id: (\d+)$/gm)];
    const last = ids[ids.length - 1]?.[1];
    return last === undefined ? undefined : Number(last);
  };
  const connect = () => {
    connections++;
    const reader = openSse(url, lastId > 0 ? { "last-event-id": String(lastId) } : {});
    current = reader;
    void reader.closed.then(() => {
      const text = reader.text();
      // Events after the connection's last id (a row cut short, the refetch) come again on the next connection,
      // which starts after that id: keep each connection up to the end of its last event with an id.
      const ids = [...text.matchAll(/^id: \d+$/gm)];
      const at = ids[ids.length - 1]?.index;
      const end = at === undefined ? -1 : text.indexOf("\n\n", at);
      done.push(end < 0 ? "" : text.slice(0, end + 2));
      lastId = idOf(text) ?? lastId;
      if (!closed) connect();
    });
  };
  connect();
  return {
    events: () => parseSse([...done, current?.text() ?? ""].join("")).events,
    lastId: () => idOf(current?.text() ?? "") ?? lastId,
    connections: () => connections,
    close: () => {
      closed = true;
      current?.close();
    },
  };
}
