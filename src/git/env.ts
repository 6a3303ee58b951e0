// The environment of every git orch runs, apart from the runner so that the CLI's entry can start its first git
// (git/repo-lookup.ts) before the rest of orch has loaded.

// Variables that point git at a repository other than the one found from cwd. They are set inside git
// hooks, so orch started from a hook (or a test runner started from one) would otherwise act elsewhere.
const REPOSITORY_VARS = [
  "GIT_DIR",
  "GIT_WORK_TREE",
  "GIT_INDEX_FILE",
  "GIT_COMMON_DIR",
  "GIT_OBJECT_DIRECTORY",
  "GIT_ALTERNATE_OBJECT_DIRECTORIES",
  "GIT_NAMESPACE",
  "GIT_PREFIX",
] as const;

/** The environment of every git orch runs: never interactive, aimed only at the repository found from its cwd. */
export function gitEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    GIT_TERMINAL_PROMPT: "0", // never ask for credentials on a terminal
    GCM_INTERACTIVE: "never",
    GIT_EDITOR: "true", // never open an editor; a command that wants one fails instead of waiting
    GIT_PAGER: "cat",
    GIT_OPTIONAL_LOCKS: "0", // read-only commands (status) must not rewrite the index
    LC_ALL: "C", // stable English messages, which the callers match on
  };
  for (const name of REPOSITORY_VARS) delete env[name];
  return env;
}
