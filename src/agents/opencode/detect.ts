// How `orch doctor` recognises a usable OpenCode: the `opencode` binary, and a provider key in the environment,
// a login stored by `opencode auth login`, or a config file (where a custom provider keeps its key).
import { checkAgentCli, type AgentCheck } from "../detect.js";

/** The providers' usual variables; OpenCode reads each one for its provider. */
export const OPENCODE_CREDENTIAL_ENV: readonly string[] = [
  "ANTHROPIC_API_KEY",
  "OPENAI_API_KEY",
  "OPENROUTER_API_KEY",
  "GEMINI_API_KEY",
  "GOOGLE_GENERATIVE_AI_API_KEY",
  "GROQ_API_KEY",
  "XAI_API_KEY",
  "DEEPSEEK_API_KEY",
  "MISTRAL_API_KEY",
  "OPENCODE_API_KEY",
  // A whole config in the environment may define a provider with its key.
  "OPENCODE_CONFIG_CONTENT",
  "OPENCODE_CONFIG",
];

export function checkOpenCode(env: NodeJS.ProcessEnv, bin = "opencode", probeVersion = true): Promise<AgentCheck> {
  return checkAgentCli({
    agent: "opencode",
    bin,
    probeVersion,
    env,
    credentials: {
      env: [...OPENCODE_CREDENTIAL_ENV],
      files: [".local/share/opencode/auth.json", ".config/opencode/opencode.json", ".config/opencode/opencode.jsonc"],
    },
    installHint: "install it: npm install -g opencode-ai",
    credentialsHint: "run `opencode auth login`, set a provider key such as OPENAI_API_KEY, or configure a provider in ~/.config/opencode/opencode.json",
  });
}
