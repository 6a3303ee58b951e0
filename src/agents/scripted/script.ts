// The scripted session format: what a scripted agent does on each attempt, step by step. Used by the demo
// and by dry runs, so that the whole loop can be seen without credentials. YAML or JSON.
import { readFileSync } from "node:fs";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { UsageError } from "../../core/errors.js";

const Step = z.union([
  z.object({ say: z.string() }).strict(),
  z.object({ write: z.object({ path: z.string().min(1), content: z.string() }).strict() }).strict(),
  z.object({ append: z.object({ path: z.string().min(1), content: z.string() }).strict() }).strict(),
  z.object({ delete: z.string().min(1) }).strict(),
  z.object({ run: z.string().min(1) }).strict(),
  z.object({ sleep: z.number().int().nonnegative() }).strict(),
  /** Print nothing and never finish: exercises the stall timer. */
  z.object({ hang: z.literal(true) }).strict(),
  /** Print a raw line (for testing parsers and odd output). */
  z.object({ emit: z.string() }).strict(),
]);
export type Step = z.infer<typeof Step>;

const Attempt = z
  .object({
    steps: z.array(Step).default([]),
    /** The final message of the session. */
    result: z.string().optional(),
    usage: z.object({ inputTokens: z.number().int().nonnegative(), outputTokens: z.number().int().nonnegative() }).strict().optional(),
    /** A cost to report as if a model had been paid (for testing budgets); without it the agent reports none. */
    costUsd: z.number().nonnegative().optional(),
    /** Exit code of the scripted process (default 0); stderr gets `stderr` first. */
    exit: z.number().int().min(0).max(255).default(0),
    stderr: z.string().optional(),
  })
  .strict();

export const Script = z
  .object({
    model: z.string().default("scripted"),
    /** One entry per attempt; attempts past the end repeat the last entry. */
    attempts: z.array(Attempt).min(1),
  })
  .strict();
export type Script = z.infer<typeof Script>;
export type ScriptedAttempt = z.infer<typeof Attempt>;

export function parseScript(text: string, source: string): Script {
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (error) {
    throw new UsageError(`the script ${source} is not valid YAML or JSON: ${error instanceof Error ? error.message : String(error)}`, {
      hint: "fix the syntax; `orch demo` writes an example script you can copy",
    });
  }
  const parsed = Script.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue === undefined || issue.path.length === 0 ? "(top level)" : issue.path.join(".");
    throw new UsageError(`the script ${source} is not a valid scripted session: at ${where}: ${issue?.message ?? "invalid"}`, {
      hint: "a script is { attempts: [ { steps: [ {say}, {write: {path, content}}, {run}, … ] } ] }",
    });
  }
  return parsed.data;
}

export function loadScript(path: string): Script {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new UsageError(`cannot read the script ${path}: ${error instanceof Error ? error.message : String(error)}`, {
      hint: "pass an existing file to --script",
    });
  }
  return parseScript(text, path);
}

export function attemptScript(script: Script, attempt: number): ScriptedAttempt {
  const index = Math.min(Math.max(1, attempt), script.attempts.length) - 1;
  const entry = script.attempts[index];
  if (entry === undefined) throw new Error("a script has at least one attempt");
  return entry;
}
