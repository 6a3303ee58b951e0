// Failure evidence read from plain text (stderr, an error message): the words and HTTP statuses the major model
// APIs use, mapped to the closed failure union, and the text readers every adapter's classifier shares.
import type { Failure, FailureKind } from "../core/failure.js";

const RULES: { kind: FailureKind; pattern: RegExp }[] = [
  { kind: "quota_exhausted", pattern: /insufficient[_ ]quota|quota exceeded|credit balance is too low|usage limit|billing/i },
  { kind: "rate_limited", pattern: /\b429\b|rate[_ -]?limit|too many requests|resource has been exhausted/i },
  { kind: "context_exceeded", pattern: /prompt is too long|context (window|length)|maximum context|too many tokens|context_length_exceeded/i },
  { kind: "auth_failed", pattern: /\b401\b|\b403\b|unauthori[sz]ed|invalid api key|authentication|not logged in|please log ?in/i },
  { kind: "overloaded", pattern: /\b529\b|\b503\b|\b502\b|overloaded|service unavailable|bad gateway|ECONNREFUSED|ECONNRESET|timed out/i },
];

/** How much of a message a failure's detail quotes. */
const MESSAGE_LIMIT = 300;

/** The first matching kind for a piece of text, or undefined when nothing recognisable is in it. */
export function classifyText(text: string): FailureKind | undefined {
  for (const rule of RULES) if (rule.pattern.test(text)) return rule.kind;
  return undefined;
}

/** A generic classification of a non-zero exit: the stderr words first, then the exit itself. */
export function classifyExit(exitCode: number | null, signal: string | null, stderrTail: string): Failure {
  const last = lastNonEmptyLine(stderrTail);
  const kind = classifyText(stderrTail);
  if (kind !== undefined) return { kind, detail: last || `exited with code ${exitCode}` };
  if (signal !== null) return { kind: "crashed", detail: `killed by ${signal}${last ? `: ${last}` : ""}` };
  if (exitCode === 127) return { kind: "crashed", detail: `command not found${last ? `: ${last}` : ""}` };
  return { kind: "crashed", detail: `exited with code ${exitCode}${last ? `: ${last}` : ""}` };
}

/** stderr's last line that says anything, clipped: usually why the process ended. */
export function lastNonEmptyLine(text: string): string {
  return clipDetail(stderrLines(text).at(-1) ?? "");
}

/** stderr's lines that say anything, trimmed, oldest first. */
export function stderrLines(tail: string): string[] {
  return tail
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== "");
}

/** Reads the lines newest first and returns the first thing `read` finds: the last line that tells why. */
export function lastTelling<T>(lines: readonly string[], read: (line: string) => T | undefined): T | undefined {
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = lines[i];
    if (line === undefined) continue;
    const found = read(line);
    if (found !== undefined) return found;
  }
  return undefined;
}

/**
 * A status named as one: `HTTP 503`, `status code 401`, `status: 429`. Never a bare number, which in a CLI's
 * stack trace is as likely a line number (`cli.js:401:12`).
 */
export const NAMED_STATUS = /\b(?:HTTP|status(?: code)?)[\s:=]*(\d{3})\b/i;

/** The number, when it is an HTTP status (100–599). */
export function asHttpStatus(n: number | undefined): number | undefined {
  return n !== undefined && n >= 100 && n <= 599 ? n : undefined;
}

/** The status the first pattern that matches captures (its group 1), when it is one; later patterns are not tried. */
export function httpStatusIn(text: string, ...patterns: RegExp[]): number | undefined {
  for (const pattern of patterns) {
    const match = pattern.exec(text);
    if (match !== null) return match[1] === undefined ? undefined : asHttpStatus(Number(match[1]));
  }
  return undefined;
}

/** At most MESSAGE_LIMIT characters: a detail quotes a message, it does not carry it whole. */
export function clipDetail(text: string): string {
  return text.length <= MESSAGE_LIMIT ? text : `${text.slice(0, MESSAGE_LIMIT - 1)}…`;
}

/** The first line of a message that says anything, trimmed. */
export function firstTextLine(text: string): string {
  return (text.split("\n").find((line) => line.trim() !== "") ?? "").trim();
}

/**
 * A message's first line without the CLI's wrapping around it (`noise`, removed in order; one that would leave
 * nothing is kept), clipped for a detail.
 */
export function messageLine(text: string, noise: readonly RegExp[] = []): string {
  let message = firstTextLine(text);
  for (const pattern of noise) {
    const shorter = message.replace(pattern, "").trim();
    if (shorter !== "") message = shorter;
  }
  return clipDetail(message);
}
