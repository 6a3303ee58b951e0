// orch's bounds on Codex's own retries, as `-c` overrides for the model provider the run will use: the one
// the user's extra arguments or config.toml select (Codex has no provider-independent setting for them).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { RETRY_BOUNDS } from "../retry-bounds.js";
import { codexHome } from "./rollout.js";

/** A provider id usable as a bare key in a `-c` path. */
const BARE_KEY = /^[A-Za-z0-9_-]+$/;

/**
 * The `-c` overrides orch adds before the user's extra arguments, which come later and so win (Codex applies
 * `-c` overrides in order): connection retries never unbounded, and the retries and idle timeout of `provider`
 * when it is a custom one (`custom`: defined in config.toml or the extra arguments). They override config.toml.
 * A built-in provider (`openai`…) cannot be changed in this version ("Built-in providers cannot be
 * overridden"), so under one Codex keeps its own request (4) and stream (5) retries; a partial table for a
 * provider nobody defined would fail to load, so an unknown one is left alone too.
 */
export function retryBoundArgs(provider: string | undefined, custom: boolean): string[] {
  // Otherwise Codex waits "for network" for ever while the server refuses connections.
  const args = ["-c", "features.unbounded_connection_retries=false"];
  if (provider === undefined || !custom || !BARE_KEY.test(provider)) return args;
  const bounds = RETRY_BOUNDS.codex;
  const key = `model_providers.${provider}`;
  args.push(
    "-c",
    `${key}.request_max_retries=${bounds.requestMaxRetries}`,
    "-c",
    `${key}.stream_max_retries=${bounds.streamMaxRetries}`,
    "-c",
    `${key}.stream_idle_timeout_ms=${bounds.streamIdleTimeoutMs}`,
  );
  return args;
}

/**
 * The provider a run uses: `-c model_provider=…` in the extra arguments, else the profile's (`--profile`, or
 * config.toml's `profile`), else config.toml's top-level `model_provider`, else `openai`; `undefined` for
 * `--oss` (a local provider chosen at run time). `config` is config.toml's text, when there is one.
 */
export function selectedProvider(extraArgs: readonly string[], config: string | undefined): string | undefined {
  if (extraArgs.includes("--oss")) return undefined;
  const fromArgs = lastOverride(extraArgs, "model_provider");
  if (fromArgs !== undefined) return fromArgs;
  const text = config ?? "";
  const profile = optionValue(extraArgs, ["--profile", "-p"]) ?? lastOverride(extraArgs, "profile") ?? topLevel(text, "profile");
  const fromProfile = profile === undefined ? undefined : tableKey(text, `profiles.${profile}`, "model_provider");
  return fromProfile ?? topLevel(text, "model_provider") ?? "openai";
}

/** Whether `provider` is defined by the user: a `[model_providers.<id>]` table or dotted keys for it. */
export function isCustomProvider(provider: string, extraArgs: readonly string[], config: string | undefined): boolean {
  const key = `model_providers.${provider}`;
  if (extraArgs.some((arg) => arg.trimStart().startsWith(`${key}.`) || arg.startsWith(`--config=${key}.`))) return true;
  const escaped = key.replace(/[.*+?^${}()|[\]\\-]/g, "\\$&");
  return new RegExp(`^\\s*(\\[\\s*${escaped}\\s*\\]|${escaped}\\.)`, "m").test(config ?? "");
}

/** `$CODEX_HOME/config.toml` (else ~/.codex/config.toml) as text; `undefined` when it cannot be read. */
export function readCodexConfig(env: NodeJS.ProcessEnv): string | undefined {
  try {
    return readFileSync(join(codexHome(env), "config.toml"), "utf8");
  } catch {
    return undefined;
  }
}

/** The value of the last `-c key=value` / `--config key=value` for `key`, unquoted. */
function lastOverride(args: readonly string[], key: string): string | undefined {
  let found: string | undefined;
  args.forEach((arg, i) => {
    const next = args[i + 1];
    const pair = arg === "-c" || arg === "--config" ? next : arg.startsWith("--config=") ? arg.slice("--config=".length) : undefined;
    const match = pair === undefined ? null : new RegExp(`^\\s*${key}\\s*=\\s*(.+?)\\s*$`).exec(pair);
    if (match?.[1] !== undefined) found = unquote(match[1]);
  });
  return found;
}

/** The value of `--name value` or `--name=value` for any of `names`, the last one given. */
function optionValue(args: readonly string[], names: readonly string[]): string | undefined {
  let found: string | undefined;
  args.forEach((arg, i) => {
    if (names.includes(arg)) found = args[i + 1];
    for (const name of names) if (arg.startsWith(`${name}=`)) found = arg.slice(name.length + 1);
  });
  return found;
}

/** A `key = "value"` line before config.toml's first table header. */
function topLevel(toml: string, key: string): string | undefined {
  const head = toml.split(/^\s*\[/m)[0] ?? "";
  return assignment(head, key);
}

/** A `key = "value"` line inside the `[table]` section. */
function tableKey(toml: string, table: string, key: string): string | undefined {
  const escaped = table.replace(/[.*+?^${}()|[\]\\-]/g, "\\$&");
  const section = new RegExp(`^\\s*\\[\\s*${escaped}\\s*\\]\\s*$([\\s\\S]*?)(?=^\\s*\\[|(?![\\s\\S]))`, "m").exec(toml);
  return section?.[1] === undefined ? undefined : assignment(section[1], key);
}

function assignment(text: string, key: string): string | undefined {
  const match = new RegExp(`^\\s*${key}\\s*=\\s*(["'])([^"'\\n]*)\\1`, "m").exec(text);
  return match?.[2];
}

function unquote(value: string): string {
  const match = /^(["'])(.*)\1$/.exec(value);
  return match?.[2] ?? value;
}
