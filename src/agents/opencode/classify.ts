// Classifies a finished OpenCode process: `undefined` when its turn ended cleanly (verification decides), else
// one Failure. Evidence in order of trust: the last result (a final step, or an error line), stderr, the exit.
import type { AgentExit, ResultEvent } from "../agent.js";
import type { Failure } from "../../core/failure.js";
import { clipDetail, lastTelling, messageLine, stderrLines } from "../classify-text.js";
import {
  exitedWithCode,
  inOrderOfTrust,
  killedBy,
  OVERLOAD_STATUSES,
  stderrNote,
  toFailure,
  type ApiFailureKind,
  type ExitWords,
  type Finding,
  type FindingWords,
} from "../finding.js";

// OpenCode talks to any provider, so these are the words of the major APIs, not one vendor's.
const CONTEXT =
  /context window|context length|context_length_exceeded|maximum context|prompt is too long|input is too long|too many tokens|reduce the length of the messages/i;
// Plan and billing limits: waiting minutes does not help, another model or account might.
const QUOTA = /insufficient[_ ]quota|exceeded your current quota|quota exceeded|credit balance|billing|usage limit/i;
const AUTH = /invalid api key|incorrect api key|invalid_api_key|authentication|unauthori[sz]ed|forbidden|api key (?:is )?missing|no api key/i;
const RATE = /rate[ _-]?limit|too many requests|resource has been exhausted/i;
const OVERLOADED = /overloaded|server[ _]error|internal server error|service unavailable|bad gateway|gateway timeout|not ready yet/i;
// No answer at all. Usually passing (a restarting gateway, a network blip): worth a retry, then a fallback.
const NETWORK =
  /timed out|cannot connect|unable to connect|connection (?:error|refused|reset)|econnrefused|econnreset|etimedout|enotfound|eai_again|fetch failed|socket hang up/i;
/** Error names that end the model's turn without anything being wrong with the work: verification judges it. */
const CLEAN_ENDINGS = new Set(["MessageOutputLengthError"]);

// Only what the message says (the default): OpenCode prints neither its retries nor the retry-after header it honoured.
const WORDS: FindingWords<ApiFailureKind> = {
  labels: {
    rate_limited: "Model API rate limit",
    overloaded: "Model API overloaded or failing",
    quota_exhausted: "Model API quota or credit exhausted",
    context_exceeded: "Context window exceeded",
    auth_failed: "Model API rejected the credentials",
  },
  unreachable: "Could not reach the model API",
};

const EXIT_WORDS: Pick<ExitWords, "agent" | "silent"> = { agent: "OpenCode", silent: "without a finished step or any stderr" };

export function classifyOpenCodeExit(exit: AgentExit): Failure | undefined {
  const { result, exitCode, signal } = exit;
  if (result?.ok === true) {
    // OpenCode exits 1 whenever any error was printed during the session, even one it recovered from; the
    // last step ending the turn is what counts.
    if (signal === null && (exitCode === 0 || exitCode === 1)) return undefined;
    return { kind: "crashed", detail: `OpenCode finished its turn but ${signal !== null ? `was killed by ${signal}` : `exited with code ${exitCode}`}` };
  }
  if (result?.reason !== undefined && CLEAN_ENDINGS.has(result.reason)) return undefined;
  return inOrderOfTrust(exit, { result: fromResult, along: [fromStderr], exit: fromExit });
}

function fromResult(result: ResultEvent, exit: AgentExit): Failure | undefined {
  const text = result.text ?? "";
  const finding = recognize(result.httpStatus, text, result.reason);
  return finding === undefined ? undefined : toFailure(finding, messageLine(text), text, exit, WORDS);
}

function fromStderr(exit: AgentExit): Failure | undefined {
  return lastTelling(stderrLines(exit.stderrTail), (line) => {
    const finding = recognize(undefined, line, undefined);
    return finding === undefined ? undefined : toFailure(finding, clipDetail(line), line, exit, WORDS);
  });
}

function fromExit(exit: AgentExit): Failure {
  const { result, exitCode, signal } = exit;
  const lastLine = stderrLines(exit.stderrTail).at(-1);
  if (signal !== null) return killedBy(signal, lastLine, EXIT_WORDS);
  if (result !== undefined) {
    const why = result.text ? `: ${messageLine(result.text)}` : "";
    const failure: Failure = { kind: "crashed", detail: `OpenCode ended with an error (${result.reason ?? "no reason given"})${why}` };
    if (result.httpStatus !== undefined) failure.httpStatus = result.httpStatus;
    return failure;
  }
  // Not `exitFallback`: OpenCode's words for an exit 0 also quote stderr, and a missing exit code (which comes
  // only with a signal) is worded like any other code.
  if (exitCode === 0) return { kind: "bad_output", detail: `OpenCode exited with code 0 but printed no finished step${stderrNote(lastLine)}` };
  return exitedWithCode(exitCode, lastLine, EXIT_WORDS);
}

/**
 * What a message says, most specific first: OpenCode's own error names, then the size of the context (a 400
 * that says the input is too long is the context), then quota before rate (OpenAI sends insufficient_quota
 * as a 429), then the status, then the general words. Not the common ladder (`recognizeApi`): the error names
 * come first, and network words count only when no status came back (a status means the API did answer).
 */
function recognize(status: number | undefined, text: string, name: string | undefined): Finding | undefined {
  if (name === "ContextOverflowError" || status === 413 || CONTEXT.test(text)) return { kind: "context_exceeded", httpStatus: status };
  if (name === "ProviderAuthError") return { kind: "auth_failed", httpStatus: status };
  if (QUOTA.test(text)) return { kind: "quota_exhausted", httpStatus: status };
  if (status === 401 || status === 403 || AUTH.test(text)) return { kind: "auth_failed", httpStatus: status };
  if (status === 429 || RATE.test(text)) return { kind: "rate_limited", httpStatus: status };
  if ((status !== undefined && OVERLOAD_STATUSES.has(status)) || OVERLOADED.test(text)) return { kind: "overloaded", httpStatus: status };
  if (status === undefined && NETWORK.test(text)) return { kind: "overloaded", network: true };
  return undefined;
}
