// Goals as people write them: `orch plan "- add docs\n- add tests"` starts with a dash, which commander takes for
// an option. This module finds such a goal among a command's arguments before commander parses them; it keeps
// commander's own reading of every real option.

/** What commander knows of one option of the command. */
export interface KnownOption {
  long?: string | undefined;
  short?: string | undefined;
  /** `--opt <value>` (always takes the next argument) or `--opt [value]` (takes it unless it starts with -). */
  value: "required" | "optional" | "none";
}

export interface DashGoal {
  /** The arguments to parse: the goal moved after `--` when it was found. */
  args: string[];
  /** An argument that is neither an option of the command nor a long option's shape (`- add docs`, `-fix`), when
   * the goal was not found: commander will call it an unknown option, and the user should hear about `--`. */
  stray: string | undefined;
}

/**
 * `args` (after the command name) with a goal that starts with `-` moved after `--`, so that commander reads it
 * as the goal: it must be the only positional text, and hold a space or a line break (no option does). Anything
 * else is left for commander to judge.
 */
export function findDashGoal(args: readonly string[], options: readonly KnownOption[]): DashGoal {
  const byName = new Map<string, KnownOption>();
  for (const option of [...options, { long: "--help", short: "-h", value: "none" as const }]) {
    if (option.long !== undefined) byName.set(option.long, option);
    if (option.short !== undefined) byName.set(option.short, option);
  }
  const positionals: number[] = [];
  const candidates: number[] = [];
  let stray: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? "";
    if (arg === "--") return { args: [...args], stray: undefined };
    if (!arg.startsWith("-") || arg === "-") {
      positionals.push(i);
      continue;
    }
    const [name = arg, inline] = arg.startsWith("--") ? splitOnce(arg, "=") : [arg, undefined];
    const option = byName.get(name);
    if (option !== undefined) {
      const next = args[i + 1];
      if (inline === undefined && (option.value === "required" || (option.value === "optional" && next !== undefined && !next.startsWith("-")))) i++;
      continue;
    }
    if (/\s/.test(arg)) candidates.push(i);
    if (!/^--[A-Za-z]/.test(arg)) stray ??= arg;
  }
  const [only] = candidates;
  if (only === undefined || candidates.length > 1 || positionals.length > 0) return { args: [...args], stray };
  const goal = args[only] ?? "";
  return { args: [...args.slice(0, only), ...args.slice(only + 1), "--", goal], stray: undefined };
}

function splitOnce(text: string, separator: string): [string, string | undefined] {
  const at = text.indexOf(separator);
  return at < 0 ? [text, undefined] : [text.slice(0, at), text.slice(at + 1)];
}
