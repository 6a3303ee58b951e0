// `orch serve [--host H] [--port P] [--token]`: one server for all runs of the repository, the JSON API, live events,
// /metrics and the dashboard (src/server/). It reads the journal only, so it works while no run is active and
// sees runs started later; it stays up until SIGINT or SIGTERM, then closes every stream and exits 0.
import { dirname, relative, resolve } from "node:path";
import { AGENT_SECRET_ENV } from "../../agents/secret-env.js";
import { UsageError } from "../../core/errors.js";
import { createRedactor } from "../../core/redact.js";
import { openRepoStore } from "../../app/compose.js";
import { isLoopback, serverToken } from "../../server/auth.js";
import { listen } from "../../server/listen.js";
import type { CliContext } from "../context.js";
import { EXIT } from "../exit-codes.js";

export const DEFAULT_PORT = 7317;
export const DEFAULT_HOST = "127.0.0.1";

export interface ServeFlags {
  host?: string;
  port?: string;
  token?: boolean;
}

function parsePort(text: string | undefined): number {
  if (text === undefined) return DEFAULT_PORT;
  const port = /^\d{1,5}$/.test(text.trim()) ? Number(text.trim()) : NaN;
  if (!Number.isInteger(port) || port > 65_535) throw new UsageError(`--port must be a port number from 0 to 65535, not "${text}"`, { hint: "--port 0 picks any free port" });
  return port;
}

function parseHost(text: string | undefined): string {
  if (text === undefined) return DEFAULT_HOST;
  const host = text.trim().replace(/^\[(.*)\]$/, "$1");
  if (host === "" || !/^[A-Za-z0-9.:-]+$/.test(host)) throw new UsageError(`--host must be an address or a host name of this machine, not "${text}"`, { hint: `the default is ${DEFAULT_HOST}; 0.0.0.0 listens on every address (with a token)` });
  return host;
}

export async function serveCommand(ctx: CliContext, flags: ServeFlags): Promise<number> {
  const port = parsePort(flags.port);
  const host = parseHost(flags.host);
  const loopbackOnly = isLoopback(host);
  // The journal is made if there is none yet: the server waits for the first run.
  const { repo, paths, store } = await openRepoStore(ctx.cwd, { create: true });
  try {
    const token = !loopbackOnly || flags.token === true ? serverToken(paths.dir, flags.token === true) : undefined;
    const redactor = createRedactor(ctx.env, { extraNames: AGENT_SECRET_ENV });
    const server = await listen({
      host,
      port,
      loopbackOnly,
      store,
      repoRoot: repo.root,
      redactor,
      token: token?.token,
      dashboardDir: resolve(dirname(ctx.entry), "../dashboard"),
      launch: { entry: ctx.entry, env: ctx.env },
      log: (message, error) => ctx.output.err(redactor.redact(`orch serve: ${message}${error !== undefined ? `: ${error.message}` : ""}`)),
    });
    const stopped = new Promise<NodeJS.Signals>((done) => {
      process.once("SIGINT", () => done("SIGINT"));
      process.once("SIGTERM", () => done("SIGTERM"));
    });
    ctx.output.out(`orch serve: the runs of ${repo.root} at ${server.url}`);
    if (token !== undefined) {
      const file = relative(repo.root, token.file);
      if (token.made) ctx.output.out(`  open ${server.url}?token=${token.token}\n  the token was made now and is shown this once; it is kept in ${file} (mode 0600); \`orch serve --token\` replaces it`);
      else ctx.output.out(`  every request needs the token kept in ${file}: Authorization: Bearer <token>, or open the URL with ?token=<token>`);
    }
    if (!loopbackOnly) ctx.output.err(`orch serve: listening on ${host}, beyond this machine: anyone who can reach it needs the token`);
    ctx.output.err("orch serve: Ctrl-C stops it");
    const signal = await stopped;
    ctx.output.err(`orch serve: ${signal}: closing`);
    await server.close();
    return EXIT.ok;
  } finally {
    await store.close();
  }
}
