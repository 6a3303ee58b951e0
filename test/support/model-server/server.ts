// A scripted model server over node:http for tests: each model request consumes the next script turn, every
// request is recorded, and close() also ends requests a "hang" or "stall" fault is holding open.
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from "node:http";
import type { Socket } from "node:net";
import { anthropicProtocol } from "./anthropic.js";
import { isFault, ScriptCursor, type ProtocolModule, type Script, type Turn } from "./script.js";

export { anthropicProtocol, claudeBash, claudeEnv, claudeWrite, type ClaudeEnvOptions } from "./anthropic.js";
export type { Fault, FaultTurn, ProtocolFault, ReplyTurn, Script, ToolCall, Turn, Usage } from "./script.js";

export type RequestOutcome =
  | "reply"
  | "fault"
  /** The turn's `match` was not found in the request, or it asked for another `model`; answered with the
   * protocol's harness error, the turn was kept. */
  | "mismatch"
  /** No turns left; answered 500. */
  | "exhausted"
  /** Answered by the protocol without consuming a turn (e.g. count_tokens). */
  | "fixed"
  | "not_found";

export interface RecordedRequest {
  method: string;
  /** The path without its query string. */
  path: string;
  /** The request target as sent, query included. */
  url: string;
  headers: IncomingHttpHeaders;
  /** The parsed JSON body; undefined when empty or not JSON (then `rawBody` holds it). */
  body: unknown;
  rawBody: string;
  /** Milliseconds since the epoch, when the body had been read. */
  time: number;
  /** The index of the script turn that answered (or was expected to), if any. */
  turn: number | undefined;
  outcome: RequestOutcome;
  /** For faults the fault name; for mismatch and exhaustion the message sent back. */
  note: string | undefined;
  /** The model a model request (one for a turn) asked for, as its protocol reads it; undefined for the others. */
  model: string | undefined;
}

export interface ModelServer {
  /** Base URL, e.g. http://127.0.0.1:41234 (no trailing slash). */
  readonly url: string;
  /** Every request in arrival order; the array grows as requests come in. */
  readonly requests: readonly RecordedRequest[];
  /** The requests that consumed or tried to consume a turn, in order. */
  modelRequests(): RecordedRequest[];
  /** Script turns not yet consumed. */
  remaining(): Turn[];
  /** Mismatches and exhaustion, as messages; a passing scripted test expects none. */
  problems(): string[];
  /** Stops listening, ends held ("hang", "stall") and idle connections; resolves once closed. */
  close(): Promise<void>;
}

export interface ModelServerOptions {
  script: Script;
  host?: string;
  /** The wire protocols to speak; the first that claims a request answers it. Default: Anthropic only. */
  protocols?: readonly ProtocolModule[];
}

export async function startModelServer(options: ModelServerOptions): Promise<ModelServer> {
  const host = options.host ?? "127.0.0.1";
  const protocols = options.protocols ?? [anthropicProtocol];
  const cursor = new ScriptCursor(options.script);
  const requests: RecordedRequest[] = [];
  const held = new Set<ServerResponse>();
  const sockets = new Set<Socket>();

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const rawBody = await readBody(req);
    const url = req.url ?? "/";
    const path = new URL(url, "http://model-server.invalid").pathname;
    const method = req.method ?? "GET";
    const body = parseJson(rawBody);
    let model: string | undefined;
    const record = (outcome: RequestOutcome, turn: number | undefined, note: string | undefined): void => {
      requests.push({ method, path, url, headers: req.headers, body, rawBody, time: Date.now(), turn, outcome, note, model });
    };
    const incoming = { method, path, headers: req.headers, body };

    for (const protocol of protocols) {
      const decision = protocol.route(incoming);
      if (decision === undefined) continue;
      if (decision.kind === "turn") model = decision.model;
      if (decision.kind === "side") {
        record("fixed", undefined, decision.label);
        decision.respond(res);
        return;
      }
      if (decision.kind === "fixed") {
        record("fixed", undefined, decision.label);
        res.writeHead(decision.status, { "content-type": "application/json" });
        res.end(JSON.stringify(decision.body));
        return;
      }
      const take = cursor.take({ lastUserText: decision.lastUserText, model: decision.model });
      if (take.kind === "exhausted") {
        record("exhausted", undefined, take.message);
        protocol.writeHarnessError(res, take.message);
        return;
      }
      if (take.kind === "mismatch") {
        record("mismatch", take.index, take.message);
        protocol.writeHarnessError(res, take.message);
        return;
      }
      const ctx = { streaming: decision.streaming, model: decision.model, turnIndex: take.index };
      const turn = take.turn;
      if (!isFault(turn)) {
        record("reply", take.index, undefined);
        protocol.writeReply(res, turn, ctx);
        return;
      }
      record("fault", take.index, turn.fault);
      if (turn.fault === "stall") {
        // What a streamed answer (or a JSON one) starts with, on the wire at once; then silence.
        res.writeHead(200, { "content-type": ctx.streaming ? "text/event-stream" : "application/json", "cache-control": "no-cache" });
        res.flushHeaders();
      }
      if (turn.fault === "hang" || turn.fault === "stall") {
        held.add(res);
        res.on("close", () => held.delete(res));
        return;
      }
      protocol.writeFault(res, turn, ctx);
      return;
    }
    record("not_found", undefined, undefined);
    res.writeHead(404, { "content-type": "application/json" });
    res.end(JSON.stringify({ error: `model-server: no route for ${method} ${path}` }));
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      const message = `model-server: handler failed: ${error instanceof Error ? error.message : String(error)}`;
      if (!res.headersSent) res.writeHead(500, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: message }));
    });
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("model-server: no TCP address");
  const url = `http://${formatHost(address.address)}:${address.port}`;

  let closing: Promise<void> | undefined;
  return {
    url,
    requests,
    modelRequests: () => requests.filter((r) => r.turn !== undefined || r.outcome === "exhausted"),
    remaining: () => cursor.remaining(),
    problems: () =>
      requests.flatMap((r) =>
        (r.outcome === "mismatch" || r.outcome === "exhausted") && r.note !== undefined ? [r.note] : [],
      ),
    close: () => {
      closing ??= new Promise<void>((resolve, reject) => {
        server.close((error) => (error === undefined ? resolve() : reject(error)));
        for (const res of held) res.destroy();
        held.clear();
        server.closeAllConnections();
        for (const socket of sockets) socket.destroy();
      });
      return closing;
    },
  };
}

async function readBody(req: IncomingMessage): Promise<string> {
  const parts: Buffer[] = [];
  for await (const chunk of req) parts.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  return Buffer.concat(parts).toString("utf8");
}

function parseJson(text: string): unknown {
  if (text.length === 0) return undefined;
  try {
    const value: unknown = JSON.parse(text);
    return value;
  } catch {
    return undefined;
  }
}

function formatHost(address: string): string {
  return address.includes(":") ? `[${address}]` : address;
}
