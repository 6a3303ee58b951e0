// Is an agent CLI ready on this machine: found on PATH, its version, and whether credentials are present
// (never their values). Each CLI's adapter says where it keeps credentials; the lookup is shared.
import { accessSync, constants, existsSync } from "node:fs";
import { homedir } from "node:os";
import { delimiter, isAbsolute, join } from "node:path";
import { runCommand } from "../process/run-command.js";

export interface AgentCheck {
  agent: string;
  bin: string;
  found: boolean;
  path: string | undefined;
  version: string | undefined;
  credentials: { present: boolean; source: string | undefined };
  ready: boolean;
  /** One line telling the user what to do when it is not ready. */
  fix: string | undefined;
  /** What to do when its credentials are missing (its `fix` says install first when the binary is missing too). */
  credentialsFix: string;
}

export interface CredentialSource {
  env?: string[];
  /** Files relative to HOME. */
  files?: string[];
}

export function findExecutable(bin: string, env: NodeJS.ProcessEnv): string | undefined {
  const candidates = bin.includes("/") ? [bin] : (env.PATH ?? "").split(delimiter).filter((d) => d !== "").map((d) => join(d, bin));
  for (const candidate of candidates) {
    if (!isAbsolute(candidate) && !bin.includes("/")) continue;
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here; keep looking
    }
  }
  return undefined;
}

export function findCredentials(source: CredentialSource, env: NodeJS.ProcessEnv): { present: boolean; source: string | undefined } {
  for (const name of source.env ?? []) {
    const value = env[name];
    if (value !== undefined && value.trim() !== "") return { present: true, source: `$${name}` };
  }
  const home = env.HOME ?? homedir();
  for (const file of source.files ?? []) {
    if (existsSync(join(home, file))) return { present: true, source: `~/${file}` };
  }
  return { present: false, source: undefined };
}

export async function checkAgentCli(options: {
  agent: string;
  bin: string;
  env: NodeJS.ProcessEnv;
  credentials: CredentialSource;
  installHint: string;
  credentialsHint: string;
  /** Picks the version out of `--version`'s output; its first line when not given. */
  parseVersion?: (output: string) => string | undefined;
  /** Run `--version` (doctor does; a run's preflight does not, to start at once: found and credentials only). */
  probeVersion?: boolean;
}): Promise<AgentCheck> {
  const path = findExecutable(options.bin, options.env);
  const credentials = findCredentials(options.credentials, options.env);
  const probe = options.probeVersion ?? true;
  let version: string | undefined;
  if (path !== undefined && probe) {
    const result = await runCommand({ file: path, args: ["--version"], cwd: process.cwd(), env: options.env, timeoutMs: 15_000 });
    if (result.exitCode === 0) version = options.parseVersion?.(result.output) ?? result.output.trim().split("\n")[0];
  }
  const found = path !== undefined;
  const ready = found && (version !== undefined || !probe) && credentials.present;
  const fix = !found
    ? options.installHint
    : version === undefined && probe
      ? `\`${path} --version\` failed; reinstall it (${options.installHint})`
      : !credentials.present
        ? options.credentialsHint
        : undefined;
  return { agent: options.agent, bin: options.bin, found, path, version, credentials, ready, fix, credentialsFix: options.credentialsHint };
}
