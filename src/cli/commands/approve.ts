// `orch approve RUN/TASK [--reason …]` and `orch reject RUN/TASK --reason …`: a human's decision on a commit the
// approval gate holds. Each shows first what is decided on — the diff stat, the rules that fired, the review — then
// journals the decision with who made it, on which commit, and why. Nothing is written for a task that is not held.
import { userInfo } from "node:os";
import { withRepoStore } from "../../app/compose.js";
import { UsageError } from "../../core/errors.js";
import { decideHeld, heldCommit } from "../../engine/approval.js";
import { supervisorAlive } from "../../engine/lease.js";
import { taskReview } from "../../engine/review-state.js";
import { taskBase } from "../../engine/task-change.js";
import { diffStat } from "../../git/index.js";
import { resolveTask } from "../../read/runs.js";
import type { CliContext } from "../context.js";
import { EXIT } from "../exit-codes.js";

export interface DecisionFlags {
  reason?: string;
  json?: boolean;
}

const USAGE_HINT = "name the task as RUN/TASK (`orch status RUN` lists the tasks waiting for a human)";

export async function approveCommand(ctx: CliContext, ref: string, flags: DecisionFlags): Promise<number> {
  return decide(ctx, ref, flags, true);
}

export async function rejectCommand(ctx: CliContext, ref: string, flags: DecisionFlags): Promise<number> {
  if (flags.reason === undefined || flags.reason.trim() === "") {
    throw new UsageError("a rejection needs a reason", { hint: `orch reject ${ref} --reason "why the change must not go in"` });
  }
  return decide(ctx, ref, flags, false);
}

async function decide(ctx: CliContext, ref: string, flags: DecisionFlags, approve: boolean): Promise<number> {
  return withRepoStore(ctx.cwd, false, async ({ store }) => {
    const { run, task } = await resolveTask(store, ref, USAGE_HINT);
    const held = await heldCommit(store, run, task);
    const stat = await diffStat({ repo: { root: run.repoRoot }, from: await taskBase(run, { ...task, commit: held.commit }), to: held.commit }).catch(() => undefined);
    const review = taskReview(await store.listAttempts({ runId: run.id, taskId: task.id }));
    const by = `${userInfo().username} (orch ${approve ? "approve" : "reject"})`;
    const reason = flags.reason?.trim();
    if (approve) await decideHeld(store, run, task, held, { approve: true, by, reason });
    else await decideHeld(store, run, task, held, { approve: false, by, reason: reason ?? "" });
    const live = supervisorAlive(run) === true;
    const next = approve
      ? live
        ? `its supervisor (pid ${run.pid ?? "?"}) merges it now`
        : run.status === "waiting"
          ? `\`orch resume ${run.id}\` merges it and goes on`
          : "the run merges it when it goes on"
      : "its dependents are blocked" + (live ? "" : run.status === "waiting" ? `; \`orch resume ${run.id}\` goes on with the rest` : "");
    if (flags.json === true) {
      ctx.output.json({ runId: run.id, taskId: task.id, commit: held.commit, decision: approve ? "approved" : "rejected", by, reason: reason ?? null, level: held.assessed.level, rules: held.assessed.rules, review, next });
      return EXIT.ok;
    }
    const lines = [
      `task ${task.id} of run ${run.id}: commit ${held.commit.slice(0, 12)}, ${held.assessed.level} risk — ${held.assessed.why}`,
      ...(stat !== undefined && stat.text !== "" ? stat.text.split("\n").map((line) => `  ${line}`) : []),
      ...held.assessed.rules.map((rule) => `  rule    ${rule}`),
      `  review  ${review ?? "none"}`,
      `${approve ? "approved" : "rejected"} by ${by}${reason !== undefined && reason !== "" ? `: ${reason}` : ""}; ${next}`,
    ];
    ctx.output.out(lines.join("\n"));
    return EXIT.ok;
  });
}
