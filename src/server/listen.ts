// Starting and stopping the server: the journal hub, the SSE clients, the hono app on a node HTTP server bound to
// `host:port` (port 0: any free one). Invariant: `close()` ends every stream, stops the hub and the listener, and
// resolves once no connection is left, so the process can exit on its own.
import type { AddressInfo } from "node:net";
import type { Server } from "node:http";
import { createAdaptorServer } from "@hono/node-server";
import { UsageError } from "../core/errors.js";
import { createApp } from "./app.js";
import type { ServerDeps } from "./deps.js";
import { JournalHub } from "./hub.js";
import { DEFAULT_SSE_LIMITS, SseClients, type SseCounters, type SseLimits } from "./sse.js";

export interface ListenOptions extends Omit<ServerDeps, "sse" | "counters" | "loopbackOnly"> {
  host: string;
  port: number;
  loopbackOnly: boolean;
  limits?: Partial<SseLimits>;
}

export interface RunningServer {
  /** The address it listens on, as a URL (the real port). */
  url: string;
  port: number;
  counters: SseCounters;
  close(): Promise<void>;
}

export async function listen(options: ListenOptions): Promise<RunningServer> {
  const { host, port, limits, ...rest } = options;
  const hub = new JournalHub({ store: rest.store, redactor: rest.redactor, log: rest.log });
  await hub.start();
  const counters: SseCounters = { connected: 0, dropped: 0, framesSent: 0 };
  const sse = new SseClients({ store: rest.store, redactor: rest.redactor, hub, counters, limits: { ...DEFAULT_SSE_LIMITS, ...limits } });
  const app = createApp({ ...rest, sse, counters });
  const server = createAdaptorServer({ fetch: app.fetch, hostname: host }) as Server;
  try {
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, host, () => {
        server.off("error", reject);
        resolve();
      });
    });
  } catch (thrown) {
    await hub.stop();
    const code = thrown instanceof Error && "code" in thrown ? String(thrown.code) : undefined;
    const why = code === "EADDRINUSE" ? `port ${port} is already in use` : code === "EACCES" ? `binding port ${port} is not allowed here` : code === "EADDRNOTAVAIL" || code === "ENOTFOUND" ? `${host} is not an address of this machine` : String(thrown);
    throw new UsageError(`cannot listen on ${host}:${port}: ${why}`, { hint: "pick another with --port (0: any free port) or --host" });
  }
  const address = server.address() as AddressInfo;
  const shown = address.family === "IPv6" ? `[${address.address}]` : address.address;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${shown}:${address.port}/`,
    port: address.port,
    counters,
    close: () =>
      (closing ??= (async () => {
        sse.closeAll();
        await hub.stop();
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
      })()),
  };
}
