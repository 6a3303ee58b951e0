// How `orch doctor` recognises a usable Codex CLI: the `codex` binary and credentials: an API key in the
// environment, a login (`auth.json`) in CODEX_HOME or ~/.codex, or a custom provider in config.toml whose
// `env_key` is set.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { checkAgentCli, type AgentCheck } from "../detect.js";
import { codexHome } from "./rollout.js";

/** The API keys the Codex CLI reads from its environment. */
export const CODEX_CREDENTIAL_ENV: readonly string[] = ["OPENAI_API_KEY", "CODEX_API_KEY"];

export async function checkCodex(env: NodeJS.ProcessEnv, bin = "codex", probeVersion = true): Promise<AgentCheck> {
  const check = await checkAgentCli({
    agent: "codex",
    bin,
    probeVersion,
    env,
    credentials: { env: [...CODEX_CREDENTIAL_ENV], files: [".codex/auth.json"] },
    installHint: "install it: npm install -g @openai/codex",
    credentialsHint: "log in with `codex login` once, or set OPENAI_API_KEY",
    // With CODEX_HOME under a temp dir the CLI prints a warning before `codex-cli 0.169.0`.
    parseVersion: (output) => /^codex-cli \S+/m.exec(output)?.[0],
  });
  if (check.credentials.present) return check;
  const credentials = codexHomeCredentials(env);
  if (credentials === undefined) return check;
  const ready = check.found && (check.version !== undefined || !probeVersion);
  return { ...check, credentials: { present: true, source: credentials }, ready, fix: ready ? undefined : check.fix };
}

/** Where CODEX_HOME holds credentials (never their values), or undefined. */
export function codexHomeCredentials(env: NodeJS.ProcessEnv): string | undefined {
  const home = codexHome(env);
  const auth = join(home, "auth.json");
  if (existsSync(auth)) return auth;
  let config: string;
  try {
    config = readFileSync(join(home, "config.toml"), "utf8");
  } catch {
    return undefined;
  }
  for (const match of config.matchAll(/^\s*env_key\s*=\s*["']([A-Za-z_][A-Za-z0-9_]*)["']/gm)) {
    const name = match[1];
    if (name !== undefined && (env[name] ?? "").trim() !== "") return `$${name} (env_key in ${join(home, "config.toml")})`;
  }
  return undefined;
}
