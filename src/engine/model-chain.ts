// The chain of agents and models one task's attempts run on, as the engine holds it: the adapters to start, and
// how the journal names each link. Which link an attempt uses is the fold's choice (core/model-chain.ts).
import type { AgentAdapter } from "../agents/agent.js";

export interface ChainLink {
  adapter: AgentAdapter;
  /** Undefined: the CLI's own default model. */
  model: string | undefined;
}

/** Each link as the journal names it: the model alone on the run's own agent, `agent:model` on another. */
export function chainLabels(links: readonly ChainLink[]): string[] {
  const primary = links[0]?.adapter.name;
  return links.map((link) => {
    const model = link.model ?? "(default)";
    return link.adapter.name === primary ? model : `${link.adapter.name}:${model}`;
  });
}

/** The chain link an attempt ran on: its agent and model, or its agent alone, or the first link. */
export function linkIndex(links: readonly ChainLink[], agent: string, model: string | undefined): number {
  const exact = links.findIndex((link) => link.adapter.name === agent && (link.model === undefined || link.model === model));
  if (exact >= 0) return exact;
  const byAgent = links.findIndex((link) => link.adapter.name === agent);
  return Math.max(0, byAgent);
}
