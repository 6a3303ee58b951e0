// Money and token budgets, per run and per task: what is left for the next attempt, and, once one is spent,
// which one, in words. Pure: the loop keeps the sums.

export interface Budgets {
  runUsd?: number | undefined;
  runTokens?: number | undefined;
  taskUsd?: number | undefined;
  taskTokens?: number | undefined;
}

export interface Spent {
  runUsd: number;
  runTokens: number;
  taskUsd: number;
  taskTokens: number;
}

/** The first budget that is spent, said plainly (which one, how much of it); undefined while all have room. */
export function spentBudget(budgets: Budgets, spent: Spent): string | undefined {
  if (budgets.runUsd !== undefined && spent.runUsd >= budgets.runUsd) return `spent $${spent.runUsd.toFixed(2)} of the run's $${budgets.runUsd.toFixed(2)} budget`;
  if (budgets.taskUsd !== undefined && spent.taskUsd >= budgets.taskUsd) return `spent $${spent.taskUsd.toFixed(2)} of the task's $${budgets.taskUsd.toFixed(2)} budget`;
  if (budgets.runTokens !== undefined && spent.runTokens >= budgets.runTokens) return `used ${spent.runTokens} of the run's ${budgets.runTokens} token budget`;
  if (budgets.taskTokens !== undefined && spent.taskTokens >= budgets.taskTokens) return `used ${spent.taskTokens} of the task's ${budgets.taskTokens} token budget`;
  return undefined;
}

/** What the next attempt may still spend: the tighter of the run's and the task's budgets. */
export function budgetLeft(budgets: Budgets, spent: Spent): { usd: number | undefined; tokens: number | undefined } {
  return {
    usd: tighter(budgets.runUsd === undefined ? undefined : budgets.runUsd - spent.runUsd, budgets.taskUsd === undefined ? undefined : budgets.taskUsd - spent.taskUsd),
    tokens: tighter(
      budgets.runTokens === undefined ? undefined : budgets.runTokens - spent.runTokens,
      budgets.taskTokens === undefined ? undefined : budgets.taskTokens - spent.taskTokens,
    ),
  };
}

function tighter(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return Math.min(a, b);
}
