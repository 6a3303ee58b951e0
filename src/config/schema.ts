// orch.config.yaml: the settings a repository keeps for its runs. Parsed with zod; every value has a
// default, so an empty file (or none) is a valid configuration. The schema is built on first use, not when the
// module loads: a command that never reads the config (`orch init`, which only writes the template) skips it.
import { z } from "zod";
import { DEFAULT_PERMISSION, PERMISSIONS } from "../agents/permission.js";
import { AGENT_NAMES } from "../agents/names.js";
import { DEFAULT_BREAKER } from "../core/circuit.js";
import { parseDuration } from "../core/duration.js";
import { OnFailure } from "../core/recovery-policy.js";
import { parseSize } from "../core/size.js";
import { DEFAULT_LOG_KEEP, DEFAULT_LOG_MAX_BYTES } from "../process/rotating-log.js";

function buildConfigSchema() {
  const duration = z.string().refine((s) => parseDuration(s) !== undefined, {
    message: "expected a duration such as 30s, 5m, 2h or 1h30m",
  });
  const size = z.string().refine((s) => parseSize(s) !== undefined, {
    message: "expected a size such as 512m, 4g or 1.5g",
  });
  return z
    .object({
      agent: z.enum(AGENT_NAMES).default("claude-code"),
      permission: z.enum(PERMISSIONS).default(DEFAULT_PERMISSION),
      model: z.string().min(1).optional(),
      fallbackModels: z.array(z.string().min(1)).default([]),
      verify: z.array(z.string().min(1)).default([]),
      base: z.string().min(1).optional(),
      limits: z
        .object({
          maxAttempts: z.number().int().positive().default(10),
          maxHours: z.number().positive().default(3),
          budgetUsd: z.number().positive().optional(),
          budgetTokens: z.number().int().positive().optional(),
          taskBudgetUsd: z.number().positive().optional(),
          taskBudgetTokens: z.number().int().positive().optional(),
          interval: duration.default("0s"),
          stallAttempts: z.number().int().positive().default(3),
          stallTimeout: duration.default("10m"),
          attemptTimeout: duration.default("60m"),
          verifyTimeout: duration.default("10m"),
          drainGrace: duration.default("30s"),
          agentMaxRss: size.optional(),
          transcriptMaxMb: z.number().positive().default(DEFAULT_LOG_MAX_BYTES / (1024 * 1024)),
          transcriptKeep: z.number().int().nonnegative().default(DEFAULT_LOG_KEEP),
        })
        .strict()
        .prefault({}),
      recovery: z
        .object({
          onFailure: OnFailure.prefault({}),
          circuitBreaker: z
            .object({
              failures: z.number().int().positive().default(DEFAULT_BREAKER.failures),
              cooldown: duration.default("10m"),
            })
            .strict()
            .prefault({}),
        })
        .strict()
        .prefault({}),
      gc: z
        .object({ afterRun: z.boolean().default(false) })
        .strict()
        .prefault({}),
      integration: z
        .object({ verifyEveryMerge: z.boolean().default(false) })
        .strict()
        .prefault({}),
      worktrees: z
        .object({ dir: z.string().min(1).optional() })
        .strict()
        .prefault({}),
      delivery: z
        .object({
          push: z.boolean().optional(),
          remote: z
            .string()
            .min(1)
            .refine((s) => !s.startsWith("-") && !/[\s\0]/.test(s), { message: "expected the name of a git remote, such as origin" })
            .optional(),
          pr: z.boolean().default(true),
          labels: z.array(z.string().min(1).refine((s) => !s.includes(","), { message: "a label may not hold a comma" })).default([]),
          draft: z.boolean().default(false),
        })
        .strict()
        .prefault({}),
      agents: z
        .object({
          "claude-code": z
            .object({
              bin: z.string().min(1).default("claude"),
              model: z.string().min(1).optional(),
              maxTurns: z.number().int().positive().optional(),
              extraArgs: z.array(z.string()).optional(),
            })
            .strict()
            .prefault({}),
          command: z.object({ command: z.string().min(1).optional() }).strict().prefault({}),
          scripted: z.object({ script: z.string().min(1).optional() }).strict().prefault({}),
          opencode: z
            .object({
              bin: z.string().min(1).default("opencode"),
              model: z.string().min(1).optional(),
              extraArgs: z.array(z.string()).optional(),
            })
            .strict()
            .prefault({}),
          gemini: z
            .object({
              bin: z.string().min(1).default("gemini"),
              model: z.string().min(1).optional(),
              extraArgs: z.array(z.string()).optional(),
            })
            .strict()
            .prefault({}),
          codex: z
            .object({
              bin: z.string().min(1).default("codex"),
              model: z.string().min(1).optional(),
              extraArgs: z.array(z.string()).optional(),
            })
            .strict()
            .prefault({}),
        })
        .strict()
        .prefault({}),
    })
    .strict();
}

let built: ReturnType<typeof buildConfigSchema> | undefined;

/** The schema of orch.config.yaml, built once, on first use. */
export function configSchema(): ReturnType<typeof buildConfigSchema> {
  built ??= buildConfigSchema();
  return built;
}

export type Config = z.infer<ReturnType<typeof buildConfigSchema>>;

export const CONFIG_FILE = "orch.config.yaml";

