// `orch gc [RUN...] [--dry-run] [--older-than DUR] [--branches [--force]] [--json]`: removes the worktrees of
// finished runs (in the folder each run recorded, or `.orch/worktrees/` for a run made before), their uncommitted
// work first kept in a work-in-progress commit on the task branch; branches stay
// unless `--branches` asks for them, and then one holding unmerged work stays unless `--force` says otherwise.
// Everything the user can get wrong (a bad duration, an unknown or unfinished run) is refused before any write.
import { parseDuration } from "../../core/duration.js";
import { NotFoundError, UsageError } from "../../core/errors.js";
import { collectGarbage, shortPath, type GcResult, type RunCollection, type WorktreeCollection } from "../../engine/gc.js";
import { keptUnmerged, type BranchCollection } from "../../engine/gc-branches.js";
import { openRepoStore, type RepoStore } from "../../app/compose.js";
import { resolveRun } from "../../read/runs.js";
import { type CliContext } from "../context.js";
import { EXIT } from "../exit-codes.js";

export interface GcFlags {
  dryRun?: boolean;
  olderThan?: string;
  branches?: boolean;
  force?: boolean;
  json?: boolean;
}

export async function gcCommand(ctx: CliContext, refs: readonly string[], flags: GcFlags): Promise<number> {
  const olderThanMs = flags.olderThan === undefined ? undefined : age(flags.olderThan);
  if (flags.force === true && flags.branches !== true) {
    throw new UsageError("--force only applies to branches: it deletes the branches of finished runs that hold unmerged work", {
      hint: "add --branches (orch gc --branches --force), or leave out --force",
    });
  }
  let opened: RepoStore;
  try {
    opened = await openRepoStore(ctx.cwd, { create: false });
  } catch (error) {
    // A repository without a journal has no runs, so nothing to collect; a named run there is still unknown.
    if (error instanceof NotFoundError && refs.length === 0) {
      const empty = { dryRun: flags.dryRun === true, runs: [], skipped: [], worktreesRemoved: 0, wipCommits: 0, bytesFreed: 0, branchesDeleted: 0, branchesUnmerged: 0 };
      print(ctx, empty, flags, ctx.cwd);
      return EXIT.ok;
    }
    throw error;
  }
  const { repo, store } = opened;
  try {
    const runIds: string[] = [];
    for (const ref of refs) runIds.push((await resolveRun(store, ref)).id);
    const result = await collectGarbage(store, {
      repoRoot: repo.root,
      runIds,
      ...(olderThanMs !== undefined ? { olderThanMs } : {}),
      dryRun: flags.dryRun === true,
      by: `orch gc (pid ${process.pid})`,
      ...(flags.branches === true ? { branches: { force: flags.force === true } } : {}),
    });
    print(ctx, result, flags, repo.root);
    const failed = result.runs.some((r) => r.worktrees.some((w) => w.action === "failed") || r.branches.some((b) => b.action === "failed"));
    return failed ? EXIT.notConverged : EXIT.ok;
  } finally {
    await store.close();
  }
}

function age(text: string): number {
  const ms = parseDuration(text);
  if (ms === undefined) throw new UsageError(`--older-than must be a duration such as 30m, 12h or 7d, not "${text}"`);
  return ms;
}

function print(ctx: CliContext, result: GcResult, flags: GcFlags, root: string): void {
  if (flags.json === true) {
    ctx.output.json(result);
    return;
  }
  const lines: string[] = [];
  if (result.dryRun) lines.push("Dry run: nothing is changed.");
  for (const run of result.runs) lines.push(...describeRun(run, root));
  for (const s of result.skipped) lines.push(`Left alone: run ${s.runId} (${s.status}): ${s.reason}.`);
  lines.push(summary(result, flags.branches === true));
  ctx.output.out(lines.join("\n"));
}

function describeRun(run: RunCollection, root: string): string[] {
  if (run.skipped !== null) return [`Run ${run.runId} (${run.status}): left alone: ${run.skipped}.`];
  if (run.worktrees.length === 0 && run.branches.length === 0) return [`Run ${run.runId} (${run.status}): nothing to collect; its worktrees are gone already.`];
  return [
    `Run ${run.runId} (${run.status}):`,
    ...run.worktrees.map((w) => `  ${describeWorktree(w, root)}`),
    ...run.branches.map((b) => `  ${describeBranch(b, run.runId, root)}`),
  ];
}

