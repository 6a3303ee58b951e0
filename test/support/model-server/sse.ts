// Server-sent events as the scripted model server writes them for every protocol: frames, split deltas, a
// whole event stream in one write, and the "malformed" fault (a good start, a cut-off frame, garbage, the end).
import type { ServerResponse } from "node:http";

/** A frame named after its payload's `type` (`event: …` then `data: …`), as Anthropic and OpenAI Responses send. */
export function namedSseFrame(data: { type: string } & Record<string, unknown>): string {
  return `event: ${data.type}\ndata: ${JSON.stringify(data)}\n\n`;
}

/** A `data:`-only frame (Chat Completions, Gemini); Google ends its lines with CRLF. */
export function sseFrame(data: unknown, eol = "\n"): string {
  return `data: ${JSON.stringify(data)}${eol}${eol}`;
}

/** Splits a string into at most `parts` non-empty chunks, so clients must reassemble deltas. */
export function chunks(text: string, parts = 2): string[] {
  if (text.length < parts) return [text];
  const size = Math.ceil(text.length / parts);
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out;
}

/** A 200 event stream holding `frames`, written at once. */
export function writeEventStream(res: ServerResponse, frames: readonly string[], headers: Record<string, string> = {}): void {
  res.writeHead(200, { ...headers, "content-type": "text/event-stream", "cache-control": "no-cache" });
  res.end(frames.join(""));
}

export interface MalformedStream {
  /** A complete, valid first frame. */
  first: string;
  /** The start of the next frame, cut off mid-JSON (without its blank line). */
  cutOff: string;
  eol?: string;
  headers?: Record<string, string>;
}

/** The "malformed" fault: a valid start, a frame cut off mid-JSON and a garbage line; then the body ends. */
export function writeMalformedStream(res: ServerResponse, stream: MalformedStream): void {
  const eol = stream.eol ?? "\n";
  res.writeHead(200, { "content-type": "text/event-stream", ...stream.headers });
  res.end(`${stream.first}${stream.cutOff}${eol}${eol}data: \u0000garbage{{{${eol}${eol}`);
}
