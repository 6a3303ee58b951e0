// Pushing a run's branch to a remote for delivery. Invariant: a push is never forced (no `+` in the refspec, no
// --force), names one branch on both sides, never prompts (no terminal, no askpass, ssh in batch mode) and never
// outlives its timeout; what it says back has any credentials in URLs taken out before a caller sees it.
import { supervise } from "../process/supervise.js";
import { gitEnv } from "./env.js";
import { git, gitFailure } from "./exec.js";

/** The remotes as configured, read once: the remote a branch tracks, and the URL a push to a remote goes to. */
export interface RemoteConfig {
  /** The remote the branch tracks (`branch.<name>.remote`), unless it tracks a branch of this repository. */
  upstream(branch: string): string | undefined;
  /**
   * The URL a push to `remote` goes to as configured (`pushurl`, else `url`), before git's `insteadOf` rewriting;
   * undefined when no such remote exists. It may hold a token: never journal or show it.
   */
  url(remote: string): string | undefined;
}

/** Every `branch.*` and `remote.*` setting in one git process; as with `git config --get`, a key's last value wins. */
export async function readRemoteConfig(root: string): Promise<RemoteConfig> {
  const args = ["config", "-z", "--get-regexp", "^(branch|remote)\\."];
  const result = await git(args, root);
  // Exit 1: no such setting at all.
  if (result.exitCode !== 0 && result.exitCode !== 1) throw gitFailure(args, result);
  // Each entry is `key\nvalue`; git writes the section and the name in lower case, the branch or remote as it is.
  const values = new Map<string, string>();
  for (const entry of result.stdout.split("\0")) {
    const newline = entry.indexOf("\n");
    if (newline > 0) values.set(entry.slice(0, newline), entry.slice(newline + 1).trim());
  }
  const value = (key: string): string | undefined => {
    const found = values.get(key);
    return found === undefined || found === "" ? undefined : found;
  };
  return {
    upstream: (branch) => {
      const remote = value(`branch.${branch}.remote`);
      return remote === "." ? undefined : remote;
    },
    url: (remote) => value(`remote.${remote}.pushurl`) ?? value(`remote.${remote}.url`),
  };
}

export type PushResult = { pushed: true } | { pushed: false; reason: string };

export interface PushOptions {
  root: string;
  remote: string;
  branch: string;
  timeoutMs: number;
  signal?: AbortSignal;
}

/** `git push REMOTE refs/heads/BRANCH:refs/heads/BRANCH`: a fast-forward or a new branch, or a refusal as a value. */
export async function pushBranch(options: PushOptions): Promise<PushResult> {
  const { root, remote, branch } = options;
  if (!/^[^-\s\0][^\s\0]*$/.test(remote) || !/^[^-\s\0:+][^\s\0:]*$/.test(branch)) return { pushed: false, reason: `cannot push ${branch} to ${remote}: not a plain name` };
  const ref = `refs/heads/${branch}`;
  const env: NodeJS.ProcessEnv = {
    ...gitEnv(),
    GIT_ASKPASS: "",
    SSH_ASKPASS: "",
    SSH_ASKPASS_REQUIRE: "never",
    // An ssh that would ask for a passphrase or a host key fails instead.
    GIT_SSH_COMMAND: process.env["GIT_SSH_COMMAND"] ?? "ssh -o BatchMode=yes",
  };
  const output: Buffer[] = [];
  let size = 0;
  const keep = (chunk: Buffer) => {
    if (size > 64 * 1024) return;
    output.push(chunk);
    size += chunk.length;
  };
  const exit = await supervise({
    file: "git",
    // --no-verify skips the user's own pre-push hook (it may prompt or run for minutes); the remote's hooks still
    // judge the push. No `-c` of UNATTENDED: those are for commits and gc, and a push makes neither here.
    args: ["push", "--no-verify", "--porcelain", remote, `${ref}:${ref}`],
    cwd: root,
    env,
    onStdout: keep,
    onStderr: keep,
    timeoutMs: options.timeoutMs,
    ...(options.signal !== undefined ? { signal: options.signal } : {}),
    stderrTailBytes: 0,
  });
  const text = withoutCredentials(Buffer.concat(output).toString("utf8"));
  if (exit.reason === "spawn_failed") return { pushed: false, reason: `git could not start: ${exit.error?.message ?? "unknown error"}` };
  if (exit.reason === "timeout") return { pushed: false, reason: `git push did not finish in ${Math.round(options.timeoutMs / 1000)}s` };
  if (exit.reason !== "exited") return { pushed: false, reason: `git push was stopped (${exit.reason})` };
  if (exit.exitCode === 0) return { pushed: true };
  return { pushed: false, reason: pushFailure(text, exit.exitCode) };
}

/** The lines of git's answer that say why: the remote's own words, the refused ref, and git's error. */
function pushFailure(text: string, exitCode: number | null): string {
  const lines = text.split("\n").map((l) => l.trim());
  const said = lines.filter((l) => /^(remote: \S|!\s|fatal: |error: )/.test(l) && !/^error: failed to push some refs/.test(l));
  const picked = (said.length > 0 ? said : lines.filter((l) => l !== "")).slice(0, 6).join("; ");
  const why = picked.length > 400 ? `${picked.slice(0, 399)}…` : picked;
  return `git push exited with code ${exitCode ?? "?"}${why !== "" ? `: ${why}` : ""}`;
}

/** `https://user:token@host/…` → `https://host/…`: whatever precedes the host in a URL goes. */
export function withoutCredentials(text: string): string {
  return text.replace(/\b([a-z][a-z0-9+.-]*:\/\/)[^/\s@]+@/gi, "$1");
}
