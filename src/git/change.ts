// The change between two commits file by file: each path with its status (added, modified, deleted, renamed…)
// and the lines added and removed, as risk rules read it. Read-only; one `git diff -z` read.
import type { ChangedFile, FileStatus } from "../core/risk.js";
import { assertRevision, gitOk } from "./exec.js";

const STATUS: Record<string, FileStatus> = { A: "added", M: "modified", D: "deleted", R: "renamed", C: "copied", T: "type-changed" };

/** Every file that differs between `from` and `to` (renames found as git finds them). */
export async function changeBetween(cwd: string, from: string, to: string): Promise<ChangedFile[]> {
  assertRevision(from, "from");
  assertRevision(to, "to");
  return changeOf(cwd, [from, to]);
}

/**
 * What `to` changed since it left `from` (`git diff from...to`): git finds the merge base in the same call, so the
 * approval gate, on every task's way to the merge queue, spends one round of git calls instead of two.
 */
export async function changeSince(cwd: string, from: string, to: string): Promise<ChangedFile[]> {
  assertRevision(from, "from");
  assertRevision(to, "to");
  return changeOf(cwd, [`${from}...${to}`]);
}

async function changeOf(cwd: string, revisions: readonly string[]): Promise<ChangedFile[]> {
  // Both formats from one git process (every task's approval gate runs this): `--raw` names each file with its
  // status, `--numstat` after it counts its lines.
  return parseChange(await gitOk(["diff", "--no-color", "--no-ext-diff", "-M", "-z", "--raw", "--numstat", ...revisions, "--"], cwd));
}

/**
 * `git diff -z --raw --numstat` output as one entry per file. The raw records come first (`:modes shas STATUS`, then
 * the path, or the old and the new path of a rename or copy), then the numstat records (`added\tremoved\tpath`, or
 * an empty path followed by the old and the new one); paths are read by position, so any byte in a name is safe.
 */
export function parseChange(output: string): ChangedFile[] {
  const fields = output.split("\0");
  const files: ChangedFile[] = [];
  const lines = new Map<string, { added: number | undefined; removed: number | undefined }>();
  const count = (s: string | undefined): number | undefined => (s === undefined || s === "-" ? undefined : Number(s));
  for (let i = 0; i < fields.length; ) {
    const field = fields[i] ?? "";
    if (field === "") {
      i++;
    } else if (field.startsWith(":")) {
      const code = field.slice(field.lastIndexOf(" ") + 1);
      const status = STATUS[code[0] ?? ""] ?? "modified";
      const twoPaths = status === "renamed" || status === "copied";
      const from = twoPaths ? fields[i + 1] : undefined;
      const path = (twoPaths ? fields[i + 2] : fields[i + 1]) ?? "";
      i += twoPaths ? 3 : 2;
      files.push({ path, ...(from !== undefined ? { from } : {}), status, added: undefined, removed: undefined });
    } else {
      const [added, removed, ...rest] = field.split("\t");
      let path = rest.join("\t");
      i++;
      // A rename or copy: the old and the new path follow as fields of their own.
      if (path === "") {
        path = fields[i + 1] ?? "";
        i += 2;
      }
      lines.set(path, { added: count(added), removed: count(removed) });
    }
  }
  return files.map((f) => ({ ...f, ...lines.get(f.path) }));
}
