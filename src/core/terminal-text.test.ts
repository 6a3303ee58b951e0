import { describe, expect, it } from "vitest";
import { escapeControls } from "./terminal-text.js";

describe("escapeControls", () => {
  it("shows every control but line feed and tab as its escape", () => {
    expect(escapeControls("\u001b]0;pwned\u0007title")).toBe("\\u001b]0;pwned\\u0007title");
    expect(escapeControls("\u001b]52;c;ZXZpbA==\u0007")).toBe("\\u001b]52;c;ZXZpbA==\\u0007");
    expect(escapeControls("\u001b[2J")).toBe("\\u001b[2J");
    expect(escapeControls("FAIL\r✔ pass")).toBe("FAIL\\u000d✔ pass");
    expect(escapeControls("a\tb\nc")).toBe("a\tb\nc");
    expect(escapeControls("\u009b31m\u007f\u0000")).toBe("\\u009b31m\\u007f\\u0000");
    expect(escapeControls("plain ✓ text")).toBe("plain ✓ text");
  });
  it("keeps a JSON document exact: its escapes read back as the same characters", () => {
    const value = { text: "\u001b[2J\r\u009b\u007f fake" };
    const escaped = escapeControls(JSON.stringify(value));
    expect(JSON.parse(escaped)).toEqual(value);
    expect(escaped).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/);
  });
});
