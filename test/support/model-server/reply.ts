// The plain HTTP answers every protocol writes besides its event streams: JSON bodies (errors, non-streamed
// replies), the retry-after header of a rate limit, and the random ids vendors put in bodies and headers.
import { randomBytes } from "node:crypto";
import type { ServerResponse } from "node:http";

/** `bytes` random bytes as hex, for ids such as `msg_…` and `req_…`. */
export const hex = (bytes: number): string => randomBytes(bytes).toString("hex");

/** A JSON answer; `headers` may add to or replace the content type. */
export function writeJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { "content-type": "application/json", ...headers });
  res.end(JSON.stringify(body));
}

/** The retry-after header of a rate limit that names its wait, else none. */
export function retryAfter(seconds: number | undefined): Record<string, string> {
  return seconds === undefined ? {} : { "retry-after": String(seconds) };
}
