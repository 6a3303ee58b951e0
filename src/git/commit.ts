// Commits an agent's work in its worktree. Invariant: the commit happens unattended (no hook, editor
// or signing prompt can block it) and the user's git configuration is read, never written.
import { git, GitError, gitFailure, gitScript, UNATTENDED } from "./exec.js";

const FALLBACK_NAME = "orch";
const FALLBACK_EMAIL = "orch@localhost";

/**
 * Stages everything in the worktree (new, changed and deleted files; ignored ones stay out) and commits.
 * Returns the new commit's sha, or undefined when there was nothing to commit.
 */
export async function commitAll(options: CommitOptions): Promise<string | undefined> {
  const done = await commitWork(options);
  return done.made ? done.commit : undefined;
}

export interface CommitOptions {
  worktree: string;
  message: string;
  identity?: readonly string[] | undefined;
}

/**
 * As commitAll, and the commit the worktree is at either way: the new one (`made`), or its HEAD when there was
 * nothing to commit. One launch in both cases.
 */
export async function commitWork(options: CommitOptions): Promise<{ commit: string; made: boolean }> {
  const { worktree, message } = options;
  if (message.trim() === "") throw new Error("commitAll needs a non-empty message");

  const args = [
    ...(options.identity ?? (await fallbackIdentity(worktree))),
    ...UNATTENDED,
    "commit",
    "--no-verify",
    // A signing key may ask for a passphrase through pinentry, which would hang an unattended run.
    "--no-gpg-sign",
    "--quiet",
    "-m",
    message,
  ];
  // One launch: stage everything, commit, print the commit; when the commit fails, whether anything was staged
  // at all (nothing: git said so and exited 1, which is no failure here; decided by asking, not by its words), and
  // then the commit HEAD is at, after a line that says so.
  const result = await gitScript(COMMIT_ALL, args, worktree);
  if (result.exitCode !== 0) throw gitFailure(["add", "--all", "&&", "git", ...args], result);
  const lines = result.stdout.trim().split("\n");
  const unchanged = lines[0] === UNCHANGED;
  const commit = (unchanged ? lines[1] : lines[0]) ?? "";
  if (commit === "") throw new GitError(`git rev-parse HEAD printed nothing in ${worktree}`, { args: ["rev-parse", "HEAD"], exitCode: 0, stderr: result.stderr });
  return { commit, made: !unchanged };
}

const UNCHANGED = "orch:unchanged";

const COMMIT_ALL = `git add --all || exit
if git "$@" >/dev/null; then exec git rev-parse HEAD; fi
status=$?
git diff --cached --quiet --no-ext-diff || exit "$status"
echo ${UNCHANGED}
exec git rev-parse HEAD`;

/**
 * `-c user.name=… -c user.email=…` for whichever of the two the user's configuration lacks, for this
 * one commit only. GIT_AUTHOR_NAME, GIT_COMMITTER_EMAIL and the like in the environment still win.
 */
export async function fallbackIdentity(worktree: string): Promise<string[]> {
  // Both keys in one git call; the last value of a key wins, as with `git config --get`.
  const args = ["config", "--get-regexp", "^user\\.(name|email)$"];
  const result = await git(args, worktree);
  if (result.exitCode !== 0 && result.exitCode !== 1) throw gitFailure(args, result);
  const set = new Map<string, string>();
  for (const line of result.stdout.split("\n")) {
    const space = line.indexOf(" ");
    const key = space === -1 ? line : line.slice(0, space);
    if (key !== "") set.set(key.toLowerCase(), space === -1 ? "" : line.slice(space + 1).trim());
  }
  const identity: string[] = [];
  for (const [key, fallback] of [
    ["user.name", FALLBACK_NAME],
    ["user.email", FALLBACK_EMAIL],
  ] as const) {
    if ((set.get(key) ?? "") === "") identity.push("-c", `${key}=${fallback}`);
  }
  return identity;
}
