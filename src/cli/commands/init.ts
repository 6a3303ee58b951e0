// `orch init`: writes orch.config.yaml with every setting commented and prepares `.orch/` (excluded from
// git). It refuses to overwrite an existing file unless told to.
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { CONFIG_FILE, CONFIG_TEMPLATE } from "../../config/schema.js";
import { UsageError } from "../../core/errors.js";
import { ensureOrchDir, orchPaths } from "../../engine/paths.js";
import { ensureExcluded, inspectRepo } from "../../git/index.js";
import { sqliteJournalExists } from "../../store/sqlite/open.js";
import type { CliContext } from "../context.js";
import { EXIT } from "../exit-codes.js";

export async function initCommand(ctx: CliContext, flags: { force?: boolean }): Promise<number> {
  const repo = await inspectRepo(ctx.cwd);
  const file = join(repo.root, CONFIG_FILE);
  if (existsSync(file) && flags.force !== true) {
    throw new UsageError(`${file} already exists`, { hint: "edit it, or pass --force to replace it with the commented defaults" });
  }
  // A `.orch` that is not a directory is refused before anything is written (JournalDamagedError, exit 4).
  sqliteJournalExists(orchPaths(repo.root).db);
  writeFileSync(file, CONFIG_TEMPLATE);
  ensureOrchDir(orchPaths(repo.root));
  await ensureExcluded(repo);
  ctx.output.out(`Wrote ${file} and created ${orchPaths(repo.root).dir}/ (excluded from git).`);
  ctx.output.out(`Next: orch run "<goal>" --verify "<command>"   (orch doctor checks your agent CLIs)`);
  return EXIT.ok;
}
