// The server's HTTP surface as one hono app: security first (server/auth.ts), then the API under /api/, /metrics,
// and the dashboard's files for every other path. Errors are mapped in one place (server/errors.ts); an unknown
// path under /api/ is a 404 in JSON.
import { Hono } from "hono";
import type { Env, ServerDeps } from "./deps.js";
import { checkOrigin, requireToken } from "./auth.js";
import { ApiError, errorResponse } from "./errors.js";
import { EndedRunCounters, renderMetrics } from "./metrics.js";
import { CONTENT_TYPE } from "./prometheus.js";
import { controlRoutes } from "./routes/control.js";
import { runRoutes } from "./routes/runs.js";
import { streamRoutes } from "./routes/stream.js";
import { staticFile } from "./static.js";

export function createApp(deps: ServerDeps): Hono<Env> {
  const app = new Hono<Env>();
  app.use("*", checkOrigin(deps.loopbackOnly));
  app.use("*", requireToken(deps.token));
  app.use("*", async (c, next) => {
    await next();
    c.header("x-content-type-options", "nosniff");
    c.header("referrer-policy", "no-referrer");
  });

  const streams = streamRoutes(deps);
  app.route("/api/stream", streams.all);
  app.route("/api/runs", streams.run);
  app.route("/api/runs", runRoutes(deps));
  app.route("/api/runs", controlRoutes(deps));
  app.all("/api/*", (c) => {
    throw new ApiError(404, "not_found", `no API route ${c.req.method} ${c.req.path}`, "GET /api/runs lists the runs");
  });

  const ended = new EndedRunCounters();
  app.get("/metrics", async (c) => c.body(await renderMetrics(deps.store, deps.counters, ended), 200, { "content-type": CONTENT_TYPE, "cache-control": "no-store" }));

  app.get("*", async (c) => {
    const file = await staticFile(deps.dashboardDir, c.req.path);
    return c.body(typeof file.body === "string" ? file.body : new Uint8Array(file.body), file.status, { "content-type": file.type, "cache-control": file.cache });
  });
  app.all("*", (c) => {
    throw new ApiError(404, "not_found", `nothing answers ${c.req.method} ${c.req.path}`);
  });

  app.onError((error, c) => {
    const { status, body } = errorResponse(error, deps.redactor, (e) => deps.log(`${c.req.method} ${c.req.path} failed`, e));
    return c.json(body, status);
  });
  return app;
}
