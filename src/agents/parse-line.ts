// Reading one line of an agent CLI's JSON output without trusting it: JSON that may not parse, a head that may
// not match, fields that may be wrong, and the parser's promise never to throw. An unreadable line becomes `unknown`.
import type { z } from "zod";
import { clip, type AgentEvent } from "../core/agent-event.js";
import type { AgentParser } from "./agent.js";

/** The line kept as printed (clipped for the journal), so nothing the CLI said vanishes. */
export function unknownEvent(line: string): AgentEvent {
  return { type: "unknown", raw: clip(line) };
}

/**
 * Optional field that turns a wrong type or a `null` into `undefined` instead of failing the whole line. A field
 * a line means nothing without is required; any other is lenient: a bad value is dropped, not the line.
 */
export function lenient<T extends z.ZodType>(schema: T) {
  return schema.optional().catch(undefined);
}

/** `undefined` when the text is not JSON; a wrapper, so that a JSON `null` is told apart from no JSON. */
export function parseJson(text: string): { value: unknown } | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return { value };
  } catch {
    return undefined;
  }
}

/** A JSON line and its head read by `head` (the few fields that choose the schema for the rest), or `undefined`. */
export function readJsonLine<S extends z.ZodType>(line: string, head: S): { value: unknown; head: z.output<S> } | undefined {
  const json = parseJson(line);
  if (json === undefined) return undefined;
  const parsed = head.safeParse(json.value);
  return parsed.success ? { value: json.value, head: parsed.data } : undefined;
}

/**
 * The parser an adapter hands out: its mapping with a safety net. The schemas make a throw unreachable for any
 * input we know of; a mapping bug must still cost one line of transcript, not the attempt.
 */
export function neverThrowing(normalize: (line: string) => AgentEvent[]): AgentParser {
  return {
    parseLine(line: string): AgentEvent[] {
      try {
        return normalize(line);
      } catch {
        return [unknownEvent(line)];
      }
    },
  };
}

/** A JSON object (not an array, not null), whose fields may be read by name. */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
