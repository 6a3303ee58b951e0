// Properties of the gemini parser: whatever a line holds, normalizeLine (the mapping without its safety net)
// neither throws nor returns anything the AgentEvent schema rejects, and the parser's state stays usable.
import fc from "fast-check";
import { expect, it } from "vitest";
import type { AgentEvent } from "../../core/agent-event.js";
import { fixturesIn } from "../../../test/support/agent-fixtures.js";
import { describeParserProperties } from "../../../test/support/parser-properties.js";
import { createGeminiParser, createParserState, normalizeLine } from "./normalize.js";

describeParserProperties(
  {
    name: "gemini",
    normalizeLine,
    createState: createParserState,
    createParser: createGeminiParser,
    fixtureLines: fixturesIn(new URL("./fixtures/", import.meta.url)).allLines(),
    minFixtureLines: 50,
    shape: {
      types: ["init", "message", "tool_use", "tool_result", "error", "result"],
      fields: [
        "session_id",
        "model",
        "role",
        "content",
        "delta",
        "tool_name",
        "tool_id",
        "parameters",
        "status",
        "output",
        "error",
        "severity",
        "message",
        "stats",
        "x",
      ],
    },
    nearMisses: ["assistant", "success", "error", "run_shell_command"],
    session: {
      title: "a whole session of mixed lines through one parser: valid events, at most one text event between other events",
      check(events) {
        // Deltas are joined: two text events in a row would mean a stretch of speech was split.
        let previous: AgentEvent | undefined;
        for (const event of events) {
          expect(previous?.type === "text" && event.type === "text").toBe(false);
          previous = event;
        }
      },
    },
  },
  () => {
    it("splitting the model's answer into any deltas gives the same text events", () => {
      fc.assert(
        fc.property(fc.string({ minLength: 1, maxLength: 200 }).filter((s) => s.trim() !== ""), fc.array(fc.nat(), { maxLength: 6 }), (text, cuts) => {
          const points = [...new Set(cuts.map((c) => c % (text.length + 1)))].sort((a, b) => a - b);
          const pieces = [0, ...points].map((start, i) => text.slice(start, points[i] ?? text.length)).filter((p) => p !== "");
          const parser = createGeminiParser();
          const lines = [
            ...pieces.map((content) => JSON.stringify({ type: "message", role: "assistant", content, delta: true })),
            JSON.stringify({ type: "result", status: "success" }),
          ];
          const events = lines.flatMap((l) => parser.parseLine(l));
          expect(events[0]).toEqual({ type: "text", text });
          expect(events.at(-1)).toMatchObject({ type: "result", ok: true, text });
        }),
        { numRuns: 300 },
      );
    });
  },
);
