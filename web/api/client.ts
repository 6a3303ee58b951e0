// Talking to orch's API from the page: same-origin JSON (the `orch_token` cookie rides along), every answer parsed
// by its schema, and the API's error body turned into an ApiError whose message and hint the page shows as is.
import type { z } from "zod";
import { ApiErrorBody } from "./schemas.js";

export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly hint: string | null,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

async function read<T>(response: Response, schema: z.ZodType<T>): Promise<T> {
  const text = await response.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new ApiError(`the server answered ${response.status} with something that is not JSON`, response.status, null);
  }
  if (!response.ok) {
    const error = ApiErrorBody.safeParse(body);
    throw new ApiError(error.success ? error.data.error.message : `the server answered ${response.status}`, response.status, error.success ? (error.data.error.hint ?? null) : null);
  }
  const parsed = schema.safeParse(body);
  if (!parsed.success) throw new ApiError(`the server's answer to ${response.url} has an unexpected shape: ${parsed.error.issues[0]?.message ?? "?"}`, response.status, null);
  return parsed.data;
}

export async function getJson<T>(path: string, schema: z.ZodType<T>, signal?: AbortSignal): Promise<T> {
  const response = await fetch(path, { headers: { accept: "application/json" }, credentials: "same-origin", signal: signal ?? null });
  return read(response, schema);
}

export async function postJson<T>(path: string, schema: z.ZodType<T>, body: unknown = {}): Promise<T> {
  const response = await fetch(path, {
    method: "POST",
    headers: { accept: "application/json", "content-type": "application/json" },
    credentials: "same-origin",
    body: JSON.stringify(body),
  });
  return read(response, schema);
}

export const runPath = (runId: string): string => `/api/runs/${encodeURIComponent(runId)}`;

export function describeError(error: unknown): string {
  if (error instanceof ApiError) return error.hint !== null ? `${error.message} (${error.hint})` : error.message;
  return error instanceof Error ? error.message : String(error);
}
