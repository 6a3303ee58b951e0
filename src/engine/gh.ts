// The GitHub CLI for delivery: whether it can act on a remote, the open pull request of a branch, and opening or
// editing one. Invariant: gh never prompts (GH_PROMPT_DISABLED, no terminal), every call is bounded by a timeout,
// and a failure is a value with gh's own words, never an exception.
import { z } from "zod";
import { onPath } from "../process/launcher.js";
import { supervise } from "../process/supervise.js";
import { withoutCredentials } from "../git/index.js";

export interface GhOptions {
  cwd: string;
  env: Readonly<Record<string, string | undefined>>;
  timeoutMs: number;
}

type GhResult = { ok: true; stdout: string } | { ok: false; why: string };

async function gh(args: readonly string[], options: GhOptions): Promise<GhResult> {
  const stdout: Buffer[] = [];
  const stderr: Buffer[] = [];
  const bounded = (into: Buffer[]) => (chunk: Buffer) => {
    if (into.reduce((n, b) => n + b.length, 0) < 256 * 1024) into.push(chunk);
  };
  const exit = await supervise({
    file: "gh",
    args: [...args],
    cwd: options.cwd,
    env: { ...options.env, GH_PROMPT_DISABLED: "1", GIT_TERMINAL_PROMPT: "0", GH_NO_UPDATE_NOTIFIER: "1", GH_SPINNER_DISABLED: "1", NO_COLOR: "1", CLICOLOR: "0" },
    onStdout: bounded(stdout),
    onStderr: bounded(stderr),
    timeoutMs: options.timeoutMs,
    stderrTailBytes: 0,
  });
  const out = Buffer.concat(stdout).toString("utf8");
  const err = withoutCredentials(Buffer.concat(stderr).toString("utf8")).trim();
  if (exit.reason === "spawn_failed") return { ok: false, why: `gh could not start: ${exit.error?.message ?? "unknown error"}` };
  if (exit.reason === "timeout") return { ok: false, why: `gh ${args[0] ?? ""} ${args[1] ?? ""} did not finish in ${Math.round(options.timeoutMs / 1000)}s` };
  if (exit.reason !== "exited") return { ok: false, why: `gh was stopped (${exit.reason})` };
  if (exit.exitCode !== 0) {
    const line = err.split("\n").find((l) => l.trim() !== "") ?? withoutCredentials(out).trim().split("\n")[0] ?? "";
    return { ok: false, why: `gh ${args[0] ?? ""} ${args[1] ?? ""} exited with code ${exit.exitCode ?? "?"}${line !== "" ? `: ${line.slice(0, 300)}` : ""}` };
  }
  return { ok: true, stdout: out };
}

/** A remote on a host gh may know: its host and `OWNER/NAME`. */
export interface GithubRepo {
  host: string;
  slug: string;
}

/**
 * The host and repository of a remote URL (`https://host/owner/name.git`, `ssh://git@host/owner/name`,
 * `git@host:owner/name.git`); undefined for a path on this machine or anything else.
 */
export function githubRepoOf(url: string): GithubRepo | undefined {
  const clean = withoutCredentials(url.trim());
  const matched =
    /^(?:https?|ssh|git):\/\/([^/:\s]+)(?::\d+)?\/([^/\s]+)\/([^/\s]+?)(?:\.git)?\/?$/i.exec(clean) ??
    /^(?:[^@/\s]+@)?([^/:\s]+):(?!\/)([^/\s]+)\/([^/\s]+?)(?:\.git)?\/?$/.exec(clean);
  if (matched === null) return undefined;
  const [, host = "", owner = "", name = ""] = matched;
  return { host: host.toLowerCase(), slug: `${owner}/${name}` };
}

/** Whether gh is on PATH and logged in to the host; why not, in words a user acts on. */
export async function ghReady(host: string, options: GhOptions): Promise<{ ready: true } | { ready: false; why: string }> {
  if (onPath("gh", options.env["PATH"] ?? "") === undefined) return { ready: false, why: "gh (the GitHub CLI) is not installed" };
  const status = await gh(["auth", "status", "--hostname", host], options);
  return status.ok ? { ready: true } : { ready: false, why: `gh is not logged in to ${host} (\`gh auth login\`): ${status.why}` };
}

const PrView = z.object({ number: z.number().int().positive(), url: z.string().min(1), state: z.string() });
export type PullRequest = { number: number; url: string };

/** The open pull request whose head is `branch`, if there is one; a closed or merged one does not count. */
export async function openPullRequest(repo: GithubRepo, branch: string, options: GhOptions): Promise<PullRequest | undefined> {
  const viewed = await gh(["pr", "view", branch, "--repo", `${repo.host}/${repo.slug}`, "--json", "number,url,state"], options);
  if (!viewed.ok) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(viewed.stdout);
  } catch {
    return undefined;
  }
  const pr = PrView.safeParse(parsed);
  return pr.success && pr.data.state.toUpperCase() === "OPEN" ? { number: pr.data.number, url: pr.data.url } : undefined;
}

export interface PullRequestText {
  title: string;
  bodyFile: string;
  labels: readonly string[];
}

/** `gh pr create`; its answer is the new pull request's URL. */
export async function createPullRequest(
  repo: GithubRepo,
  pr: PullRequestText & { head: string; base: string; draft: boolean },
  options: GhOptions,
): Promise<{ ok: true; pr: Partial<PullRequest> & { url: string } } | { ok: false; why: string }> {
  const args = ["pr", "create", "--repo", `${repo.host}/${repo.slug}`, "--head", pr.head, "--base", pr.base, "--title", pr.title, "--body-file", pr.bodyFile];
  for (const label of pr.labels) args.push("--label", label);
  if (pr.draft) args.push("--draft");
  const created = await gh(args, options);
  if (!created.ok) return created;
  const url = pullUrl(created.stdout);
  if (url === undefined) return { ok: false, why: "gh pr create printed no pull request URL" };
  return { ok: true, pr: { url, ...numberOf(url) } };
}

/** `gh pr edit`: the title, body and labels of an open pull request. */
export async function editPullRequest(repo: GithubRepo, existing: PullRequest, pr: PullRequestText, options: GhOptions): Promise<{ ok: true } | { ok: false; why: string }> {
  const args = ["pr", "edit", String(existing.number), "--repo", `${repo.host}/${repo.slug}`, "--title", pr.title, "--body-file", pr.bodyFile];
  for (const label of pr.labels) args.push("--add-label", label);
  const edited = await gh(args, options);
  return edited.ok ? { ok: true } : edited;
}

function pullUrl(stdout: string): string | undefined {
  const urls = [...stdout.matchAll(/https?:\/\/\S+\/pull\/\d+/g)].map((m) => m[0]);
  return urls.at(-1);
}

function numberOf(url: string): { number?: number } {
  const n = Number(/\/pull\/(\d+)$/.exec(url)?.[1]);
  return Number.isInteger(n) && n > 0 ? { number: n } : {};
}
