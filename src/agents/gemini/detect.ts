// How `orch doctor` recognises a usable Gemini CLI: the `gemini` binary and an API key, a Vertex AI or
// Google-login switch, or the files a `gemini` login leaves in ~/.gemini (GEMINI_CLI_HOME moves it).
import { checkAgentCli, type AgentCheck } from "../detect.js";

/** Where the Gemini CLI finds credentials in its environment (or the switches that choose a login). */
export const GEMINI_CREDENTIAL_ENV: readonly string[] = [
  "GEMINI_API_KEY",
  "GOOGLE_API_KEY",
  "GOOGLE_GENAI_USE_VERTEXAI",
  "GOOGLE_GENAI_USE_GCA",
  "GEMINI_CLI_USE_COMPUTE_ADC",
];

export function checkGemini(env: NodeJS.ProcessEnv, bin = "gemini", probeVersion = true): Promise<AgentCheck> {
  const geminiHome = env["GEMINI_CLI_HOME"];
  return checkAgentCli({
    agent: "gemini",
    bin,
    probeVersion,
    // The credential files are looked up under HOME; the CLI itself looks under GEMINI_CLI_HOME when set.
    env: geminiHome !== undefined && geminiHome !== "" ? { ...env, HOME: geminiHome } : env,
    credentials: {
      env: [...GEMINI_CREDENTIAL_ENV],
      files: [".gemini/oauth_creds.json", ".gemini/.env"],
    },
    installHint: "install it: npm install -g @google/gemini-cli",
    credentialsHint: "log in with `gemini` once, or set GEMINI_API_KEY",
  });
}
