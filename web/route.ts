// Client-side routes in the URL's hash (#/ and #/runs/RUN): any static server, the CLI's included, serves the one
// index.html, and a reload or a shared link lands on the same page.
export type Route = { page: "runs" } | { page: "run"; runId: string; attemptId: string | null };

export function parseRoute(hash: string): Route {
  const path = hash.replace(/^#/, "");
  const match = /^\/runs\/([^/?]+)(?:\/attempts\/([^/?]+))?/.exec(path);
  if (match?.[1] !== undefined) {
    return { page: "run", runId: decodeURIComponent(match[1]), attemptId: match[2] !== undefined ? decodeURIComponent(match[2]) : null };
  }
  return { page: "runs" };
}

export const runHref = (runId: string): string => `#/runs/${encodeURIComponent(runId)}`;
export const attemptHref = (runId: string, attemptId: string): string => `${runHref(runId)}/attempts/${encodeURIComponent(attemptId)}`;
