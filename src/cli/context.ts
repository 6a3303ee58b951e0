// What every command gets: where it runs, its environment, where it prints, and the file that starts orch.
import type { RepoLookup } from "../git/locate.js";
import type { Output } from "./output.js";

export interface CliContext {
  cwd: string;
  env: NodeJS.ProcessEnv;
  output: Output;
  /** The file to run for a detached run's own process (this CLI's entry). */
  entry: string;
  /** git's answer to where the repository is, asked by the entry before the command loaded (git/repo-lookup.ts). */
  repoLookup?: RepoLookup;
}
