// The options every CLI adapter takes, `bin` and `extraArgs`: checked once when the adapter is made, so that a
// bad configuration fails at start-up rather than on an attempt, and copied, so the caller's array is not shared.
import { UsageError } from "../core/errors.js";

export interface CliOptions {
  bin?: string | undefined;
  extraArgs?: string[] | undefined;
}

/** The options with their own copy of `extraArgs`; a UsageError naming the agent for an empty `bin`. */
export function checkCliOptions<O extends CliOptions>(agent: string, options: O): O {
  if (options.bin !== undefined && options.bin.trim() === "") throw new UsageError(`${agent}: bin must not be empty`);
  return { ...options, extraArgs: options.extraArgs === undefined ? undefined : [...options.extraArgs] };
}
