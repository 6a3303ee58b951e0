// Properties of the codex parser: whatever a line holds, normalizeLine (the mapping without its safety net)
// neither throws nor returns anything the AgentEvent schema rejects, line by line and over a whole thread.
import { fixturesIn } from "../../../test/support/agent-fixtures.js";
import { describeParserProperties } from "../../../test/support/parser-properties.js";
import { createCodexParser, createParserState, normalizeLine } from "./normalize.js";

describeParserProperties({
  name: "codex",
  normalizeLine,
  createState: createParserState,
  createParser: createCodexParser,
  fixtureLines: fixturesIn(new URL("./fixtures/", import.meta.url)).allLines(),
  minFixtureLines: 100,
  // Thread and turn lines with anything in their fields, and item lines whose item has a known type and anything else.
  shape: {
    types: ["thread.started", "turn.completed", "turn.failed", "error", "item.started", "item.updated", "item.completed"],
    fields: ["thread_id", "usage", "error", "message", "item", "x"],
    nested: {
      item: {
        types: ["agent_message", "plan", "command_execution", "file_change", "mcp_tool_call", "web_search", "error", "reasoning", "todo_list", "x"],
        fields: [
          "id",
          "text",
          "command",
          "aggregated_output",
          "exit_code",
          "changes",
          "server",
          "tool",
          "arguments",
          "result",
          "error",
          "query",
          "status",
          "message",
          "x",
        ],
      },
    },
  },
  nearMisses: ["in_progress", "completed", "failed", "add", "update", "apply_patch"],
});
