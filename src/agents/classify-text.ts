// Failure classification from plain text (stderr, an error message) for agents that print no structured
// result: the words and HTTP statuses the major model APIs use, mapped to the closed failure union.
import type { Failure, FailureKind } from "../core/failure.js";
import { firstLine } from "../core/text.js";

const RULES: { kind: FailureKind; pattern: RegExp }[] = [
  { kind: "quota_exhausted", pattern: /insufficient[_ ]quota|quota exceeded|credit balance is too low|usage limit|billing/i },
  { kind: "rate_limited", pattern: /\b429\b|rate[_ -]?limit|too many requests|resource has been exhausted/i },
  { kind: "context_exceeded", pattern: /prompt is too long|context (window|length)|maximum context|too many tokens|context_length_exceeded/i },
  { kind: "auth_failed", pattern: /\b401\b|\b403\b|unauthori[sz]ed|invalid api key|authentication|not logged in|please log ?in/i },
  { kind: "overloaded", pattern: /\b529\b|\b503\b|\b502\b|overloaded|service unavailable|bad gateway|ECONNREFUSED|ECONNRESET|timed out/i },
];

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

export function lastNonEmptyLine(text: string): string {
  const lines = text.split("\n").map((l) => l.trim()).filter((l) => l !== "");
  return firstLine(lines[lines.length - 1] ?? "", 300);
}
