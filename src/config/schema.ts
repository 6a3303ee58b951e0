// orch.config.yaml: the settings a repository keeps for its runs. Parsed with zod; every value has a
// default, so an empty file (or none) is a valid configuration. The schema is built on first use, not when the
// module loads: a command that never reads the config (`orch init`, which only writes the template) skips it.
import { z } from "zod";
import { DEFAULT_PERMISSION, PERMISSIONS } from "../agents/permission.js";
import { AGENT_NAMES } from "../agents/names.js";
import { DEFAULT_BREAKER } from "../core/circuit.js";
import { parseDuration } from "../core/duration.js";
import { NOTICE_KINDS, WEBHOOK_FORMATS } from "../core/notify.js";
import { OnFailure } from "../core/recovery-policy.js";
import { RISKS, rulesInForce, type RuleSetting } from "../core/risk-rules.js";
import { parseSize } from "../core/size.js";
import { DEFAULT_LOG_KEEP, DEFAULT_LOG_MAX_BYTES } from "../process/rotating-log.js";

function buildConfigSchema() {
  const duration = z.string().refine((s) => parseDuration(s) !== undefined, {
    message: "expected a duration such as 30s, 5m, 2h or 1h30m",
  });
  const size = z.string().refine((s) => parseSize(s) !== undefined, {
    message: "expected a size such as 512m, 4g or 1.5g",
  });
  // A rule is a map of settings, or only its level (`ci: medium`, `migrations: off`).
  const riskRule = z.preprocess(
    (value) => (typeof value === "string" ? { level: value } : value),
    z
      .object({
        level: z.enum([...RISKS, "off"]).optional(),
        paths: z.array(z.string()).min(1).optional(),
        command: z.string().min(1).optional(),
        lines: z.number().int().positive().optional(),
        files: z.number().int().positive().optional(),
        about: z.string().min(1).optional(),
      })
      .strict(),
  );
  const webhook = z
    .object({
      url: z.string().refine(isWebhookUrl, { message: "expected an http:// or https:// URL" }),
      events: z.array(z.enum(NOTICE_KINDS)).min(1).default([...NOTICE_KINDS]),
      format: z.enum(WEBHOOK_FORMATS).default("json"),
      headers: z
        .record(
          z.string().regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, { message: "a header name is letters, digits and - (no spaces or colons)" }),
          z.string().refine((v) => !/[\r\n]/.test(v) && unclosedVariable(v) === undefined, {
            message: "a header value is one line; name an environment variable as ${NAME}",
          }),
        )
        .default({}),
    })
    .strict();
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
      review: z
        .object({
          enabled: z.boolean().default(true),
          reviewer: z.string().trim().min(1).optional(),
          maxRounds: z.number().int().positive().default(3),
          wholeRun: z.boolean().default(true),
          wholeRunFixes: z.number().int().nonnegative().default(1),
        })
        .strict()
        .prefault({}),
      risk: z
        .object({ rules: z.record(z.string(), riskRule).default({}) })
        .strict()
        .superRefine(
          (risk, ctx) => {
            for (const problem of rulesInForce(wellTyped(risk.rules)).problems) ctx.addIssue({ code: "custom", path: ["rules", ...problem.path], message: problem.message });
          },
          // Also when a setting has the wrong type, so that every problem of the file is reported at once.
          { when: () => true },
        )
        .prefault({}),
      worktrees: z
        .object({ dir: z.string().min(1).optional() })
        .strict()
        .prefault({}),
      notify: z
        .object({
          webhooks: z.array(webhook).default([]),
          timeout: duration.default("10s"),
          endWait: duration.default("5s"),
          rollUp: duration.default("2s"),
        })
        .strict()
        .prefault({}),
      approval: z
        .object({
          rejectAfter: z.object({ medium: duration.optional(), high: duration.optional() }).strict().prefault({}),
        })
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

/**
 * The rules as far as they have the right types: a setting of the wrong type (already reported) becomes a
 * harmless stand-in, so that the rules' own checks neither crash on it nor report it a second time.
 */
