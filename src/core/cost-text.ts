// A run's cost in words: dollars only where an agent reported them. The scripted and command agents call no
// priced model, so their runs say so instead of showing a figure nobody paid.

/** `$0.0123`, `$4.20`. */
export function money(usd: number): string {
  return `$${usd.toFixed(usd < 1 ? 4 : 2)}`;
}

const NO_MODEL: Record<string, string> = {
  scripted: "none: the scripted agent calls no model",
  command: "none reported: the command agent reports no cost",
};

/** What a run (or attempt) cost, given what its agents reported and the run's agent. */
export function describeCost(usd: number, agent: string): string {
  if (usd > 0) return money(usd);
  return NO_MODEL[agent] ?? "none reported by the agent";
}
