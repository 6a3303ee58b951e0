// The vendor-neutral script a scripted model server plays: an ordered list of replies and faults, the cursor
// that consumes them one model request at a time, and the port each wire protocol (Anthropic, …) implements.
import type { IncomingHttpHeaders, ServerResponse } from "node:http";

export interface ToolCall {
  name: string;
  input: Record<string, unknown>;
}

export interface Usage {
  input_tokens: number;
  output_tokens: number;
}

/** Text first, then zero or more tool calls; the stop reason is "tool use" exactly when there are tools. */
export interface ReplyTurn {
  text?: string;
  tools?: ToolCall[];
  usage?: Usage;
  /** A substring the request's last user message (prompt text or tool result) must contain. */
  match?: string;
  /** The model the request must ask for (a fault or reply for one model only, say, to test a fallback). */
  model?: string;
}

interface FaultCommon {
  /** The same fault answers this many consecutive requests (default 1). */
  repeat?: number;
  match?: string;
  model?: string;
}

export type FaultTurn = FaultCommon &
  (
    | { fault: "rate_limit"; retryAfterSeconds?: number }
    /** `retryAfterSeconds`: a retry-after header, as servers may send with a 503 too. */
    | { fault: "overloaded"; retryAfterSeconds?: number }
    | { fault: "server_error"; status?: number; retryAfterSeconds?: number }
    | { fault: "unauthorized" }
    | { fault: "context_too_long" }
    /** Reads the request, then never answers until the server closes. */
    | { fault: "hang" }
    /** Sends the headers of a successful answer (an event stream when the request streams), then nothing more
     * until the server closes: a stream that stalls after the headers. */
    | { fault: "stall" }
    /** A 200 event stream that sends a truncated event and then closes. */
    | { fault: "malformed" }
  );

export type Fault = FaultTurn["fault"];
/** The faults a protocol writes; "hang" and "stall" the server handles alike for every protocol. */
export type ProtocolFault = Exclude<FaultTurn, { fault: "hang" | "stall" }>;
export type Turn = ReplyTurn | FaultTurn;
export type Script = readonly Turn[];

export function isFault(turn: Turn): turn is FaultTurn {
  return "fault" in turn;
}

/** A turn calling `tools`, after `text` when there is any. */
export function toolTurn(tools: ToolCall[], text?: string): ReplyTurn {
  return text === undefined ? { tools } : { text, tools };
}

export const DEFAULT_USAGE: Usage = { input_tokens: 120, output_tokens: 24 };

/** What a protocol module learns from one request, before any turn is consumed. */
export type RouteDecision =
  /** A model call: consume the next turn and answer it. */
  | { kind: "turn"; streaming: boolean; lastUserText: string; model: string | undefined }
  /** Answered without touching the script (e.g. token counting). Unclaimed requests get a 404. */
  | { kind: "fixed"; status: number; body: unknown; label: string }
  /** Answered without touching the script by the protocol itself, for side requests that must be answered in
   * the protocol's own format (e.g. a streamed title-generation request). Recorded as outcome "fixed". */
  | { kind: "side"; label: string; respond(res: ServerResponse): void };

export interface IncomingModelRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  /** The parsed JSON body, or undefined when the body was empty or not JSON. */
  body: unknown;
}

export interface ReplyContext {
  streaming: boolean;
  model: string | undefined;
  /** Index of the answering turn in the script (for ids or messages that name the turn). */
  turnIndex: number;
}

/**
 * One wire protocol. It decides what a request is and encodes replies and faults; it never consumes turns,
 * so the server's bookkeeping (and this script format) stay the same for every vendor.
 */
export interface ProtocolModule {
  readonly name: string;
  route(request: IncomingModelRequest): RouteDecision | undefined;
  writeReply(res: ServerResponse, reply: ReplyTurn, ctx: ReplyContext): void;
  /** Every fault except "hang" and "stall", which the server handles alike for all protocols. */
  writeFault(res: ServerResponse, fault: ProtocolFault, ctx: ReplyContext): void;
  /** An error answer owned by the harness itself (script exhausted, a turn's `match` or `model` not met). */
  writeHarnessError(res: ServerResponse, message: string): void;
}

export type Take =
  | { kind: "turn"; turn: Turn; index: number }
  | { kind: "mismatch"; turn: Turn; index: number; message: string }
  | { kind: "exhausted"; message: string };

/** What a request offers a turn's conditions: the text it answers and the model it asks for. */
export interface TurnRequest {
  lastUserText: string;
  model: string | undefined;
}

/**
 * Walks a script. A repeated fault stays at the head until it has answered `repeat` requests. A failed
 * condition (`match`, `model`) does not consume the turn, so a retried request meets the same verdict.
 */
export class ScriptCursor {
  readonly #script: Script;
  #index = 0;
  #usedOfHead = 0;

  constructor(script: Script) {
    for (const [i, turn] of script.entries()) {
      const repeat = isFault(turn) ? turn.repeat : undefined;
      if (repeat !== undefined && (!Number.isInteger(repeat) || repeat < 1)) {
        throw new RangeError(`script turn ${i}: repeat must be a positive integer, got ${repeat}`);
      }
    }
    this.#script = script;
  }

  take(request: TurnRequest): Take {
    const turn = this.#script[this.#index];
    if (turn === undefined) {
      const count = this.#script.length;
      const message = `model-server: script exhausted (all ${count} turns consumed), yet another model request arrived`;
      return { kind: "exhausted", message };
    }
    const index = this.#index;
    if (turn.model !== undefined && request.model !== turn.model) {
      return {
        kind: "mismatch",
        turn,
        index,
        message: `model-server: turn ${index} expects a request for model ${JSON.stringify(turn.model)}, but it asked for ${JSON.stringify(request.model ?? null)}`,
      };
    }
    if (turn.match !== undefined && !request.lastUserText.includes(turn.match)) {
      return {
        kind: "mismatch",
        turn,
        index,
        message:
          `model-server: turn ${index} expects the last user message to contain ${JSON.stringify(turn.match)}, ` +
          `but it ended with ${JSON.stringify(tail(request.lastUserText, 400))}`,
      };
    }
    this.#usedOfHead += 1;
    const times = isFault(turn) ? (turn.repeat ?? 1) : 1;
    if (this.#usedOfHead >= times) {
      this.#index += 1;
      this.#usedOfHead = 0;
    }
    return { kind: "turn", turn, index };
  }

  /** The turns not yet consumed; a partly used repeated fault shows the repeats it has left. */
  remaining(): Turn[] {
    const rest = this.#script.slice(this.#index);
    const head = rest[0];
    if (head !== undefined && this.#usedOfHead > 0 && isFault(head)) {
      rest[0] = { ...head, repeat: (head.repeat ?? 1) - this.#usedOfHead };
    }
    return rest;
  }
}

function tail(text: string, max: number): string {
  return text.length <= max ? text : `…${text.slice(-max)}`;
}
