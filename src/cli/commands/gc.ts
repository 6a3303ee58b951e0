// `orch gc [RUN...] [--dry-run] [--older-than DUR] [--json]`: removes the worktrees of finished runs, their
// uncommitted work first kept in a work-in-progress commit on the task branch; branches always stay.
// Everything the user can get wrong (a bad duration, an unknown or unfinished run) is refused before any write.
import { parseDuration } from "../../core/duration.js";
import { NotFoundError, UsageError } from "../../core/errors.js";
import { collectGarbage, shortPath, type GcResult, type RunCollection, type WorktreeCollection } from "../../engine/gc.js";
import { openRepoStore, type RepoStore } from "../../app/compose.js";
import { resolveRun } from "../../read/runs.js";
import { type CliContext } from "../context.js";
import { EXIT } from "../exit-codes.js";

export interface GcFlags {
  dryRun?: boolean;
  olderThan?: string;
  json?: boolean;
}

export async function gcCommand(ctx: CliContext, refs: readonly string[], flags: GcFlags): Promise<number> {
  const olderThanMs = flags.olderThan === undefined ? undefined : age(flags.olderThan);
  let opened: RepoStore;
  try {
    opened = await openRepoStore(ctx.cwd, { create: false });
  } catch (error) {
    // A repository without a journal has no runs, so nothing to collect; a named run there is still unknown.
    if (error instanceof NotFoundError && refs.length === 0) {
      print(ctx, { dryRun: flags.dryRun === true, runs: [], skipped: [], worktreesRemoved: 0, wipCommits: 0, bytesFreed: 0 }, flags, ctx.cwd);
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
    });
    print(ctx, result, flags, repo.root);
    const failed = result.runs.some((r) => r.worktrees.some((w) => w.action === "failed"));
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
  lines.push(summary(result));
  ctx.output.out(lines.join("\n"));
}

function describeRun(run: RunCollection, root: string): string[] {
  if (run.skipped !== null) return [`Run ${run.runId} (${run.status}): left alone: ${run.skipped}.`];
  if (run.worktrees.length === 0) return [`Run ${run.runId} (${run.status}): nothing to collect; its worktrees are gone already.`];
  return [`Run ${run.runId} (${run.status}):`, ...run.worktrees.map((w) => `  ${describeWorktree(w, root)}`)];
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

function summary(result: GcResult): string {
  if (result.worktreesRemoved === 0 && result.wipCommits === 0) {
    return result.runs.length === 0 && result.skipped.length === 0 ? "Nothing to collect: no finished run has a worktree left." : "Nothing was removed.";
  }
  const n = (count: number, word: string) => `${count} ${word}${count === 1 ? "" : "s"}`;
  const commits = result.wipCommits === 0 ? "" : `, ${result.dryRun ? "would make" : "made"} ${n(result.wipCommits, "work-in-progress commit")}`;
  return result.dryRun
    ? `Would remove ${n(result.worktreesRemoved, "worktree")} (${formatBytes(result.bytesFreed)})${commits}. Every branch stays.`
    : `Removed ${n(result.worktreesRemoved, "worktree")}, freed ${formatBytes(result.bytesFreed)}${commits}. Every branch stays.`;
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
