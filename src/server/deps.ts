// What the server is made of, passed in whole: the journal, the redactor, who may ask, where the dashboard is, how
// to start a supervisor, its live streams and a log. No module of the server keeps state of its own.
import type { HttpBindings } from "@hono/node-server";
import type { Context } from "hono";
import type { Redactor } from "../core/redact.js";
import type { SupervisorLaunch } from "../app/resume.js";
import type { Store } from "../store/store.js";
import type { SseClients, SseCounters } from "./sse.js";

export interface ServerDeps {
  store: Store;
  /** The repository whose runs are served. */
  repoRoot: string;
  redactor: Redactor;
  /** Required of every request when set (server/auth.ts). */
  token: string | undefined;
  /** Bound to loopback: requests must name a loopback host. */
  loopbackOnly: boolean;
  /** The built dashboard (dist/dashboard/). */
  dashboardDir: string;
  launch: SupervisorLaunch;
  sse: SseClients;
  counters: SseCounters;
  log(message: string, error?: Error): void;
}

export type Env = { Bindings: HttpBindings };
export type Ctx = Context<Env>;
