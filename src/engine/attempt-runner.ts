// Runs one attempt: starts the agent in the task's worktree under supervision, streams its normalized
// events into the journal and its raw output into the transcript file, enforces the stall timer, the
// attempt timeout and the money/token budget, and classifies how it ended. What goes to the agent (its
// prompt) and what comes from it (stdout, the stderr tail) passes the run's redactor first. The prompt is also
// written beside the transcript (0600), for agents that read it from a file (ORCH_PROMPT_FILE).
import { existsSync } from "node:fs";
import { chmod, mkdir, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import type { AgentAdapter, AgentExit, AgentInvocation } from "../agents/agent.js";
import { spawnFailure } from "../agents/start-failure.js";
import type { AgentEvent, TokenUsage } from "../core/agent-event.js";
import { toError } from "../core/errors.js";
import { formatDuration } from "../core/duration.js";
import type { Failure } from "../core/failure.js";
import type { Permission } from "../agents/permission.js";
import { formatSize } from "../core/size.js";
import { DEFAULT_LOG_KEEP, DEFAULT_LOG_MAX_BYTES, RotatingLog } from "../process/rotating-log.js";
import { processStartTime } from "../process/tree.js";
import { supervise, type SupervisedExit } from "../process/supervise.js";
import type { EngineDeps } from "./deps.js";
import type { JournalWriter } from "./event-writer.js";
import { RedactedStdout } from "./agent-stdout.js";
import { interruptDetail } from "../core/interrupt.js";
import { escapedNote } from "./leftovers.js";

/**
 * An agent that reports the same failure this many times in one attempt is looping on it (OpenCode retries a
 * context overflow forever, printing as it goes, so no stall timer fires): the attempt is stopped and
 * classified from that failure instead of running into its timeout.
 */
export const REPEATED_FAILURE_LIMIT = 3;

export interface AttemptSpec {
  runId: string;
  taskId: string;
  attemptId: string;
  number: number;
  /** The attempt's place in the task's chain of agents and models, journaled with its start. */
  link?: number | undefined;
  /** Said in the journal with the attempt's start (why it runs on another model). */
  note?: string | undefined;
  /** A reviewer's attempt, reviewing this commit (the task's implementer otherwise). */
  reviews?: string | undefined;
  adapter: AgentAdapter;
  permission: Permission;
  grantedTools: readonly string[];
  model: string | undefined;
  prompt: string;
  resumeSessionId: string | undefined;
  worktree: string;
  transcript: string;
  stallTimeoutMs: number;
  timeoutMs: number;
  /** The agent's process tree is stopped (as crashed) above this RSS; undefined: no cap. */
  maxRssBytes?: number | undefined;
  /** The transcript rotates past this size and keeps this many compressed parts (RotatingLog's defaults). */
  transcriptMaxBytes?: number | undefined;
  transcriptKeep?: number | undefined;
  /** Money and tokens this attempt may still spend before it is stopped. */
  budgetUsdLeft: number | undefined;
  budgetTokensLeft: number | undefined;
  /** Aborting this stops the agent now (abort, Ctrl-C, run time limit). */
  signal: AbortSignal;
  onEvent?: (event: AgentEvent) => void;
}

export interface AttemptResult {
  exit: SupervisedExit;
  /** Undefined: the agent finished its turn cleanly; verification decides. */
  failure: Failure | undefined;
  sessionId: string | undefined;
  model: string | undefined;
  usage: TokenUsage | undefined;
  costUsd: number | undefined;
  finalText: string | undefined;
  /** One line per tool call, for the handoff. */
  actions: string[];
  /** Tools the CLI refused the agent in this attempt, where it says which. */
  deniedTools: string[];
  /** Stopped by the caller's signal (not by a timer or the budget). */
  interrupted: boolean;
}

export async function runAttempt(deps: EngineDeps, writer: JournalWriter, spec: AttemptSpec): Promise<AttemptResult> {
  const ids = { runId: spec.runId, taskId: spec.taskId, attemptId: spec.attemptId };
  const log = deps.logger.child(ids);
  // A note that goes with the start (a switch of model) is written with it: a crash leaves both or neither.
  const note = spec.note === undefined ? [] : [{ type: "run.noted" as const, runId: spec.runId, taskId: spec.taskId, data: { message: spec.note } }];
  await writer.write(...note, {
    type: "attempt.started",
    ...ids,
    data: {
      number: spec.number,
      ...(spec.link !== undefined ? { link: spec.link } : {}),
      agent: spec.adapter.name,
      ...(spec.model !== undefined ? { model: spec.model } : {}),
      transcript: spec.transcript,
      ...(spec.resumeSessionId !== undefined ? { resumedSession: spec.resumeSessionId } : {}),
      ...(spec.reviews !== undefined ? { role: "reviewer" as const, reviews: spec.reviews } : {}),
    },
  });

  // The prompt goes to a model provider: the handoff in it quotes agent and verify output.
  const prompt = deps.redactor.redact(spec.prompt);
  const invocation: AgentInvocation = {
    prompt,
    promptFile: await writePromptFile(promptPathOf(spec.transcript), prompt, (error) =>
      log.warn("prompt file cannot be written", { file: promptPathOf(spec.transcript), error: error.message }),
    ),
    cwd: spec.worktree,
    model: spec.model,
    resumeSessionId: spec.resumeSessionId,
    runId: spec.runId,
    taskId: spec.taskId,
    attempt: spec.number,
    env: deps.env,
    permission: spec.permission,
    grantedTools: spec.grantedTools,
  };
  const command = spec.adapter.build(invocation);
  const parser = spec.adapter.createParser(invocation);
  // A transcript that cannot be written (its folder cannot be made, the disk is full) does not stop the attempt:
  // the agent's events still reach the journal, and the loss is journaled once as a warning `orch status` shows.
  const transcript = new RotatingLog(spec.transcript, {
    maxBytes: spec.transcriptMaxBytes,
    keep: spec.transcriptKeep,
    onWriteError: (error) => {
      log.warn("transcript cannot be written", { file: spec.transcript, error: error.message });
      const message = `attempt ${spec.number}: its transcript ${spec.transcript} cannot be written (${error.message}); the agent's raw output from here on is lost, its events are still journaled`;
      writer.push({ type: "run.noted", ...ids, data: { message, level: "warning" } });
    },
  });

  // The attempt stops on the caller's signal or on its own budget, whichever comes first.
  const local = new AbortController();
  let overBudget: string | undefined;
  let looping: Extract<AgentEvent, { type: "result" }> | undefined;
  const failures = new Map<string, number>();
  const onOuterAbort = () => local.abort();
  spec.signal.addEventListener("abort", onOuterAbort, { once: true });
  if (spec.signal.aborted) local.abort();

  let sessionId = spec.resumeSessionId;
  let model = spec.model;
  let usage: TokenUsage | undefined;
  let costUsd: number | undefined;
  let result: Extract<AgentEvent, { type: "result" }> | undefined;
  let lastText: string | undefined;
  const retries: Extract<AgentEvent, { type: "retry" }>[] = [];
  const actions: string[] = [];

  const checkBudget = () => {
    if (overBudget !== undefined) return;
    if (spec.budgetUsdLeft !== undefined && costUsd !== undefined && costUsd > spec.budgetUsdLeft) {
      overBudget = `spent $${costUsd.toFixed(2)} in this attempt, over the $${spec.budgetUsdLeft.toFixed(2)} left in the budget`;
    }
    const tokens = usage === undefined ? 0 : usage.inputTokens + usage.outputTokens;
    if (spec.budgetTokensLeft !== undefined && tokens > spec.budgetTokensLeft) {
      overBudget = `used ${tokens} tokens in this attempt, over the ${spec.budgetTokensLeft} left in the budget`;
    }
    if (overBudget !== undefined) local.abort();
  };

  const onLine = (line: string): void => {
    for (const event of parser.parseLine(line)) {
      switch (event.type) {
        case "session.started":
          sessionId = event.sessionId;
          model = event.model ?? model;
          break;
        case "usage":
          usage = event.usage;
          costUsd = event.costUsd ?? costUsd;
          checkBudget();
          break;
        case "result":
          result = event;
          if (!event.ok && looping === undefined) {
            const key = event.reason ?? event.text ?? "error";
            const seen = (failures.get(key) ?? 0) + 1;
            failures.set(key, seen);
            if (seen >= REPEATED_FAILURE_LIMIT) {
              looping = event;
              local.abort();
            }
          }
          sessionId = event.sessionId ?? sessionId;
          usage = event.usage ?? usage;
          costUsd = event.costUsd ?? costUsd;
          checkBudget();
          break;
        case "retry":
          retries.push(event);
          break;
        case "tool.called":
          actions.push(`${event.name} ${event.summary}`.trim());
          break;
        case "text":
          lastText = event.text;
          break;
        default:
          break;
      }
      writer.push({ type: "agent.emitted", ...ids, data: event });
      spec.onEvent?.(event);
    }
  };
  // The journal keeps as much of the output as the transcript does (its live file and kept parts): each time the
  // transcript passes another part's size, the attempt's output older than that in the journal goes, once what is
  // buffered is written. A writer that failed (a lost lease) fails the flush, and nothing is dropped.
  const partBytes = spec.transcriptMaxBytes ?? DEFAULT_LOG_MAX_BYTES;
  const keptChars = partBytes * ((spec.transcriptKeep ?? DEFAULT_LOG_KEEP) + 1);
  let printed = 0;
  let nextPart = partBytes;
  const dropOldOutput = () =>
    writer
      .flush()
      .then(() => deps.store.dropOutput(spec.attemptId, keptChars))
      .catch((error: unknown) => log.warn("old output could not leave the journal", { error: String(error) }));
  const toTranscript = (bytes: Buffer) => {
    transcript.write(bytes);
    printed += bytes.length;
    if (printed < nextPart) return;
    nextPart = (Math.floor(printed / partBytes) + 1) * partBytes;
    if (printed > keptChars) void dropOldOutput();
  };
  // Its output is redacted before the transcript or the parser sees a byte of it.
  const stdout = new RedactedStdout(deps.redactor, toTranscript, onLine);

  const exit = await supervise({
    file: command.file,
    args: command.args,
    cwd: spec.worktree,
    env: command.env,
    ...(command.stdin !== undefined ? { stdin: command.stdin } : {}),
    stallTimeoutMs: spec.stallTimeoutMs,
    timeoutMs: spec.timeoutMs,
    signal: local.signal,
    groups: deps.groups,
    maxRssBytes: spec.maxRssBytes,
    onStdout: (chunk) => stdout.push(chunk),
    stdoutBackpressure: () => transcript.waitForRoom(),
    onSpawn: (pid) => {
      log.info("agent started", { pid, agent: spec.adapter.name });
      // Written at once, not batched: a supervisor that dies now leaves a journal that names its agent.
      const startTime = processStartTime(pid);
      writer.push({ type: "attempt.spawned", ...ids, data: { pid, ...(startTime !== undefined ? { startTime } : {}) } });
      writer.flush().catch((error: unknown) => log.warn("could not journal the agent's start", { error: String(error) }));
    },
    // No onLine: the lines come from the redacted stream above.
  });
  stdout.end();
  if (exit.escaped.length > 0) {
    writer.push({ type: "run.noted", ...ids, data: { message: escapedNote(`attempt ${spec.number}'s agent`, exit.escaped), level: "warning" } });
  }
  spec.signal.removeEventListener("abort", onOuterAbort);
  await transcript.end();
  if (transcript.error !== undefined) log.warn("transcript incomplete", { file: spec.transcript, error: transcript.error.message, droppedBytes: transcript.droppedBytes });

  const interrupted = exit.reason === "aborted" && overBudget === undefined && looping === undefined;
  // Redacted before it is read for a failure's detail (journaled, shown, handed to the next attempt).
  const stderrTail = deps.redactor.redact(exit.stderrTail);
  const agentExit: AgentExit = { exitCode: exit.exitCode, signal: exit.signal, stderrTail, result, retries, endedAt: deps.now() };
  const failure =
    looping !== undefined && exit.reason === "aborted"
      ? repeatedFailure(spec, looping, { ...agentExit, exitCode: null, signal: null, result: looping })
      : classify(spec, command.file, exit, overBudget, agentExit);
  const finalText = result?.text ?? lastText;
  await writer.write({
    type: "attempt.exited",
    ...ids,
    data: {
      exitCode: exit.exitCode,
      signal: exit.signal,
      reason: overBudget !== undefined ? "budget" : looping !== undefined && exit.reason === "aborted" ? "repeated_failure" : exit.reason,
      durationMs: Math.round(exit.durationMs),
      ...(sessionId !== undefined ? { sessionId } : {}),
      ...(model !== undefined ? { model } : {}),
      ...(usage !== undefined ? { usage } : {}),
      ...(costUsd !== undefined ? { costUsd } : {}),
      ...(failure !== undefined ? { failure } : {}),
      ...(stderrTail !== "" ? { stderrTail: stderrTail.slice(-4_000) } : {}),
      ...(exit.peakRssBytes > 0 ? { peakRssBytes: exit.peakRssBytes } : {}),
      ...(retries.length > 0 ? { apiRetries: retries.length, apiRetryWaitMs: Math.round(retries.reduce((sum, r) => sum + (r.delayMs ?? 0), 0)) } : {}),
    },
  });
  log.info("agent exited", { reason: exit.reason, exitCode: exit.exitCode, failure: failure?.kind });
  return { exit, failure, sessionId, model, usage, costUsd, finalText, actions, deniedTools: result?.deniedTools ?? [], interrupted };
}

/** Beside the attempt's transcript: `<attempt>.prompt.md` for `<attempt>.jsonl`. */
export function promptPathOf(transcript: string): string {
  return `${transcript.replace(/\.jsonl$/, "")}.prompt.md`;
}

/**
 * Writes the prompt to `file`, readable by its owner alone, and returns the path; undefined when it cannot be
 * written (the agent still gets the prompt on stdin).
 */
export async function writePromptFile(file: string, prompt: string, onError: (error: Error) => void): Promise<string | undefined> {
  try {
    await mkdir(dirname(file), { recursive: true, mode: 0o700 });
    await writeFile(file, prompt, { mode: 0o600 });
    // An earlier file of that name keeps its mode through writeFile.
    await chmod(file, 0o600);
    return file;
  } catch (error) {
    onError(toError(error));
    return undefined;
  }
}

/** The adapter's reading of the failure it kept reporting, said to have repeated. */
function repeatedFailure(spec: AttemptSpec, looping: Extract<AgentEvent, { type: "result" }>, exit: AgentExit): Failure {
  const failure = spec.adapter.classify(exit) ?? { kind: "crashed", detail: looping.text ?? looping.reason ?? "the agent kept failing" };
  return { ...failure, detail: `${failure.detail} (reported ${REPEATED_FAILURE_LIMIT} times in one attempt; the agent was stopped)` };
}

function classify(spec: AttemptSpec, file: string, exit: SupervisedExit, overBudget: string | undefined, agentExit: AgentExit): Failure | undefined {
  switch (exit.reason) {
    case "spawn_failed":
      // A missing executable or worktree ends the task at once (cannot_start); anything else may pass.
      return (
        spawnFailure(spec.adapter.name, file, existsSync(spec.worktree), errorCode(exit.error)) ?? {
          kind: "crashed",
          detail: `could not start the ${spec.adapter.name} agent: ${exit.error?.message ?? "unknown error"}`,
        }
      );
    case "hung":
      return { kind: "hung", detail: `no output for ${formatDuration(spec.stallTimeoutMs)}; the agent was stopped` };
    case "timeout":
      return { kind: "timeout", detail: `the attempt ran past its ${formatDuration(spec.timeoutMs)} limit and was stopped` };
    case "memory":
      return { kind: "crashed", detail: memoryDetail(exit.peakRssBytes, spec.maxRssBytes ?? 0) };
    case "aborted":
      if (overBudget !== undefined) return { kind: "budget_exceeded", detail: overBudget };
      return { kind: "crashed", detail: interruptDetail(spec.signal.reason) };
    case "exited":
      return spec.adapter.classify(agentExit);
  }
}

/** "its process tree used 2.3 GB, over the 2 GB cap; …", with a second decimal where one would read as equal. */
function memoryDetail(used: number, cap: number): string {
  const decimals = formatSize(used) === formatSize(cap) ? 2 : 1;
  return `its process tree used ${formatSize(used, decimals)}, over the ${formatSize(cap, decimals)} cap; the agent was stopped`;
}

/** The system's error code (ENOENT, EACCES…) of a failed spawn. */
function errorCode(error: Error | undefined): string | undefined {
  const code = error !== undefined && "code" in error ? error.code : undefined;
  return typeof code === "string" ? code : undefined;
}
