// `orch report RUN [--out FILE]`: rebuilds the markdown report from the journal and prints or writes it.
import { resolve } from "node:path";
import { orchPaths, reportPath } from "../../engine/paths.js";
import { writeReport } from "../../engine/report.js";
import { withJournalReader } from "../../app/journal-reader.js";
import { resolveRun } from "../../read/runs.js";
import { type CliContext } from "../context.js";
import { EXIT } from "../exit-codes.js";

export async function reportCommand(ctx: CliContext, ref: string | undefined, flags: { out?: string }): Promise<number> {
  return withJournalReader(ctx.cwd, async ({ journal: store }) => {
    const run = await resolveRun(store, ref);
    const path = flags.out !== undefined ? resolve(ctx.cwd, flags.out) : reportPath(orchPaths(run.repoRoot), run.id);
    const { markdown } = await writeReport(store, run.id, path);
    if (flags.out !== undefined) ctx.output.err(`orch: report written to ${path}`);
    else ctx.output.out(markdown);
    return EXIT.ok;
  });
}
