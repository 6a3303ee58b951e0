// Journal events as transcript rows: one row per event, a kind for its colour and a single line of text. Agent
// text is hostile: control characters and terminal escapes become visible symbols (␛[31m), never effects, and the
// text only ever reaches the page as text nodes. Long tool results are collapsed to their first line and a count.

export const KIND = {
  text: 0,
  toolCall: 1,
  toolOk: 2,
  toolError: 3,
  session: 4,
  meta: 5,
  resultOk: 6,
  resultFailed: 7,
  lifecycle: 8,
  unknown: 9,
  warning: 10,
} as const;
export type Kind = (typeof KIND)[keyof typeof KIND];

export const KIND_CLASS: Record<number, string> = {
  0: "k-text",
  1: "k-call",
  2: "k-ok",
  3: "k-error",
  4: "k-meta",
  5: "k-meta",
  6: "k-ok",
  7: "k-error",
  8: "k-life",
  9: "k-unknown",
  10: "k-warn",
};

/** Control characters (C0 but tab and newline, DEL, C1) as their visible symbols; ESC as ␛. */
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;

export function visible(text: string): string {
  if (!CONTROL.test(text)) return text;
  return text.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, (c) => {
    const code = c.charCodeAt(0);
    if (code < 0x20) return String.fromCharCode(0x2400 + code);
    if (code === 0x7f) return "␡";
    return "�";
  });
}

/** One line for a row: visible control characters, tabs as spaces, newlines as ⏎. */
export function oneLine(text: string): string {
  const shown = visible(text);
  return shown.includes("\t") || shown.includes("\n") ? shown.replace(/\t/g, "  ").replace(/\r?\n/g, " ⏎ ") : shown;
}

export interface Row {
  kind: Kind;
  text: string;
}

/** A collapsed long output: its first line and how much more there is. */
export function collapse(output: string): string {
  const trimmed = output.replace(/\s+$/, "");
  const nl = trimmed.indexOf("\n");
  if (nl < 0) return oneLine(trimmed);
  const more = trimmed.slice(nl + 1).split("\n").length;
  return `${oneLine(trimmed.slice(0, nl))}  [+${more} line${more === 1 ? "" : "s"}, ${trimmed.length} chars — open the row]`;
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function str(v: unknown): string {
  return typeof v === "string" ? v : "";
}
function num(v: unknown): number | undefined {
  return typeof v === "number" && Number.isFinite(v) ? v : undefined;
}

/** The row of an agent's normalised event (`agent.emitted` data), read defensively: it crossed the network. */
export function agentRow(data: Record<string, unknown>): Row {
  switch (data["type"]) {
    case "text":
      return { kind: KIND.text, text: oneLine(str(data["text"])) };
    case "tool.called":
      return { kind: KIND.toolCall, text: oneLine(`▶ ${str(data["name"])} ${str(data["summary"])}`) };
    case "tool.returned": {
      const exit = num(data["exitCode"]);
      const head = `${data["isError"] === true ? "✗ error" : "✓ ok"}${exit !== undefined ? ` (exit ${exit})` : ""}: `;
      return { kind: data["isError"] === true ? KIND.toolError : KIND.toolOk, text: head + collapse(str(data["output"])) };
    }
    case "session.started":
      return { kind: KIND.session, text: oneLine(`session ${str(data["sessionId"])}${str(data["model"]) ? ` (${str(data["model"])})` : ""}`) };
    case "usage": {
      const usage = isRecord(data["usage"]) ? data["usage"] : {};
      const cost = num(data["costUsd"]);
      return { kind: KIND.meta, text: `tokens in ${num(usage["inputTokens"]) ?? 0} out ${num(usage["outputTokens"]) ?? 0}${cost !== undefined ? ` $${cost.toFixed(4)}` : ""}` };
    }
    case "retry":
      return { kind: KIND.warning, text: oneLine(`API retry ${num(data["attempt"]) ?? "?"}${num(data["httpStatus"]) !== undefined ? ` after HTTP ${num(data["httpStatus"])}` : ""}${str(data["error"]) ? `: ${str(data["error"])}` : ""}`) };
    case "model.fallback":
      return { kind: KIND.warning, text: oneLine(`model ${str(data["from"])} → ${str(data["to"])}${str(data["reason"]) ? ` (${str(data["reason"])})` : ""}`) };
    case "result":
      return {
        kind: data["ok"] === true ? KIND.resultOk : KIND.resultFailed,
        text: oneLine(`${data["ok"] === true ? "finished" : "failed"}${str(data["reason"]) ? ` [${str(data["reason"])}]` : ""}${str(data["text"]) ? `: ${str(data["text"])}` : ""}`),
      };
    default:
      return { kind: KIND.unknown, text: oneLine(str(data["raw"]) || JSON.stringify(data)) };
  }
}

/** The row of a journal event, or null for events the transcript does not show. */
export function eventRow(type: string, data: Record<string, unknown>): Row | null {
  switch (type) {
    case "agent.emitted":
      return agentRow(data);
    case "attempt.started":
      return { kind: KIND.lifecycle, text: oneLine(`── attempt ${num(data["number"]) ?? "?"} started: ${str(data["agent"])}${str(data["model"]) ? ` ${str(data["model"])}` : ""}${data["role"] === "reviewer" ? " (reviewer)" : ""}`) };
    case "attempt.exited": {
      const failure = isRecord(data["failure"]) ? data["failure"] : undefined;
      return {
        kind: failure === undefined ? KIND.lifecycle : KIND.warning,
        text: oneLine(`── agent exited (${str(data["reason"])}${num(data["exitCode"]) !== undefined ? `, code ${num(data["exitCode"])}` : ""})${failure !== undefined ? `: ${str(failure["kind"])} — ${str(failure["detail"])}` : ""}`),
      };
    }
    case "verify.completed": {
      const criteria: unknown[] = Array.isArray(data["criteria"]) ? data["criteria"] : [];
      const passed = criteria.filter((c) => isRecord(c) && c["passed"] === true).length;
      return { kind: passed === criteria.length ? KIND.resultOk : KIND.resultFailed, text: `── verify: ${passed}/${criteria.length} criteria met` };
    }
    case "attempt.finished":
      return { kind: data["outcome"] === "succeeded" ? KIND.resultOk : KIND.resultFailed, text: oneLine(`── attempt ${str(data["outcome"])}${str(data["commit"]) ? ` (commit ${str(data["commit"]).slice(0, 10)})` : ""}`) };
    case "run.paused":
    case "run.resumed":
    case "run.stop-requested":
    case "run.finished":
    case "task.finished":
    case "task.waited":
    case "run.noted":
      return { kind: KIND.lifecycle, text: oneLine(`── ${type}${str(data["reason"]) ? `: ${str(data["reason"])}` : str(data["mode"]) ? `: ${str(data["mode"])}` : str(data["message"]) ? `: ${str(data["message"])}` : ""}`) };
    default:
      return null;
  }
}

/** The full text of an event for its detail view (newlines kept, control characters visible). */
export function eventDetail(type: string, data: Record<string, unknown>): string {
  if (type === "agent.emitted") {
    switch (data["type"]) {
      case "text":
        return visible(str(data["text"]));
      case "tool.called":
        return visible(`${str(data["name"])} ${str(data["summary"])}\n\n${data["input"] === undefined ? "" : JSON.stringify(data["input"], null, 2)}`);
      case "tool.returned":
        return visible(str(data["output"]));
      case "unknown":
        return visible(str(data["raw"]));
      default:
        break;
    }
  }
  return visible(JSON.stringify(data, null, 2));
}
