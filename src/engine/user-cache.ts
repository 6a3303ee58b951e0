// orch's folder in the user's cache: `$XDG_CACHE_HOME/orch`, or `~/.cache/orch` when XDG_CACHE_HOME is unset or
// relative (the XDG rule). What goes there can be made again: runs' worktrees by default, the CLI's code cache.
// Kept apart from paths.ts so that the executable's entry can use it without loading anything else.
import { homedir } from "node:os";
import { isAbsolute, join } from "node:path";

export function userCacheDir(env: Readonly<Record<string, string | undefined>>): string {
  const xdg = env["XDG_CACHE_HOME"];
  const home = env["HOME"] !== undefined && env["HOME"] !== "" ? env["HOME"] : homedir();
  return join(xdg !== undefined && isAbsolute(xdg) ? xdg : join(home, ".cache"), "orch");
}
