// Properties of the opencode parser: whatever a line holds, normalizeLine (the mapping without its safety
// net) neither throws nor returns anything the AgentEvent schema rejects, and a session never announces itself twice.
import fc from "fast-check";
import { expect, it } from "vitest";
import { fixturesIn } from "../../../test/support/agent-fixtures.js";
import { describeParserProperties } from "../../../test/support/parser-properties.js";
import { createOpenCodeParser, createParserState, normalizeLine } from "./normalize.js";

describeParserProperties(
  {
    name: "opencode",
    normalizeLine,
    createState: createParserState,
    createParser: createOpenCodeParser,
    fixtureLines: fixturesIn(new URL("./fixtures/", import.meta.url)).allLines(),
    minFixtureLines: 40,
    // Known types with anything else, at the top and in `part`.
    shape: {
      types: ["step_start", "text", "reasoning", "tool_use", "step_finish", "error", "session.idle"],
      fields: ["sessionID", "error", "timestamp", "x"],
      nested: { part: { fields: ["text", "synthetic", "tool", "callID", "state", "reason", "tokens", "cost", "x"] } },
    },
    session: {
      title: "a whole session of mixed lines through one parser never throws",
      check(events) {
        expect(events.filter((event) => event.type === "session.started").length).toBeLessThanOrEqual(1);
      },
    },
  },
  ({ realLine, mutatedScalar }) => {
    it("usage is cumulative: across any session the token and cost totals never go down", () => {
      fc.assert(
        fc.property(fc.array(fc.oneof(realLine, mutatedScalar), { maxLength: 30 }), (session) => {
          const parser = createOpenCodeParser();
          let tokens = 0;
          let cost = 0;
          for (const event of session.flatMap((each) => parser.parseLine(each))) {
            if (event.type !== "usage") continue;
            const total = event.usage.inputTokens + event.usage.outputTokens;
            expect(total).toBeGreaterThanOrEqual(tokens);
            expect(event.costUsd ?? cost).toBeGreaterThanOrEqual(cost);
            tokens = total;
            cost = event.costUsd ?? cost;
          }
        }),
        { numRuns: 300 },
      );
    });
  },
);
