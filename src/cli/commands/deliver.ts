// `orch deliver RUN`: delivers a run that succeeded as its settings say (push the run branch, open or update its
// pull request), now. For a run whose supervisor ended before it delivered (it died between the run's end and the
// push), and for one its whole-run review held from delivery, which a human then decides to deliver as it stands.
// Every outcome is journaled as `run.delivered`, as the supervisor's own delivery is, and the report is written again.
import { UsageError } from "../../core/errors.js";
import { describeRunDelivery } from "../../core/delivery-text.js";
import { isTerminalRun } from "../../core/run.js";
import { deliverRun } from "../../engine/deliver.js";
import { silentLogger } from "../../engine/logger.js";
import { orchPaths, reportPath } from "../../engine/paths.js";
import { writeReport } from "../../engine/report.js";
import { withRepoStore } from "../../app/compose.js";
import { resolveRun } from "../../read/runs.js";
import type { CliContext } from "../context.js";
import { EXIT } from "../exit-codes.js";

export async function deliverCommand(ctx: CliContext, ref: string, flags: { json?: boolean }): Promise<number> {
  return withRepoStore(ctx.cwd, false, async ({ store }) => {
    const run = await resolveRun(store, ref);
    if (run.status !== "succeeded") {
      const where = isTerminalRun(run.status) ? `ended ${run.status}` : `is ${run.status}`;
      throw new UsageError(`run ${run.id} ${where}; only a run that succeeded is delivered`, {
        hint: isTerminalRun(run.status) ? `\`orch report ${run.id}\` shows how it ended` : `\`orch status ${run.id}\` shows where it stands`,
      });
    }
    if (run.settings.delivery === undefined) {
      throw new UsageError(`run ${run.id} was made by an orch that did not deliver runs; it has no delivery settings`, { hint: `push its branch yourself: git push origin ${run.branch}` });
    }
    const report = reportPath(orchPaths(run.repoRoot), run.id);
    const written = await writeReport(store, run.id, report);
    const outcomes = await deliverRun({ run, report, write: (...events) => store.append(events), log: silentLogger, env: ctx.env });
    await writeReport(store, run.id, report, written.git);
    if (flags.json === true) ctx.output.json({ runId: run.id, delivery: outcomes });
    else for (const outcome of outcomes) ctx.output.out(describeRunDelivery(outcome));
    return outcomes.some((o) => o.outcome === "push-failed" || o.outcome === "pr-failed") ? EXIT.notConverged : EXIT.ok;
  });
}
