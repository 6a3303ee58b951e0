// `orch diff RUN[/TASK] [--stat]`: the work so far, as git prints it. A task: its branch against the commit it
// started from (where it left the run branch; once merged, where it left the run branch before its merge), plus
// what its worktree holds uncommitted, new files included, when the worktree is still there. A run: the run
// branch against the run's base. Output is plain (no colour), so that it pipes into `git apply` or a pager.
import { existsSync } from "node:fs";
import { NotFoundError } from "../../core/errors.js";
import { withJournalReader } from "../../app/journal-reader.js";
import { workDiff } from "../../git/index.js";
import { taskBase } from "../../engine/task-change.js";
import { resolveRun } from "../../read/runs.js";
import { type CliContext } from "../context.js";
import { EXIT } from "../exit-codes.js";

export async function diffCommand(ctx: CliContext, ref: string, flags: { stat?: boolean }): Promise<number> {
  return withJournalReader(ctx.cwd, async ({ journal: store }) => {
    const slash = ref.indexOf("/");
    const run = await resolveRun(store, slash > 0 ? ref.slice(0, slash) : ref);
    const stat = flags.stat === true;
    let text: string;
    if (slash > 0) {
      const taskId = ref.slice(slash + 1);
      const task = await store.getTask(run.id, taskId);
      if (task === undefined) throw new NotFoundError(`run ${run.id} has no task "${taskId}"`, { hint: `\`orch status ${run.id}\` lists its tasks` });
      if (task.role === "reviewer") throw new NotFoundError(`task ${taskId} reviews the whole run and changes no files`, { hint: `\`orch diff ${run.id}\` shows the run's work` });
      if (task.role === "planner") throw new NotFoundError(`task ${taskId} plans the run and changes no files`, { hint: `\`orch diff ${run.id}\` shows the run's work` });
      const root = run.repoRoot;
      const base = await taskBase(run, task);
      text = existsSync(task.worktree) ? await workDiff({ cwd: task.worktree, base, stat }) : await workDiff({ cwd: root, base, to: task.branch, stat });
    } else {
      text = await workDiff({ cwd: run.repoRoot, base: run.baseSha, to: run.branch, stat });
    }
    if (text.trim() !== "") ctx.output.out(text.trimEnd());
    return EXIT.ok;
  });
}
