// Properties of the claude-code parser: whatever a line holds, normalizeLine (the mapping without its
// safety net) neither throws nor returns anything the AgentEvent schema rejects.
import { fixturesIn } from "../../../test/support/agent-fixtures.js";
import { describeParserProperties } from "../../../test/support/parser-properties.js";
import { createClaudeParser, createParserState, normalizeLine } from "./normalize.js";

describeParserProperties({
  name: "claude-code",
  normalizeLine,
  createState: createParserState,
  createParser: createClaudeParser,
  fixtureLines: fixturesIn(new URL("./fixtures/", import.meta.url)).allLines(),
  minFixtureLines: 50,
  shape: {
    types: ["system", "assistant", "user", "result", "stream_event", "rate_limit_event"],
    tags: { subtype: ["init", "api_retry", "model_fallback", "success", "error_max_turns", "compact_boundary"] },
    fields: ["message", "content", "session_id", "is_error", "usage", "attempt", "result", "errors", "x"],
  },
});
