// The merge queue's merge, made in one launch: `git merge-tree` checks the task's commit against the run branch
// without touching any worktree; a clean result is committed from merge-tree's own tree (two parents: the run
// branch's tip, then the task) and checked out in the run branch's worktree. Invariant: the branch only moves from
// the tip the caller named, and a conflict leaves everything as it was.
import { gitFailure, gitScript, UNATTENDED } from "./exec.js";

/** `sameTree`: the merge's tree is the task commit's own (the commit was made on top of the tip, or had it merged in). */
export type CleanMerge = { clean: true; merge: string; sameTree: boolean } | { clean: false };

/** Exit codes of the script beyond git's own: merge-tree found conflicts; the branch is not at the tip. */
const CONFLICTS = 90;
const MOVED = 91;

// Four git processes, each on the merge queue's path: where the branch stands and the task's own tree come from one
// rev-parse (a line each).
const MERGE = `tip=$1 commit=$2 message=$3
shift 3
revs=$(git rev-parse HEAD "$commit^{tree}") || exit
nl='
'
branch=\${revs%%"$nl"*} own=\${revs#*"$nl"}
tree=$(git merge-tree --write-tree "$tip" "$commit")
status=$?
[ "$status" -eq 1 ] && exit ${CONFLICTS}
[ "$status" -eq 0 ] || exit "$status"
[ "$branch" = "$tip" ] || exit ${MOVED}
merge=$(git "$@" commit-tree --no-gpg-sign "$tree" -p "$tip" -p "$commit" -m "$message") || exit
git "$@" reset --quiet --keep "$merge" || exit
echo "$merge"
[ "$tree" = "$own" ] && echo same
exit 0`;

/**
 * Merges `commit` onto `tip`, the branch checked out in `worktree`, with a merge commit whose message is
 * `message`. Returns the merge, or `clean: false` when the two conflict (ask `mergeTree` for the paths).
 * `identity` is git's `-c user.name=… -c user.email=…` where the user's configuration has none.
 */
export async function commitCleanMerge(options: { worktree: string; tip: string; commit: string; message: string; identity: readonly string[] }): Promise<CleanMerge> {
  const { worktree, tip, commit, message } = options;
  const args = [tip, commit, message, ...options.identity, ...UNATTENDED];
  const result = await gitScript(MERGE, args, worktree);
  if (result.exitCode === CONFLICTS) return { clean: false };
  if (result.exitCode === MOVED) throw new Error(`the branch checked out in ${worktree} is no longer at ${tip.slice(0, 12)}: something else moved it`);
  if (result.exitCode !== 0) throw gitFailure(["merge-tree", "--write-tree", tip, commit, "&&", "commit-tree", "&&", "reset", "--keep"], result);
  const [merge = "", same] = result.stdout.trim().split("\n");
  return { clean: true, merge, sameTree: same === "same" };
}

/** What a merge queue that stopped part-way (its supervisor died) left of `commit`'s merge at the tip `tip`. */
export type LeftMerge =
  /** `commit` is not on the branch. */
  | { kind: "absent" }
  /** The tip is the merge of `commit` onto `onto`: made, maybe not yet verified. */
  | { kind: "merged"; merge: string; onto: string }
  /** The tip reverts the merge of `commit` just below it (the merge broke the run's criteria); its message says why. */
  | { kind: "reverted"; merge: string; revert: string; message: string }
  /** `commit` is on the branch some other way (a task that changed nothing has its base as its commit). */
  | { kind: "reachable" };

/**
 * Reads the tip of the branch for `commit`'s merge, as `commitCleanMerge` (or an integrator's finished merge) and a
 * revert of it at once would leave it. A revert is told by its shape: one parent, which is the merge of `commit`,
 * and the tree of the branch before that merge.
 */
export async function mergeLeftAt(worktree: string, tip: string, commit: string): Promise<LeftMerge> {
  const result = await gitScript(LEFT, [tip, commit], worktree);
  if (result.exitCode !== 0) throw gitFailure(["merge-base", "--is-ancestor", commit, tip, "&&", "rev-list", "--parents"], result);
  const [kind = "", merge = ""] = result.stdout.split("\n", 2);
  if (kind === "merged") return { kind, merge: tip, onto: merge };
  if (kind === "reverted") return { kind, merge, revert: tip, message: result.stdout.slice(kind.length + merge.length + 2) };
  return kind === "absent" ? { kind } : { kind: "reachable" };
}

const LEFT = `tip=$1 commit=$2
git merge-base --is-ancestor "$commit" "$tip"
case $? in 0) ;; 1) echo absent; exit 0;; *) exit 1;; esac
set -- $(git rev-list --parents -n 1 "$tip") || exit
[ "$#" -eq 3 ] && [ "$3" = "$commit" ] && { printf 'merged\\n%s\\n' "$2"; exit 0; }
if [ "$#" -eq 2 ]; then
  merge=$2
  set -- $(git rev-list --parents -n 1 "$merge") || exit
  if [ "$#" -eq 3 ] && [ "$3" = "$commit" ] && [ "$(git rev-parse "$tip^{tree}")" = "$(git rev-parse "$2^{tree}")" ]; then
    printf 'reverted\\n%s\\n' "$merge"
    exec git log -1 --format=%B "$tip"
  fi
fi
echo reachable`;
