// The server's errors and their one mapping to HTTP: every failure leaves as `{ error: { code, message, hint? } }`
// with its status, its words redacted like everything else the server sends. Invariant: no stack, path of the
// server's own code or secret ever reaches a response; an unexpected error is a plain 500 and a line in the log.
import { z } from "zod";
import { NotFoundError, UsageError, toError } from "../core/errors.js";
import type { Redactor } from "../core/redact.js";
import { JournalDamagedError } from "../store/errors.js";

export type ApiStatus = 400 | 401 | 403 | 404 | 409 | 500 | 503;

export class ApiError extends Error {
  override readonly name = "ApiError";
  constructor(
    readonly status: ApiStatus,
    readonly code: string,
    message: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}

export interface ErrorBody {
  error: { code: string; message: string; hint?: string };
}

/** The status and body for anything thrown while answering; `log` hears of what was not expected. */
export function errorResponse(thrown: unknown, redactor: Redactor, log: (error: Error) => void): { status: ApiStatus; body: ErrorBody } {
  const error = toError(thrown);
  const body = (status: ApiStatus, code: string, message: string, hint?: string) => ({
    status,
    body: { error: { code, message: redactor.redact(message), ...(hint !== undefined ? { hint: redactor.redact(hint) } : {}) } },
  });
  if (error instanceof ApiError) return body(error.status, error.code, error.message, error.hint);
  if (error instanceof z.ZodError) return body(400, "bad_request", describeIssues(error));
  if (error instanceof NotFoundError) return body(404, "not_found", error.message, error.hint);
  if (error instanceof UsageError) return body(400, "bad_request", error.message, error.hint);
  if (error instanceof JournalDamagedError) return body(500, "journal", error.message, "`orch doctor` checks the journal");
  log(error);
  return body(500, "internal", "the server failed to answer; its log says why");
}

/** Zod's issues in plain words: `limit: too big (at most 5000)`. */
export function describeIssues(error: z.ZodError): string {
  return error.issues.map((issue) => `${issue.path.length > 0 ? `${issue.path.join(".")}: ` : ""}${issue.message}`).join("; ");
}
