// What the adapters' unit tests share: their recorded streams (read, replayed through a parser), the exit the
// attempt runner hands classify(), and the invocation build() is given. Fixtures are read, never written.
import { readdirSync, readFileSync } from "node:fs";
import { expect } from "vitest";
import type { AgentExit, AgentInvocation, AgentParser } from "../../src/agents/agent.js";
import { AgentEvent } from "../../src/core/agent-event.js";

export type ResultEvent = Extract<AgentEvent, { type: "result" }>;
export type RetryEvent = Extract<AgentEvent, { type: "retry" }>;

export interface Fixtures {
  /** One recording split at newlines, blank lines included (parsers skip them). */
  lines(name: string): string[];
  /** One recording fed line by line through `parser`. */
  replay(name: string, parser: AgentParser): AgentEvent[];
  /** Every non-blank line of every recording: the real inputs the property tests start from. */
  allLines(): string[];
}

/** The recordings (`*.jsonl`) in `dir`, e.g. `new URL("./fixtures/", import.meta.url)`. */
export function fixturesIn(dir: URL): Fixtures {
  const lines = (name: string): string[] => readFileSync(new URL(name, dir), "utf8").split("\n");
  return {
    lines,
    replay: (name, parser) => lines(name).flatMap((line) => parser.parseLine(line)),
    allLines: () =>
      readdirSync(dir)
        .filter((name) => name.endsWith(".jsonl"))
        .flatMap((name) => lines(name))
        .filter((line) => line.trim() !== ""),
  };
}

/** Feeds `lines` through one parser; anything but a string is sent as its JSON. */
export function parseLines(parser: AgentParser, lines: readonly unknown[]): AgentEvent[] {
  return lines.flatMap((line) => parser.parseLine(typeof line === "string" ? line : JSON.stringify(line)));
}

/** Fails the test unless every event passes the AgentEvent schema. */
export function expectValidEvents(events: readonly AgentEvent[]): void {
  for (const event of events) expect(AgentEvent.safeParse(event).success).toBe(true);
}

export function lastResult(events: readonly AgentEvent[]): ResultEvent | undefined {
  return events.filter((event): event is ResultEvent => event.type === "result").at(-1);
}

export function retriesIn(events: readonly AgentEvent[]): RetryEvent[] {
  return events.filter((event): event is RetryEvent => event.type === "retry");
}

/** When every exit the classify tests build ended; reset times are asserted relative to it. */
export const NOW = Date.UTC(2026, 10, 21, 6, 0, 0);

/** An exit with code 1, no signal, no stderr, no result and no retries, ended at NOW; `over` changes any of it. */
export function agentExit(over: Partial<AgentExit> = {}): AgentExit {
  return { exitCode: 1, signal: null, stderrTail: "", result: undefined, retries: [], endedAt: NOW, ...over };
}

/** The exit the attempt runner hands classify() after `events`: their last result and every retry. */
export function exitAfter(events: readonly AgentEvent[], over: Partial<AgentExit> = {}): AgentExit {
  return agentExit({ result: lastResult(events), retries: retriesIn(events), ...over });
}

/** The environment a user's shell hands the adapters in the build() tests. */
export const USER_ENV: Readonly<Record<string, string>> = { PATH: "/usr/bin", HOME: "/home/me" };

/** The variables every adapter adds to an invocation's environment, for `testInvocation()`'s ids. */
export const ORCH_IDS: Readonly<Record<string, string>> = { ORCH_RUN_ID: "r1", ORCH_TASK_ID: "fix-tests", ORCH_ATTEMPT: "2" };

/** Attempt 2 of task fix-tests in run r1, writing in its worktree; `over` changes any of it. */
export function testInvocation(over: Partial<AgentInvocation> = {}): AgentInvocation {
  return {
    prompt: "Fix the failing tests in src/",
    cwd: "/repo/.orch/worktrees/r1/t1",
    runId: "r1",
    taskId: "fix-tests",
    attempt: 2,
    permission: "workspace-write",
    env: { ...USER_ENV },
    ...over,
  };
}
