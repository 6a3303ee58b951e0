// Parsing the inputs of a request with zod: path parameters, the query and the body. A mismatch is a 400 with
// zod's issues in plain words (server/errors.ts); a parsed value is the only way a handler sees its input.
import { z } from "zod";
import { ApiError, describeIssues } from "./errors.js";
import type { Ctx } from "./deps.js";

/** A run reference: an id or a prefix of one. */
export const RunRef = z.string().min(1).max(200).regex(/^[A-Za-z0-9._-]+$/, "a run id (or its prefix) holds letters, digits, '.', '_' and '-' only");
/** An id of a task or an attempt, as the journal writes them. */
export const Id = z.string().min(1).max(200).regex(/^[A-Za-z0-9._:-]+$/, "an id holds letters, digits, '.', '_', ':' and '-' only");
/** A sequence number in a query or a header. */
export const Seq = z.string().regex(/^\d{1,15}$/, "a sequence number is a whole number, 0 or more").transform(Number);
export const Limit = (max: number) =>
  z
    .string()
    .regex(/^\d{1,9}$/, "a limit is a whole number")
    .transform(Number)
    .pipe(z.number().int().min(1, "a limit is at least 1").max(max, `a limit is at most ${max}`));

/** The token may ride along in any query (server/auth.ts); it is no input of the route. */
const withToken = <T extends z.ZodRawShape>(shape: T) => z.strictObject({ ...shape, token: z.string().optional() });

export function parse<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const result = schema.safeParse(value);
  if (!result.success) throw new ApiError(400, "bad_request", `bad ${what}: ${describeIssues(result.error)}`);
  return result.data;
}

export function query<T extends z.ZodRawShape>(c: Ctx, shape: T): z.infer<ReturnType<typeof withToken<T>>> {
  return parse(withToken(shape), c.req.query(), "query");
}

export function runParam(c: Ctx): string {
  return parse(RunRef, c.req.param("run"), "run reference");
}

/** A control request's body: nothing, or an empty JSON object. */
export async function emptyBody(c: Ctx): Promise<void> {
  const text = await c.req.text();
  if (text.trim() === "") return;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new ApiError(400, "bad_request", "the body is not JSON; send nothing or {}");
  }
  parse(z.strictObject({}), value, "body");
}
