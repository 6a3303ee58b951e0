// Classifies a finished Codex process: `undefined` when its turn completed (verification decides), else one
// Failure. Evidence is read in order of trust: the failed turn's message, the CLI's own retries, stderr, the exit.
import type { AgentExit, ResultEvent } from "../agent.js";
import type { Failure } from "../../core/failure.js";
import { lastTelling, messageLine, stderrLines } from "../classify-text.js";
import {
  exitFallback,
  inOrderOfTrust,
  recognizeApi,
  stderrNote,
  toFailure,
  type ApiFailureKind,
  type ApiPatterns,
  type ExitWords,
  type Finding,
  type FindingWords,
} from "../finding.js";
import { statusIn } from "./normalize.js";

const PATTERNS: ApiPatterns = {
  context: /out of room in the model's context window|context window|context_length_exceeded|maximum context length|prompt is too long/i,
  quota: /quota exceeded|insufficient_quota|usage limit|billing|credits? (?:balance|exhausted)|upgrade to (?:plus|pro)/i,
  auth: /unauthori[sz]ed|incorrect api key|invalid[_ ]api[_ ]key|invalid authentication|not logged in|please (?:log ?in|run `?codex login)|token (?:has )?expired|forbidden|missing (?:api key|environment variable)/i,
  rate: /too many requests|rate[ _-]?limit/i,
  // Codex replaces a 500's message with its own "high demand" words.
  overloaded: /high demand|overloaded|service unavailable|bad gateway|gateway timeout|internal server error|server_error|server had an error/i,
  network: /connection failed|error sending request|stream disconnected|idle timeout|timed out|connection (?:refused|reset|closed)|dns error|waiting for network/i,
};

/**
 * `unexpected status 401 Unauthorized: Incorrect API key…, url: http://…, request id: req_…` → `Incorrect API
 * key…`: the label already names the status, and the URL and request id only make the line long.
 */
const API_NOISE = [/^unexpected status \d{3}[^:]*:\s*/i, /,\s*url: [^,\s]+/i, /,\s*request id: [^,\s]+/i, /^Error:\s*/];
/** The CLI's notice that it read the (closed) stdin: never the reason it ended. */
const STDIN_NOTICE = /^Reading (?:additional input|prompt) from stdin/i;

// Only a time the message names (the default): Codex prints no backoff delay, and orch's own backoff covers the rest.
const WORDS: FindingWords<ApiFailureKind> = {
  labels: {
    rate_limited: "OpenAI API rate limit",
    overloaded: "OpenAI API overloaded or failing",
    quota_exhausted: "OpenAI usage or quota limit reached",
    context_exceeded: "Context window exceeded",
    auth_failed: "OpenAI API rejected the credentials",
  },
  unreachable: "Could not reach the model API",
};

const EXIT_WORDS: ExitWords = {
  agent: "Codex",
  noResult: "printed no turn.completed line",
  silent: "without finishing a turn or printing anything to stderr",
};

export function classifyCodexExit(exit: AgentExit): Failure | undefined {
  return inOrderOfTrust(exit, { result: fromResult, along: [fromRetries, fromStderr], exit: fromExit });
}

function fromResult(result: ResultEvent, exit: AgentExit): Failure | undefined {
  const text = result.text ?? "";
  const finding = recognize(result.httpStatus, text);
  return finding === undefined ? undefined : toFailure(finding, messageLine(text, API_NOISE), text, exit, WORDS);
}

function fromRetries(exit: AgentExit): Failure | undefined {
  const last = exit.retries.at(-1);
  if (last === undefined) return undefined;
  const finding = recognize(last.httpStatus, last.error ?? "");
  if (finding === undefined) return undefined;
  const what = last.error === undefined ? `attempt ${last.attempt}` : `attempt ${last.attempt}, ${messageLine(last.error, API_NOISE)}`;
  return toFailure(finding, `still retrying (${what}) when Codex stopped`, last.error ?? "", exit, WORDS);
}

function fromStderr(exit: AgentExit): Failure | undefined {
  return lastTelling(codexStderr(exit), (line) => {
    const finding = recognize(undefined, line);
    return finding === undefined ? undefined : toFailure(finding, messageLine(line, API_NOISE), line, exit, WORDS);
  });
}

function fromExit(exit: AgentExit): Failure {
  const { result, exitCode } = exit;
  const lastLine = codexStderr(exit).at(-1);
  if (exit.signal !== null || result === undefined) return exitFallback(exit, lastLine, EXIT_WORDS);
  if (result.ok) return { kind: "crashed", detail: `Codex completed the turn but exited with code ${String(exitCode)}${stderrNote(lastLine)}` };
  const failure: Failure = { kind: "crashed", detail: `Codex ended the turn with an error: ${messageLine(result.text ?? "no message", API_NOISE)}` };
  if (result.httpStatus !== undefined) failure.httpStatus = result.httpStatus;
  return failure;
}

/** The common ladder, with the status Codex names in its own words when no field carries one. */
function recognize(status: number | undefined, text: string): Finding | undefined {
  return recognizeApi(status ?? statusIn(text), text, PATTERNS);
}

function codexStderr(exit: AgentExit): string[] {
  return stderrLines(exit.stderrTail).filter((line) => !STDIN_NOTICE.test(line));
}
