// How an agent's own output reads as lines, the same in `orch logs` and in a foreground run's output off a
// terminal: a mark for its kind, long text cut to its first lines (the transcript file keeps the rest), and the
// lines after the first indented under the first. Which task and attempt spoke is the caller's label.
import { describeAgentEvent, type AgentEvent } from "../core/agent-event.js";

/** The attempt's label: `#2` in a run of one task, `api#2` when several tasks may speak at once. */
export function attemptLabel(taskId: string | undefined, attemptId: string | undefined, withTask: boolean): string {
  const number = attemptId === undefined ? "" : `#${attemptId.slice(attemptId.lastIndexOf(".") + 1)}`;
  return withTask && taskId !== undefined ? `${taskId}${number}` : number;
}

/** An agent event as text after `prefix` (what comes before it on its first line); undefined for usage figures. */
export function agentLine(prefix: string, event: AgentEvent): string | undefined {
  if (event.type === "usage") return undefined;
  const text = shorten(describeAgentEvent(event), event.type === "text" ? 40 : 8);
  const head = `${prefix}${agentMark(event.type)} `;
  return `${head}${text.replace(/\n/g, `\n${" ".repeat(head.length)}`)}`;
}

/** Keeps the first `maxLines` lines of a long tool output; the transcript file has the rest. */
function shorten(text: string, maxLines: number): string {
  const lines = text.replace(/\s+$/, "").split("\n");
  if (lines.length <= maxLines) return lines.join("\n");
  return [...lines.slice(0, maxLines), `… ${lines.length - maxLines} more lines`].join("\n");
}

function agentMark(type: AgentEvent["type"]): string {
  switch (type) {
    case "tool.called":
      return "→";
    case "tool.returned":
      return "←";
    case "text":
      return "»";
    default:
      return "·";
  }
}
