// How `orch doctor` recognises a usable Claude Code: the `claude` binary and an API key, auth token,
// OAuth token, cloud-provider switch or a logged-in credentials file.
import { checkAgentCli, type AgentCheck } from "../detect.js";

/** Where Claude Code finds credentials in its environment (or the switches that send it to a cloud provider). */
export const CLAUDE_CODE_CREDENTIAL_ENV: readonly string[] = [
  "ANTHROPIC_API_KEY",
  "ANTHROPIC_AUTH_TOKEN",
  "CLAUDE_CODE_OAUTH_TOKEN",
  "CLAUDE_CODE_USE_BEDROCK",
  "CLAUDE_CODE_USE_VERTEX",
];

export function checkClaudeCode(env: NodeJS.ProcessEnv, bin = "claude", probeVersion = true): Promise<AgentCheck> {
  return checkAgentCli({
    agent: "claude-code",
    bin,
    probeVersion,
    env,
    credentials: {
      env: [...CLAUDE_CODE_CREDENTIAL_ENV],
      files: [".claude/.credentials.json"],
    },
    installHint: "install it: npm install -g @anthropic-ai/claude-code",
    credentialsHint: "log in with `claude` once, or set ANTHROPIC_API_KEY",
  });
}
