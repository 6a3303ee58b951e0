// The offline sandbox each real agent CLI runs in: a complete environment (never merged over process.env,
// which may carry real keys or config dirs) rooted in a throw-away home, and the config files written there.
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";

export interface SandboxEnvOptions {
  /** A throw-away home directory; the CLI's config, sessions and caches go there. */
  home: string;
  /** A throw-away temp directory. */
  tmp: string;
  /** PATH for the CLI and the commands its tools run; defaults to this process's PATH. */
  path?: string;
}

/** PATH, HOME, TMPDIR, the XDG directories under HOME, bash and a UTF-8 locale; each CLI adds its own. */
export function sandboxEnv(options: SandboxEnvOptions): Record<string, string> {
  const { home } = options;
  return {
    PATH: options.path ?? process.env["PATH"] ?? "/usr/local/bin:/usr/bin:/bin",
    HOME: home,
    TMPDIR: options.tmp,
    XDG_CONFIG_HOME: join(home, ".config"),
    XDG_CACHE_HOME: join(home, ".cache"),
    XDG_DATA_HOME: join(home, ".local", "share"),
    XDG_STATE_HOME: join(home, ".local", "state"),
    SHELL: "/bin/bash",
    LANG: "C.UTF-8",
  };
}

/** Writes `value` as indented JSON to `path`, creating its directory. */
export function writeJsonFile(path: string, value: unknown): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify(value, null, 2)}\n`);
}
