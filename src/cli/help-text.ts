// The help that commander's option list cannot carry: what the agent is given, exit codes, reference forms.
// It says what README.md says; test/cli-help.test.ts holds the two together.

export const EXIT_CODES_HELP = `Exit codes:
  0    converged (with --detach: the run started)
  1    ran but did not converge (a limit, a stall, stopped)
  2    bad usage or config, or an agent or verify command that cannot start; nothing written
  3    waiting for a human (credentials)
  4    the journal (.orch/orch.db) is damaged or cannot be opened; the message says what to do
  130  interrupted or paused; state kept, \`orch resume RUN\` continues`;

export const RUN_HELP = `
Defaults are orch's own unless orch.config.yaml sets them (\`orch init\` writes every setting, commented).
Durations read like 30s, 5m, 2h or 1h30m; sizes like 512m or 4g.

The agent runs in the task's own worktree (<worktrees>/<run>/<task>, branch orch/<run>/<task>), never in your
checkout. <worktrees> is outside the checkout, so your own tools never walk it: ORCH_WORKTREES_DIR/<repo>, else
worktrees.dir of orch.config.yaml, else ~/.cache/orch/worktrees/<repo> ($XDG_CACHE_HOME when set), where <repo>
is the repository's folder name and a hash of its path; \`orch status RUN --json\` shows each task's. The
worktree is a checkout of the base commit: a script named by a relative path (--agent-command ./fix.sh) must be
committed, or named by its absolute path. Every agent has ORCH_RUN_ID, ORCH_TASK_ID and ORCH_ATTEMPT (1, 2 …) in
its environment, and ORCH_MODEL when a model is chosen; the command agent (--agent-command) also gets the prompt
on stdin, in the file ORCH_PROMPT_FILE names, and in ORCH_PROMPT when it is at most 64 KiB.

Before anything is written, orch checks that the agents (binary, credentials, as \`orch doctor\` does) and each
verify command's executable can start, and lists every problem (exit 2); --no-preflight skips that.

A goal that starts with "-" (a list) is read as the goal; should it be taken for an option, put it last,
after --: orch run --verify "npm test" -- "- add docs".

${EXIT_CODES_HELP}

Examples:
  orch run "make the failing tests pass" --verify "npm test"
  orch run "fix the type errors" --verify "npx tsc --noEmit" --fallback-model codex:gpt-5.5 --detach
  orch run $'- add auth\\n- add its docs' --verify "npm test" --planner claude-code:opus --concurrency 2`;

export const LOGS_HELP = `
What to show:
  latest                      the newest run (also what \`orch status\` shows without a run)
  RUN                         a run, by its id or a unique prefix of it (261207-0043 …)
  RUN/TASK                    one task of a run (the task ids are in \`orch status RUN\`)
  RUN.TASK.N                  one attempt: run id, task id and attempt number (261207-0043-tpjg.fix-tests.2)

Examples:
  orch logs latest -f         follow the newest run until it ends
  orch logs 261207-0043-tpjg/api --json`;

export const RESUME_HELP = `More attempts or time: with --max-attempts N or --max-hours H, resume first journals the new limits.
A run that failed or was stopped on a limit is reopened: each task that ended on it goes on from its journal,
with the same handoff, its attempts counted on (a task that used 2 goes on with attempt 3). It refuses (exit 2,
nothing written) a run that succeeded, stalled or was aborted, a task that ended for a reason more attempts
cannot mend (it names the task), and a limit not above what was used.

Examples:
  orch resume 261207-0043              continue a paused run, or one whose process died
  orch resume 261207-0043 --max-attempts 6 --max-hours 2
                                       continue a run that failed on its limit of attempts`;

/** For stop, pause and abort: which run they act on without one named. */
export function controlHelp(mode: string): string {
  return `
Without a run, ${mode} acts on the only live run (one a supervisor drives now) and names it; when several
are live, it lists them and asks for one (exit 2).`;
}

export const DOCTOR_HELP = `
Not being in a repository is a warning (⚠): runs need one, and the other checks still run.

Exit codes:
  0    all is well and at least one agent CLI is ready
  1    a check failed (git, a process that got away from a run)
  2    orch.config.yaml is invalid
  3    all else is well but no agent CLI is ready: only the command and scripted agents can run until you
       install one or give it credentials
  4    the journal (.orch/orch.db) is damaged or cannot be opened`;

export const RISK_HELP = `
A task's level is the highest of the rules that fire on its committed change (paths, deleted files, size) and on
the shell commands its agent ran (a push, a publish, curl | sh, rm -r outside the worktree, sudo, chmod 777), and
never below the level its plan gives it. risk.rules in orch.config.yaml changes a rule's level, turns it off
(ci: off) or adds one; \`orch risk --rules\` lists the rules in force.

Examples:
  orch risk 261207-0043-tpjg/api      a task of a run
  orch risk --diff main..HEAD --json  any range of commits (no agent commands)`;
