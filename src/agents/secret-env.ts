// The variables agents get that hold credentials, whatever they are called: each adapter's own list (the one
// `orch doctor` looks at) and what a CLI sends with every request. The run's redactor hides their values;
// most would be caught by their names, this makes sure. Switches ("1", "true") are too short to hide anyway.
import { CLAUDE_CODE_CREDENTIAL_ENV } from "./claude-code/detect.js";
import { CODEX_CREDENTIAL_ENV } from "./codex/detect.js";
import { GEMINI_CREDENTIAL_ENV } from "./gemini/detect.js";
import { OPENCODE_CREDENTIAL_ENV } from "./opencode/detect.js";

/** Not secrets themselves: where a config lives. */
const PLACES = new Set(["OPENCODE_CONFIG"]);

export const AGENT_SECRET_ENV: readonly string[] = [
  ...new Set([
    ...CLAUDE_CODE_CREDENTIAL_ENV,
    ...CODEX_CREDENTIAL_ENV,
    ...GEMINI_CREDENTIAL_ENV,
    ...OPENCODE_CREDENTIAL_ENV,
    // Headers Claude Code adds to every API request: an auth proxy's key travels here.
    "ANTHROPIC_CUSTOM_HEADERS",
  ]),
].filter((name) => !PLACES.has(name));
