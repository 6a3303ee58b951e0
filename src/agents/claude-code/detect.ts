// How `orch doctor` recognises a usable Claude Code: the `claude` binary and an API key, auth token,
// OAuth token, cloud-provider switch or a logged-in credentials file.
import { checkAgentCli, type AgentCheck } from "../detect.js";

export function checkClaudeCode(env: NodeJS.ProcessEnv, bin = "claude"): Promise<AgentCheck> {
  return checkAgentCli({
    agent: "claude-code",
    bin,
    env,
    credentials: {
      env: ["ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "CLAUDE_CODE_OAUTH_TOKEN", "CLAUDE_CODE_USE_BEDROCK", "CLAUDE_CODE_USE_VERTEX"],
      files: [".claude/.credentials.json"],
    },
    installHint: "install it: npm install -g @anthropic-ai/claude-code",
    credentialsHint: "log in with `claude` once, or set ANTHROPIC_API_KEY",
  });
}
