// What a run was started with, beyond its goal, criteria and limits: the agent and its fallbacks, the permission
// level, recovery, planning and concurrency, gc, where its worktrees are, delivery. One schema, parsed once when a run is read (store/rows.ts), so
// that nothing downstream re-parses a loose record with defaults of its own.
import { z } from "zod";
import { RecoverySettings } from "./recovery-policy.js";

// The settings every CLI adapter takes (its CliOptions), by agent.
const bin = z.string().optional();
const extraArgs = z.array(z.string()).optional();

export const AgentSettings = z.discriminatedUnion("name", [
  z.object({ name: z.literal("claude-code"), bin, maxTurns: z.number().int().positive().optional(), extraArgs }),
  z.object({ name: z.literal("opencode"), bin, extraArgs }),
  z.object({ name: z.literal("gemini"), bin, extraArgs }),
  z.object({ name: z.literal("codex"), bin, extraArgs }),
  z.object({ name: z.literal("command"), command: z.string().min(1) }),
  z.object({ name: z.literal("scripted"), script: z.string().min(1) }),
]);
export type AgentSettings = z.infer<typeof AgentSettings>;

export const PERMISSIONS = ["read-only", "workspace-write", "full"] as const;
export const Permission = z.enum(PERMISSIONS);
export type Permission = z.infer<typeof Permission>;
export const DEFAULT_PERMISSION: Permission = "workspace-write";

/** A link of the model chain after the first: another model of the run's agent, or another agent. */
export const Fallback = z.object({ agent: AgentSettings, model: z.string().optional() });
export type Fallback = z.infer<typeof Fallback>;

/**
 * Whether a reviewer judges each task's verified commit before it is merged: who (never the implementer's own agent
 * and model) and for how many rounds; or why the run's tasks go unreviewed, for its status and report.
 */
export const ReviewSettings = z.discriminatedUnion("on", [
  z.object({
    on: z.literal(true),
    reviewer: Fallback,
    maxRounds: z.number().int().positive().default(3),
    /** Before delivery, the reviewer also judges the run branch's whole diff against its base. */
    wholeRun: z.boolean().default(true),
    /** How many times blocking findings of the whole-run review go back to the run as a task of fixes. */
    wholeRunFixes: z.number().int().nonnegative().default(1),
  }),
  z.object({ on: z.literal(false), why: z.string() }),
]);
export type ReviewSettings = z.infer<typeof ReviewSettings>;

export const GcSettings = z.object({ afterRun: z.boolean().default(false) });

/**
 * How a run that succeeds delivers its run branch (`delivery:` of orch.config.yaml, `--no-push`). `push` absent:
 * push when the remote exists. `remote` absent: the base branch's upstream remote, else `origin`.
 */
export const DeliverySettings = z.object({
  push: z.boolean().optional(),
  remote: z.string().min(1).optional(),
  pr: z.boolean().default(true),
  labels: z.array(z.string().min(1)).default([]),
  draft: z.boolean().default(false),
});
export type DeliverySettings = z.infer<typeof DeliverySettings>;

export const RunSettings = z.object({
  /** Who made the run ("cli", a test…). */
  source: z.string().optional(),
  /** The run's agent; absent only in a run journaled without it, which can be shown but not driven. */
  agent: AgentSettings.optional(),
  permission: Permission.catch(DEFAULT_PERMISSION).default(DEFAULT_PERMISSION),
  recovery: RecoverySettings.catch(() => RecoverySettings.parse({})).default(() => RecoverySettings.parse({})),
  /** The model chain after the run's own agent and model. */
  fallbacks: z.array(Fallback).default([]),
  /** A plan was given or is to be made (`--plan-file`, `--plan`): the run's tasks come from it. */
  plan: z.boolean().default(false),
  /** How many tasks may work at once. */
  concurrency: z.number().int().positive().catch(1).default(1),
  /** The agent that plans the run, when a planner makes the plan. */
  planner: Fallback.optional(),
  gc: GcSettings.catch({ afterRun: false }).default({ afterRun: false }),
  /** Verify the run's criteria on the run branch even after a merge whose tree the task was verified on. */
  verifyEveryMerge: z.boolean().catch(false).default(false),
  /** Absent in a run made before orch reviewed: its tasks were not reviewed. */
  review: ReviewSettings.optional(),
  /** How long a commit held for a human waits at each risk level before orch rejects it; absent: it waits for good. */
  approval: z
    .object({ rejectAfterMs: z.object({ medium: z.number().positive().optional(), high: z.number().positive().optional() }).default({}) })
    .catch({ rejectAfterMs: {} })
    .default({ rejectAfterMs: {} }),
  /**
   * The folder the run's worktrees are in (`<worktrees>/<run>/<task>`), recorded when the run is made. Absent in a
   * run made before it was recorded: that run's worktrees are under `.orch/worktrees/` of its repository.
   */
  worktrees: z.string().min(1).optional(),
  /** How the run delivers its branch when it succeeds. Absent in a run made before delivery existed: it delivers nothing. */
  delivery: DeliverySettings.optional().catch(undefined),
});
export type RunSettings = z.infer<typeof RunSettings>;
/** What a caller hands in: defaults may be left out. */
export type RunSettingsInput = z.input<typeof RunSettings>;
