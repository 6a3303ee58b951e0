// The live routes: `GET /api/stream` (every run) and `GET /api/runs/:run/stream` (one run), SSE written straight to
// the socket by server/sse.ts, so that the server sees the socket's backpressure. `Last-Event-ID` (a reconnect) or
// `?after=SEQ` replays from the journal first.
import { RESPONSE_ALREADY_SENT } from "@hono/node-server/utils/response";
import { Hono } from "hono";
import { resolveRun } from "../../read/runs.js";
import type { Ctx, Env, ServerDeps } from "../deps.js";
import { parse, query, runParam, Seq } from "../validate.js";

function openStream(deps: ServerDeps, c: Ctx, runId: string | undefined, after: number | undefined): Response {
  const header = c.req.header("last-event-id");
  const afterSeq = header !== undefined && header !== "" ? parse(Seq, header, "Last-Event-ID") : after;
  deps.sse.open({ req: c.env.incoming, res: c.env.outgoing, runId, afterSeq });
  return RESPONSE_ALREADY_SENT;
}

export function streamRoutes(deps: ServerDeps): { all: Hono<Env>; run: Hono<Env> } {
  const all = new Hono<Env>();
  all.get("/", (c) => {
    const q = query(c, { after: Seq.optional() });
    return openStream(deps, c, undefined, q.after);
  });
  const run = new Hono<Env>();
  run.get("/:run/stream", async (c) => {
    const q = query(c, { after: Seq.optional() });
    const found = await resolveRun(deps.store, runParam(c));
    return openStream(deps, c, found.id, q.after);
  });
  return { all, run };
}
