// The dashboard's files (dist/dashboard/, built with the project) for every path outside /api/ and /metrics: a file
// by its path, else index.html for a client-side route (a path without an extension). Invariant: nothing outside
// the dashboard's folder is ever read (a decoded path that leaves it, or holds a NUL, is refused).
import { existsSync, statSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { extname, join, resolve, sep } from "node:path";
import { ApiError } from "./errors.js";

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".map": "application/json; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".jpg": "image/jpeg",
  ".ico": "image/x-icon",
  ".webmanifest": "application/manifest+json",
  ".woff2": "font/woff2",
  ".txt": "text/plain; charset=utf-8",
};

export const NOT_BUILT =
  "The orch dashboard is not built, so there is nothing to show here yet. Build it with `npm run build` in orch's checkout (it makes dist/dashboard/). The JSON API works meanwhile: /api/runs lists the runs.\n";

export interface StaticFile {
  status: 200 | 404 | 503;
  type: string;
  body: Buffer | string;
  /** index.html and the fallback are never cached; hashed assets may be. */
  cache: string;
}

/** What to answer for `pathname` from `dir`. */
export async function staticFile(dir: string, pathname: string): Promise<StaticFile> {
  const root = resolve(dir);
  if (!existsSync(join(root, "index.html"))) return { status: 503, type: "text/plain; charset=utf-8", body: NOT_BUILT, cache: "no-store" };
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    throw new ApiError(400, "bad_request", "the path is not valid percent-encoding");
  }
  if (decoded.includes("\0")) throw new ApiError(400, "bad_request", "the path holds a NUL character");
  const target = resolve(root, `.${decoded.startsWith("/") ? decoded : `/${decoded}`}`);
  if (target !== root && !target.startsWith(root + sep)) throw new ApiError(404, "not_found", "no such file");
  const file = isFile(target) ? target : extname(decoded) === "" ? join(root, "index.html") : undefined;
  if (file === undefined) return { status: 404, type: "text/plain; charset=utf-8", body: "no such file\n", cache: "no-store" };
  const type = TYPES[extname(file).toLowerCase()] ?? "application/octet-stream";
  return { status: 200, type, body: await readFile(file), cache: file.endsWith("index.html") ? "no-cache" : "public, max-age=3600" };
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}
