// How far each agent CLI may retry and wait on its own before a failure reaches orch: the one place for these
// numbers. orch's recovery policy owns retries; a CLI keeps only quick retries of transient faults.
//
// Why these numbers:
// - A rate limit must reach orch promptly, so that orch sleeps until the reset itself: one rate-limit signal
//   may cost at most one extra call. Claude and Gemini retry a 429 like a 5xx, so they get one retry in all;
//   Codex retries a 429 only through its stream retries (and only when the server says when), so it gets none
//   of those and two quick request retries for 5xx and network faults, which never touch a 429.
// - No long waits inside a CLI: one or two retries keep each CLI's backoff to seconds (Claude's default of 10
//   retries is about 3 minutes of backoff, Gemini's default of 10 attempts about 3.5 minutes).
// - A request that hangs is cut by the CLI well below orch's default stall timer (10 minutes), so a hang ends
//   as a classified failure, not a kill; but never so short that a slow first token on a long prompt is cut.

export const REQUEST_TIMEOUT_MS = 300_000;

export const RETRY_BOUNDS = {
  "claude-code": {
    /** CLAUDE_CODE_MAX_RETRIES (default 10): retries of one request, 429 and 529 alike. */
    maxRetries: 1,
    /** API_TIMEOUT_MS (default 600 000): one request, until its response starts. */
    requestTimeoutMs: REQUEST_TIMEOUT_MS,
  },
  codex: {
    /** request_max_retries (default 4): HTTP retries of one request (5xx, network), never of a 429. */
    requestMaxRetries: 2,
    /** stream_max_retries (default 5): re-requests after a failed stream; they multiply the request retries
     * (a 503 cost 5 × 6 = 30 requests) and are how Codex retries a 429 and even a 401. */
    streamMaxRetries: 0,
    /** stream_idle_timeout_ms (default 300 000): silence on an open stream. */
    streamIdleTimeoutMs: REQUEST_TIMEOUT_MS,
  },
  gemini: {
    /** general.maxAttempts (default 10), retries included. Settings files only: see gemini/command.ts. */
    maxAttempts: 2,
  },
  opencode: {
    /** provider `timeout` (default 300 000): one request. OpenCode has no retry count to bound. */
    timeoutMs: REQUEST_TIMEOUT_MS,
    /** provider `chunkTimeout` (no default): silence between chunks of a streamed answer. */
    chunkTimeoutMs: 120_000,
  },
} as const;

export type ClaudeRetryBounds = (typeof RETRY_BOUNDS)["claude-code"];
export type OpenCodeRetryBounds = (typeof RETRY_BOUNDS)["opencode"];
