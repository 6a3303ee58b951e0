// The server's token and who may ask what. A token is made on first use with crypto randomness and kept in
// `.orch/serve-token` (mode 0600); `orch serve --token` makes a new one. It is required whenever the server is
// bound beyond loopback (or started with --token), accepted as `Authorization: Bearer`, as `?token=` (which sets
// an HttpOnly SameSite=Strict cookie, for EventSource and the first page load) or as that cookie. Mutating requests
// must come from the server's own origin, and a loopback server answers only to loopback host names (DNS
// rebinding). Invariant: the token is compared in constant time and never written to a response or a log.
import { randomBytes, timingSafeEqual } from "node:crypto";
import { chmodSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { isIP } from "node:net";
import { join } from "node:path";
import type { MiddlewareHandler } from "hono";
import { getCookie, setCookie } from "hono/cookie";
import { ApiError } from "./errors.js";

export const TOKEN_FILE = "serve-token";
export const TOKEN_COOKIE = "orch_token";

/** The token kept in `orchDir`, made (or, with `rotate`, replaced) here; `made` says whether it is new. */
export function serverToken(orchDir: string, rotate: boolean): { token: string; made: boolean; file: string } {
  const file = join(orchDir, TOKEN_FILE);
  if (!rotate && existsSync(file)) {
    const token = readFileSync(file, "utf8").trim();
    if (/^[A-Za-z0-9_-]{32,}$/.test(token)) {
      chmodSync(file, 0o600);
      return { token, made: false, file };
    }
  }
  const token = randomBytes(32).toString("base64url");
  writeFileSync(file, `${token}\n`, { mode: 0o600 });
  // The mode of an existing file is kept by writeFile: set it.
  chmodSync(file, 0o600);
  return { token, made: true, file };
}

/** Whether `host` names this machine's loopback only (127.0.0.0/8, ::1, localhost). */
export function isLoopback(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, "").toLowerCase();
  if (bare === "localhost" || bare === "::1") return true;
  return isIP(bare) === 4 && bare.startsWith("127.");
}

function sameToken(given: string, token: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Requires the token on every request (see the module comment); without a token, lets every request through. */
export function requireToken(token: string | undefined): MiddlewareHandler {
  return async (c, next) => {
    if (token === undefined) return next();
    const header = c.req.header("authorization");
    const query = c.req.query("token");
    const cookie = getCookie(c, TOKEN_COOKIE);
    let given: string | undefined;
    if (header !== undefined) {
      const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
      if (match?.[1] === undefined) throw new ApiError(401, "unauthorized", "the Authorization header must be `Bearer <token>`", "the token is in .orch/serve-token of the repository");
      given = match[1];
    } else {
      given = query ?? cookie;
    }
    if (given === undefined || given === "") {
      throw new ApiError(401, "unauthorized", "this server needs its token: send `Authorization: Bearer <token>` or open the URL with ?token=<token>", "the token is in .orch/serve-token of the repository; `orch serve --token` makes a new one");
    }
    if (!sameToken(given, token)) throw new ApiError(401, "unauthorized", "the token is wrong", "the token is in .orch/serve-token of the repository; it changes with `orch serve --token`");
    if (query !== undefined) {
      setCookie(c, TOKEN_COOKIE, token, { httpOnly: true, sameSite: "Strict", path: "/" });
    }
    return next();
  };
}

/**
 * A loopback server answers only to loopback host names (a page of another site that rebinds its name to
 * 127.0.0.1 is refused); a POST must come from the server's own origin when the browser says where it comes from.
 */
export function checkOrigin(loopbackOnly: boolean): MiddlewareHandler {
  return async (c, next) => {
    const url = new URL(c.req.url);
    if (loopbackOnly && !isLoopback(url.hostname)) {
      throw new ApiError(403, "forbidden", `this server answers only to requests for this machine's loopback address, not ${url.hostname}`);
    }
    const origin = c.req.header("origin");
    if (c.req.method !== "GET" && c.req.method !== "HEAD" && origin !== undefined && origin !== url.origin) {
      throw new ApiError(403, "forbidden", `a request from ${origin} may not change anything here; only pages of ${url.origin} may`);
    }
    return next();
  };
}
