// Typed errors shared by every room. A UsageError means the user asked for something that cannot be done
// as asked (exit code 2, nothing written); everything else is an internal or environmental failure.

export class UsageError extends Error {
  override readonly name: string = "UsageError";
  /** One line telling the user what to do about it. */
  readonly hint: string | undefined;
  constructor(message: string, options: { hint?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.hint = options.hint;
  }
}

export class NotFoundError extends UsageError {
  override readonly name = "NotFoundError";
}

/** Coerce anything thrown into an Error, keeping the original as `cause`. */
export function toError(value: unknown): Error {
  if (value instanceof Error) return value;
  return new Error(typeof value === "string" ? value : JSON.stringify(value), { cause: value });
}
