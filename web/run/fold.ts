// What the run page learns from the journal's events beyond the status view: the run's criteria and the latest
// verdict on each, and each attempt's last output (for the agent slots' "what it does now" and its age). Folded
// from history pages and then from the live stream, one event at a time.
import type { JournalEvent } from "../api/schemas.js";
import { isRecord } from "../transcript/format.js";

export interface CriterionState {
  command: string;
  passed: boolean | null;
  taskId: string | null;
  detail: string;
  at: number | null;
}

/** An attempt's last agent event; its text is made when it is shown, not for every event that passes. */
export interface LastOutput {
  at: number;
  data: Record<string, unknown>;
}

export interface RunFacts {
  criteria: Map<string, CriterionState>;
  lastOutput: Map<string, LastOutput>;
  version: number;
}

export const newFacts = (): RunFacts => ({ criteria: new Map(), lastOutput: new Map(), version: 0 });

export function atMs(at: number | string): number {
  return typeof at === "number" ? at : Date.parse(at);
}

export function foldFacts(facts: RunFacts, event: JournalEvent): void {
  const { data } = event;
  switch (event.type) {
    case "run.created": {
      const criteria = Array.isArray(data["criteria"]) ? data["criteria"] : [];
      for (const c of criteria) {
        if (typeof c === "string" && !facts.criteria.has(c)) facts.criteria.set(c, { command: c, passed: null, taskId: null, detail: "not run yet", at: null });
      }
      break;
    }
    case "verify.completed": {
      const results = Array.isArray(data["criteria"]) ? data["criteria"] : [];
      for (const r of results) {
        if (!isRecord(r) || typeof r["command"] !== "string") continue;
        const tests = isRecord(r["tests"]) ? r["tests"] : null;
        const detail = [
          r["passed"] === true ? "passed" : r["timedOut"] === true ? "timed out" : `failed${typeof r["exitCode"] === "number" ? ` (exit ${r["exitCode"]})` : ""}`,
          tests !== null ? `${String(tests["passed"])}/${String(tests["total"])} tests` : "",
          typeof r["durationMs"] === "number" ? `${(r["durationMs"] / 1000).toFixed(1)} s` : "",
        ]
          .filter((p) => p !== "")
          .join(", ");
        facts.criteria.set(r["command"], { command: r["command"], passed: r["passed"] === true, taskId: event.taskId ?? null, detail, at: atMs(event.at) });
      }
      break;
    }
    case "agent.emitted":
      if (event.attemptId !== null) facts.lastOutput.set(event.attemptId, { at: atMs(event.at), data });
      // Output changes nothing else the page shows from the fold.
      return;
    default:
      return;
  }
  facts.version += 1;
}