/** The file `orch init` writes: every setting, commented, at its default. */
export const CONFIG_TEMPLATE = `# orch.config.yaml — settings for orch runs in this repository.
# Every setting is optional; the values shown are the defaults. Command-line flags override them.

# Which agent works on tasks: claude-code, codex, opencode, gemini, command (any shell command) or scripted (replays a file).
agent: claude-code

# What agents may do: read-only, workspace-write (edit files and run commands in the task's worktree;
# the default) or full (no restrictions the CLI can lift). Each agent maps it to its own flags.
permission: workspace-write

# The model to ask the agent for (empty: the agent's own default), and models to fall back to when it
# is overloaded, out of quota or out of context, or when progress stalls.
# model: claude-sonnet-4-5
fallbackModels: []

# Commands that decide when a goal is met: every one must exit 0. --verify adds to these.
verify: []
#  - npm test

# The branch runs start from (default: the branch checked out now).
# base: main

limits:
  maxAttempts: 10        # agent runs per task before the run ends as failed
  maxHours: 3            # wall clock for the whole run
  # budgetUsd: 5         # stop when the agents' reported cost reaches this
  # budgetTokens: 2000000
  # taskBudgetUsd: 2     # the same, for each task on its own
  # taskBudgetTokens: 500000
  interval: 0s           # pause between attempts
  stallAttempts: 3       # attempts without rising progress before orch escalates
  stallTimeout: 10m      # no agent output for this long: the attempt is stopped as hung
  attemptTimeout: 60m    # longest single attempt
  verifyTimeout: 10m     # longest single verify command; one that runs longer fails as timed out
  drainGrace: 30s        # after orch stop/pause or SIGTERM, how long the running attempt may go on
  # agentMaxRss: 4g      # stop an agent whose process tree (the CLI and all it started) uses more memory
  #                      # than this, as crashed; none by default (each attempt's peak is in the journal)
  transcriptMaxMb: 64    # an attempt's raw transcript (.orch/logs/) rotates past this size; the full part
  transcriptKeep: 10     # is gzipped to <file>.1.gz, .2.gz … (1 = oldest), and this many parts are kept

# What orch does about each kind of agent failure: retry (back off, or sleep until the reset the agent
# reported), fallback (the next model in the chain), or escalate (stop the task and tell a human).
# Missing credentials always wait for a human; a spent budget always stops; an agent that cannot start (its
# executable not found or not executable, exit 126/127 from a command agent) stops the task at once (cannot_start).
recovery:
  onFailure:
    # rate_limited: retry        # a usage limit: retry = wait for the reset; fallback; escalate = stop
    # quota_exhausted: fallback
    # overloaded: fallback
    # context_exceeded: fallback
    # hung: retry
    # crashed: retry
  circuitBreaker:
    failures: 3          # unhealthy failures in a row that take a model out of the chain
    cooldown: 10m        # before one probe attempt tries it again

# A task's worktree goes as soon as its work is integrated (its branch keeps it). Those of tasks that failed,
# stopped or were blocked stay for a look, until "orch gc"; with afterRun, the run removes them itself as it
# ends (work left uncommitted is first committed on its task branch; branches always stay).
gc:
  afterRun: false

# Where runs keep their worktrees (one folder per run, one worktree per task). By default outside the working tree,
# so that your own test runners and tools never walk them: $XDG_CACHE_HOME/orch/worktrees/<repo>-<hash>/ (or
# ~/.cache/...). dir: a folder of your choice, relative to the repository (this one folder, no <repo> below it).
# The environment variable ORCH_WORKTREES_DIR overrides both (each repository gets its own folder below it).
# A run keeps the folder it was started with; runs made before orch kept worktrees outside have them in .orch/worktrees/.
worktrees:
  # dir: ../my-repo-worktrees

# A task's verified work is merged into the run branch, and the run's criteria run there again, unless the merge
# is the very tree the task was verified on (it started from the run branch as it stands): that one passed already.
# verifyEveryMerge: true verifies every merge, for criteria that depend on more than the files (the branch, say).
integration:
  verifyEveryMerge: false

# A run that succeeds delivers its run branch (orch/<run>/_run): it is pushed (never forced, and never your own
# branch), then a pull request is opened with gh, or updated when one is open for the branch already: the title is
# the goal's first line, the body the run's report. Without gh (or not logged in, or a remote not on GitHub), the
# report says the command that opens it. A push or a pull request that fails is reported; the run still succeeded.
delivery:
  # push: true           # default: push when the remote exists; false (or --no-push) never pushes
  # remote: origin       # default: the base branch's upstream remote, else origin
  pr: true               # open or update a pull request after the push
  labels: []             # labels for the pull request
  draft: false           # open it as a draft

agents:
  claude-code:
    bin: claude          # the Claude Code executable
    # model: claude-sonnet-4-5
    # maxTurns: 50
  command:
    # command: ./my-agent.sh   # gets the prompt on stdin, in $ORCH_PROMPT_FILE, and in ORCH_PROMPT up to 64 KiB
  scripted:
    # script: demo-script.yaml
  opencode:
    bin: opencode        # the OpenCode executable; it talks to the providers its own config names
    # model: anthropic/claude-sonnet-4-5   # provider/model, as OpenCode spells it
    # extraArgs: [--agent, build]
  gemini:
    bin: gemini          # the Gemini CLI executable; its own ~/.gemini/settings.json decides auth and endpoint
    # model: gemini-2.5-pro   # empty: the CLI's own choice (its model router)
    # extraArgs: [--include-directories, ../shared]
  codex:
    bin: codex           # the Codex CLI executable; its own ~/.codex/config.toml decides provider and login
    # model: gpt-5.5
    # extraArgs: [-c, model_reasoning_effort="high"]
`;
