// One permission vocabulary for every agent, mapped by each adapter to its CLI's own flags and modes.
// `workspace-write` is the default: the narrowest level at which an agent can edit files and run the
// verify commands in its worktree.
export { DEFAULT_PERMISSION, Permission, PERMISSIONS } from "../core/run-settings.js";

/** Several CLIs refuse their "bypass everything" flags as root; adapters pick the widest mode root may use. */
export function runningAsRoot(): boolean {
  return typeof process.getuid === "function" && process.getuid() === 0;
}
