// A scoped structured logger: JSON lines carrying runId/taskId/attemptId, written to a file under .orch/
// (or anywhere the caller points it). Nothing outside cli/ prints to the terminal.
import { appendFileSync, mkdirSync } from "node:fs";
import { dirname } from "node:path";

export type LogLevel = "debug" | "info" | "warn" | "error";
export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  child(scope: LogFields): Logger;
}

export function fileLogger(path: string, scope: LogFields = {}, minLevel: LogLevel = "info"): Logger {
  mkdirSync(dirname(path), { recursive: true });
  const order: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };
  const write = (level: LogLevel, message: string, fields: LogFields = {}) => {
    if (order[level] < order[minLevel]) return;
    try {
      appendFileSync(path, `${JSON.stringify({ time: new Date().toISOString(), level, message, ...scope, ...fields })}\n`);
    } catch {
      // Logging must never take the run down; the journal is the record that matters.
    }
  };
  return {
    debug: (m, f) => write("debug", m, f),
    info: (m, f) => write("info", m, f),
    warn: (m, f) => write("warn", m, f),
    error: (m, f) => write("error", m, f),
    child: (more) => fileLogger(path, { ...scope, ...more }, minLevel),
  };
}

export const silentLogger: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  child: () => silentLogger,
};
