// The CLI's only way to the terminal: results on stdout, progress and errors on stderr. Keeping it in one
// place lets tests capture it and keeps `--json` output free of anything else. A stream whose reader has gone
// (`orch run … | head -1`: EPIPE; a closed terminal: EIO) is closed for good, quietly: output stops, the
// command goes on, and no write error can ever end a run. Text passes `escapeControls` on its way out: agent
// output quoted by a command never steers the terminal (JSON, whose strings hold controls only as escapes
// already, is unchanged by it).
import type { Writable } from "node:stream";
import { escapeControls } from "../core/terminal-text.js";

export interface Output {
  out(text: string): void;
  err(text: string): void;
  json(value: unknown): void;
  readonly errIsTTY: boolean;
  readonly columns: number;
}

/** What the CLI needs of process.stdout and process.stderr. */
export interface TerminalStreams {
  stdout: Writable;
  stderr: Writable & { isTTY?: boolean; columns?: number };
  /** Called once, when stdout's reader has gone; the default is to go on without printing. */
  onStdoutClosed?: () => void;
}

export function terminalOutput(streams: TerminalStreams): Output {
  const out = guardedWriter(streams.stdout, streams.onStdoutClosed);
  const err = guardedWriter(streams.stderr);
  const line = (text: string) => escapeControls(text.endsWith("\n") ? text : `${text}\n`);
  return {
    out: (text) => out(line(text)),
    err: (text) => err(line(text)),
    json: (value) => out(escapeControls(`${JSON.stringify(value, null, 2)}\n`)),
    get errIsTTY() {
      return streams.stderr.isTTY === true;
    },
    get columns() {
      return streams.stderr.columns ?? 100;
    },
  };
}

/**
 * Writes to `stream` until its first error, then never again. Any error counts: a write error on our own
 * stdout or stderr means the reader or the terminal is gone, and nothing written later would arrive either.
 */
function guardedWriter(stream: Writable, onClosed?: () => void): (text: string) => void {
  let open = true;
  const close = () => {
    if (!open) return;
    open = false;
    onClosed?.();
  };
  // Without a listener, the stream's 'error' (EPIPE comes as an event, a tick after the write) would be thrown
  // as an uncaught exception and end the process mid-run.
  stream.on("error", close);
  return (text) => {
    if (!open || stream.destroyed) return;
    try {
      stream.write(text);
    } catch {
      close();
    }
  };
}