function wellTyped(rules: unknown): Record<string, RuleSetting> {
  if (typeof rules !== "object" || rules === null) return {};
  const settings: Record<string, RuleSetting> = {};
  for (const [id, raw] of Object.entries(rules)) {
    if (typeof raw !== "object" || raw === null) continue;
    const fields = new Map<string, unknown>(Object.entries(raw));
    const value = (key: string): unknown => fields.get(key);
    const level = value("level");
    const paths = value("paths");
    const command = value("command");
    const size = (key: string): number | undefined => (value(key) === undefined ? undefined : typeof value(key) === "number" ? Number(value(key)) : 1);
    settings[id] = {
      level: level === undefined ? undefined : isLevel(level) ? level : "low",
      paths: paths === undefined ? undefined : Array.isArray(paths) ? paths.filter((p): p is string => typeof p === "string") : [],
      command: command === undefined ? undefined : typeof command === "string" ? command : "",
      lines: size("lines"),
      files: size("files"),
    };
  }
  return settings;
}

function isLevel(value: unknown): value is RuleSetting["level"] {
  return value === "off" || RISKS.some((r) => r === value);
}

function isWebhookUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return (url.protocol === "http:" || url.protocol === "https:") && url.hostname !== "";
  } catch {
    return false;
  }
}

/** A `${` without its closing brace or with no variable name in it; undefined when every reference is whole. */
function unclosedVariable(value: string): string | undefined {
  const rest = value.replace(/\$\{[A-Za-z_][A-Za-z0-9_]*\}/g, "");
  return rest.includes("${") ? rest : undefined;
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

# A reviewer of another model judges each task's verified commit before it is merged: it reads the task, its
# criteria and their output and the commit's diff, and approves or asks for changes with findings (P0–P3). Changes
# go back to the implementer with the findings; from round 2 only P0–P1 findings block; after maxRounds the task is
# blocked. The reviewer is AGENT, AGENT:MODEL or a MODEL of the run's agent, never the implementer's own model.
# --reviewer overrides it; --no-review (or enabled: false) turns reviews off.
# wholeRun: before delivery the reviewer also reads the run branch's whole diff against its base (skipped when
# that diff is one commit a task's review approved); blocking findings go back to the run as a task of fixes, at
# most wholeRunFixes times; still blocking after that, the run is not delivered (\`orch deliver RUN\` does it).
review:
  enabled: true
  # reviewer: codex:gpt-5
  maxRounds: 3
  wholeRun: true
  wholeRunFixes: 1

# The risk of a task's change: the highest level of the rules that fire on its files, its size and the commands its
# agent ran, never below the plan's own level for the task. \`orch risk --rules\` lists the rules in force; here a
# default's level changes (ci: medium), a default is turned off (migrations: off), or a rule is added with paths
# (globs), command (a regular expression) or lines/files (a size).
risk:
  rules:
    # ci: medium
    # migrations: off
    # large: { lines: 300 }
    # payments: { level: high, paths: ["src/payments/**"], about: money moves here }

# Webhooks told when something needs a human and when a run ends. Each has a url (http or https), the events it
# wants (default: all): task.waiting (a task waits for a human; today that is the run waiting), task.escalated (a task ended failed,
# stalled or blocked), run.waiting (the run waits for a human: missing credentials), run.paused, run.finished;
# a format: json (orch's own body) or slack (text and blocks an incoming webhook accepts); and optional headers,
# whose values may name environment variables, read when a notice is sent: \${SLACK_TOKEN}. Notices of one kind
# that come within rollUp of each other are sent as one. A delivery is tried up to 4 times with backoff (a
# Retry-After is honoured); each outcome is in the journal (webhook number and host only, never its URL's path,
# query or headers). A failure never stops the run; its end waits at most endWait for deliveries still pending.
notify:
  webhooks: []
  #  - url: https://hooks.slack.com/services/T000/B000/XXXX
  #    events: [task.waiting, task.escalated, run.finished]
  #    format: slack
  #  - url: https://example.com/orch-hook
  #    headers:
  #      Authorization: Bearer \${ORCH_HOOK_TOKEN}
  timeout: 10s           # one POST's longest wait for an answer
  endWait: 5s            # how long the run's end waits for deliveries still pending
  rollUp: 2s             # notices of one kind this close together go as one

# A commit the approval gate holds for a human (medium risk without a reviewer's approval, high risk) waits until
# \`orch approve\` or \`orch reject\`. rejectAfter rejects it by itself once it has waited this long at its level; the
# time counts while a supervisor drives the run (a run that waits for a human applies it when it is resumed).
approval:
  rejectAfter:
    # medium: 8h
    # high: 24h

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
