// The change between two commits file by file: each path with its status (added, modified, deleted, renamed…)
// and the lines added and removed, as risk rules read it. Read-only; two `git diff -z` reads, joined by path.
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
  const common = ["diff", "--no-color", "--no-ext-diff", "-M", "-z"];
  const [names, counts] = await Promise.all([gitOk([...common, "--name-status", ...revisions, "--"], cwd), gitOk([...common, "--numstat", ...revisions, "--"], cwd)]);
  return joinChange(names, counts);
}

/** `--name-status -z` and `--numstat -z` output, joined into one entry per file. */
export function joinChange(nameStatus: string, numstat: string): ChangedFile[] {
  const lines = new Map<string, { added: number | undefined; removed: number | undefined }>();
  const parts = numstat.split("\0");
  for (let i = 0; i < parts.length; i++) {
    const fields = (parts[i] ?? "").split("\t");
    if (fields.length < 3) continue;
    const count = (s: string | undefined): number | undefined => (s === undefined || s === "-" ? undefined : Number(s));
    // A rename is `added\tremoved\t` then the old and the new path as two more fields.
    let path = fields.slice(2).join("\t");
    if (path === "") {
      path = parts[i + 2] ?? "";
      i += 2;
    }
    lines.set(path, { added: count(fields[0]), removed: count(fields[1]) });
  }
  const files: ChangedFile[] = [];
  const fields = nameStatus.split("\0");
  for (let i = 0; i < fields.length; ) {
    const code = fields[i] ?? "";
    if (code === "") {
      i++;
      continue;
    }
    const status = STATUS[code[0] ?? ""] ?? "modified";
    const twoPaths = status === "renamed" || status === "copied";
    const from = twoPaths ? fields[i + 1] : undefined;
    const path = (twoPaths ? fields[i + 2] : fields[i + 1]) ?? "";
    i += twoPaths ? 3 : 2;
    const counted = lines.get(path);
    files.push({ path, ...(from !== undefined ? { from } : {}), status, added: counted?.added, removed: counted?.removed });
  }
  return files;
}