export function describeBranch(b: BranchCollection, runId: string, root: string): string {
  const at = b.sha.slice(0, 12);
  const unmerged = `${b.unmerged} unmerged commit${b.unmerged === 1 ? "" : "s"}`;
  switch (b.action) {
    case "would-delete":
      return `would delete branch ${b.name} (at ${at}${b.unmerged > 0 ? `, ${unmerged}: --force` : ", merged"})`;
    case "deleted":
      return b.unmerged > 0
        ? `deleted branch ${b.name} (at ${at}, ${unmerged}: --force); \`git branch ${b.name} ${at}\` brings it back while git still has them`
        : `deleted branch ${b.name} (at ${at}, merged)`;
    case "kept":
      return keptUnmerged(b)
        ? `kept branch ${b.name}: ${b.reason ?? unmerged}; \`orch gc ${runId} --branches --force\` deletes it`
        : `kept branch ${b.name}: ${b.checkedOutIn !== null ? `it is checked out in ${shortPath(root, b.checkedOutIn)}` : (b.reason ?? "left as it is")}`;
    case "failed":
      return `could not delete branch ${b.name}: ${b.reason ?? "unknown error"}`;
  }
}

export function describeWorktree(w: WorktreeCollection, root: string): string {
  const where = shortPath(root, w.path);
  const files = `${w.uncommitted.length} uncommitted file${w.uncommitted.length === 1 ? "" : "s"}`;
  const listed = w.uncommitted.length === 0 ? "" : ` (${w.uncommitted.slice(0, 5).join(", ")}${w.uncommitted.length > 5 ? ", …" : ""})`;
  switch (w.action) {
    case "would-remove":
      return w.uncommitted.length > 0
        ? `would commit ${files}${listed} as work in progress on ${w.branch}, then remove ${where} (${formatBytes(w.bytes)})`
        : `would remove ${where} (${formatBytes(w.bytes)}); branch ${w.branch} stays`;
    case "removed":
      return w.wipCommit !== null
        ? `committed ${files}${listed} as work in progress ${w.wipCommit.slice(0, 12)} on ${w.branch}, then removed ${where} (${formatBytes(w.bytes)})`
        : `removed ${where} (${formatBytes(w.bytes)}); branch ${w.branch} stays`;
    case "kept":
      return `kept ${where}: ${w.reason ?? "left as it is"}`;
    case "failed":
      return `could not remove ${where}: ${w.reason ?? "unknown error"}${w.wipCommit !== null ? ` (its work is safe in commit ${w.wipCommit.slice(0, 12)} on ${w.branch})` : ""}`;
  }
}

function summary(result: GcResult, branches: boolean): string {
  const n = (count: number, one: string, many = `${one}s`) => `${count} ${count === 1 ? one : many}`;
  const none = result.runs.length === 0 && result.skipped.length === 0;
  if (none) return `Nothing to collect: no finished run has a worktree${branches ? " or a branch" : ""} left.`;
  let worktrees: string;
  if (result.worktreesRemoved === 0 && result.wipCommits === 0) {
    if (!branches) return "Nothing was removed.";
    worktrees = "No worktree was removed.";
  } else {
    const commits = result.wipCommits === 0 ? "" : `, ${result.dryRun ? "would make" : "made"} ${n(result.wipCommits, "work-in-progress commit")}`;
    worktrees = result.dryRun
      ? `Would remove ${n(result.worktreesRemoved, "worktree")} (${formatBytes(result.bytesFreed)})${commits}.`
      : `Removed ${n(result.worktreesRemoved, "worktree")}, freed ${formatBytes(result.bytesFreed)}${commits}.`;
  }
  if (!branches) return `${worktrees} Every branch stays.`;
  const deleted =
    result.branchesDeleted === 0 ? "No branch was deleted." : `${result.dryRun ? "Would delete" : "Deleted"} ${n(result.branchesDeleted, "branch", "branches")}.`;
  const kept =
    result.branchesUnmerged === 0 ? "" : ` Kept ${n(result.branchesUnmerged, "branch", "branches")} with unmerged work (--force deletes ${result.branchesUnmerged === 1 ? "it" : "them"}).`;
  return `${worktrees} ${deleted}${kept}`;
}

/** `512 B`, `12.3 KB`, `4.0 MB`, `1.2 GB` (powers of 1024). */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ["KB", "MB", "GB", "TB"];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(1)} ${units[unit] ?? "TB"}`;
}
