// `inspectRepo`'s first question to git, and the answer to it that the CLI's entry may have asked for already
// (git/repo-lookup.ts). Holds no I/O of its own: the CLI's program hands the answer over, `inspectRepo` takes it.

/** Where is the repository, in one git call: top level, common dir, HEAD's commit, and HEAD's ref. */
export const LOCATE_ARGS = ["rev-parse", "--show-toplevel", "--git-common-dir", "HEAD^{commit}", "--symbolic-full-name", "HEAD"] as const;

export interface LocateResult {
  readonly stdout: string;
  readonly stderr: string;
  readonly exitCode: number;
}

/** git's answer to LOCATE_ARGS in one folder, asked before the command's code had loaded. */
export interface RepoLookup {
  /** The folder git ran in, resolved. */
  readonly cwd: string;
  /** git's answer; undefined when git could not run, or ended by a signal. Never rejects. */
  readonly result: Promise<LocateResult | undefined>;
}

let early: RepoLookup | undefined;

/**
 * Hands the process's first `inspectRepo` the answer of a lookup started before the command's code loaded. It is
 * used when that first call asks about the same folder; the first call drops it either way, so no later question
 * gets an answer older than the command.
 */
export function adoptRepoLookup(lookup: RepoLookup): void {
  early = lookup;
}

/** The adopted answer for `dir` (resolved), once; undefined when there is none for it. */
export async function takeRepoLookup(dir: string): Promise<LocateResult | undefined> {
  const lookup = early;
  early = undefined;
  return lookup !== undefined && lookup.cwd === dir ? await lookup.result : undefined;
}
