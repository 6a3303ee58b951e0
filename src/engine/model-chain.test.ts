import { describe, expect, it } from "vitest";
import type { AgentAdapter } from "../agents/agent.js";
import type { Failure } from "../core/failure.js";
import { ModelChain, type ChainLink } from "./model-chain.js";

const link = (agent: string, model: string | undefined): ChainLink => ({ adapter: { name: agent } as AgentAdapter, model });
const overloaded: Failure = { kind: "overloaded", detail: "529 from the API" };
const verifyFailed: Failure = { kind: "verify_failed", detail: "`npm test` failed" };
const options = { failures: 2, cooldownMs: 60_000 };
const never = () => undefined;

describe("ModelChain", () => {
  it("names a link by its model on the run's own agent, agent:model on another", () => {
    const chain = new ModelChain([link("claude-code", "opus"), link("claude-code", undefined), link("codex", "gpt-5")], options);
    expect([0, 1, 2, 3].map((i) => chain.label(i))).toEqual(["opus", "(default)", "codex:gpt-5", "(none)"]);
  });

  it("falls back at once when the policy says so and another link is open, saying why on the next pick", () => {
    const chain = new ModelChain([link("claude-code", "opus"), link("codex", "gpt-5")], options);
    expect(chain.next(0)).toEqual({ index: 0, switched: undefined });
    expect(chain.failed(overloaded, "fallback", 0, never)).toBe("fallback");
    expect(chain.next(1)).toEqual({ index: 1, switched: "switching to model codex:gpt-5 from opus: its circuit is open after overloaded: 529 from the API" });
    expect(chain.link().model).toBe("gpt-5");
  });

  it("retries a link with nowhere to fall back to until its circuit opens, then waits for the cool-down and probes it", () => {
    const chain = new ModelChain([link("claude-code", "opus")], options);
    chain.next(0);
    expect(chain.failed(overloaded, "fallback", 0, never)).toBe("retry");
    chain.next(1);
    expect(chain.failed(overloaded, "retry", 1, never)).toBe("circuit_open");
    expect(chain.next(2)).toEqual({ waitUntil: 60_001, reason: "circuit open for every model: opus; probing again after the cool-down" });
    expect(chain.next(60_001)).toEqual({ index: 0, switched: undefined });
  });

  it("keeps a link out until the reset its failure reported, not the whole cool-down", () => {
    const chain = new ModelChain([link("claude-code", "opus")], options);
    chain.next(0);
    chain.failed(overloaded, "retry", 0, () => 5_000);
    chain.next(1);
    chain.failed(overloaded, "retry", 1, () => 5_000);
    expect(chain.next(2)).toMatchObject({ waitUntil: 5_000 });
  });

  it("does not count a failure of the work against the model, and a success closes the circuit", () => {
    const chain = new ModelChain([link("claude-code", "opus"), link("codex", "gpt-5")], options);
    chain.next(0);
    for (let i = 0; i < 5; i++) expect(chain.failed(verifyFailed, "retry", i, never)).toBe("retry");
    expect(chain.next(10)).toEqual({ index: 0, switched: undefined });
    chain.failed(overloaded, "retry", 10, never);
    chain.succeeded();
    chain.failed(overloaded, "retry", 11, never);
    expect(chain.next(12)).toEqual({ index: 0, switched: undefined });
  });

  it("moves on for good after a stall, and says when there is nowhere left to go", () => {
    const chain = new ModelChain([link("claude-code", "opus"), link("claude-code", "sonnet")], options, 0);
    expect(chain.moveOn()).toBe(true);
    expect(chain.label()).toBe("sonnet");
    expect(chain.moveOn()).toBe(false);
    // The first link is not picked again, even with its circuit closed.
    expect(chain.next(0)).toEqual({ index: 1, switched: undefined });
  });

  it("starts a restored loop on the link it was on, within the chain", () => {
    expect(new ModelChain([link("a", "m1"), link("a", "m2")], options, 1).index).toBe(1);
    expect(new ModelChain([link("a", "m1"), link("a", "m2")], options, 7).index).toBe(1);
  });
});
