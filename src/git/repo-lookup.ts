// Where is the repository this command runs in: the first thing nearly every command asks git. The CLI's entry
// (cli/main.ts) starts that git before it loads the rest of orch, which takes some 50 ms of compiling and running
// chunks, so git answers on the other core meanwhile and `inspectRepo` finds the answer waiting (git/locate.ts).
// Invariant: the same question `inspectRepo` asks, in the same environment; when git cannot run at all there is
// no answer, and `inspectRepo` asks again through the launcher, which says what went wrong.
import { resolve } from "node:path";
import { gitEnv } from "./env.js";
import { LOCATE_ARGS, type LocateResult, type RepoLookup } from "./locate.js";

/** Starts `git rev-parse …` (LOCATE_ARGS) in `cwd`, straight from this process. */
export function startRepoLookup(cwd: string): RepoLookup {
  const dir = resolve(cwd);
  const result = new Promise<LocateResult | undefined>((settle) => {
    try {
      // Loaded here, not at the top: `orch --version` and `orch --help` never pay for it.
      const { execFile } = process.getBuiltinModule("node:child_process");
      execFile("git", LOCATE_ARGS, { cwd: dir, env: gitEnv(), encoding: "utf8", maxBuffer: 1 << 20 }, (error, stdout, stderr) => {
        if (error === null) settle({ stdout, stderr, exitCode: 0 });
        else settle(typeof error.code === "number" ? { stdout, stderr, exitCode: error.code } : undefined);
      });
    } catch {
      settle(undefined);
    }
  });
  return { cwd: dir, result };
}
