import { describe, expect, it } from "vitest";
import type { Failure } from "./failure.js";
import { labelOf, linkAnswered, linkFailed, moveOn, newChain, nextLink, startOn, type Chain } from "./model-chain.js";

const overloaded: Failure = { kind: "overloaded", detail: "529 from the API" };
const verifyFailed: Failure = { kind: "verify_failed", detail: "`npm test` failed" };
const options = { failures: 2, cooldownMs: 60_000 };

/** Picks the next link at `now` and starts an attempt on it, as the loop does. */
function start(chain: Chain, labels: string[], now: number): { chain: Chain; pick: ReturnType<typeof nextLink> } {
  const pick = nextLink(chain, labels, now);
  return { chain: "index" in pick ? startOn(chain, pick.index, now) : chain, pick };
}

describe("the model chain", () => {
  it("names a link by the label the engine gave it, and a link it does not have as (none)", () => {
    expect([0, 1, 3].map((i) => labelOf(["opus", "codex:gpt-5"], i))).toEqual(["opus", "codex:gpt-5", "(none)"]);
  });

  it("falls back at once when the policy says so and another link is open, saying why on the next pick", () => {
    const labels = ["opus", "codex:gpt-5"];
    let { chain, pick } = start(newChain(2), labels, 0);
    expect(pick).toEqual({ index: 0, switched: undefined });
    const failed = linkFailed(chain, overloaded, "fallback", 0, options, undefined);
    expect(failed.after).toBe("fallback");
    ({ chain, pick } = start(failed.chain, labels, 1));
    expect(pick).toEqual({ index: 1, switched: "switching to model codex:gpt-5 from opus: its circuit is open after overloaded: 529 from the API" });
    expect(chain.current).toBe(1);
  });

  it("retries a link with nowhere to fall back to until its circuit opens, then waits for the cool-down and probes it", () => {
    const labels = ["opus"];
    let chain = start(newChain(1), labels, 0).chain;
    let failed = linkFailed(chain, overloaded, "fallback", 0, options, undefined);
    expect(failed.after).toBe("retry");
    chain = start(failed.chain, labels, 1).chain;
    failed = linkFailed(chain, overloaded, "retry", 1, options, undefined);
    expect(failed.after).toBe("circuit_open");
    expect(nextLink(failed.chain, labels, 2)).toEqual({ waitUntil: 60_001, reason: "circuit open for every model: opus; probing again after the cool-down" });
    expect(nextLink(failed.chain, labels, 60_001)).toEqual({ index: 0, switched: undefined });
  });

  it("keeps a link out until the reset its failure reported, not the whole cool-down", () => {
    let chain = start(newChain(1), ["opus"], 0).chain;
    chain = start(linkFailed(chain, overloaded, "retry", 0, options, 5_000).chain, ["opus"], 1).chain;
    expect(nextLink(linkFailed(chain, overloaded, "retry", 1, options, 5_000).chain, ["opus"], 2)).toMatchObject({ waitUntil: 5_000 });
  });

  it("does not count a failure of the work against the model, and a success closes the circuit", () => {
    const labels = ["opus", "codex:gpt-5"];
    let chain = start(newChain(2), labels, 0).chain;
    for (let i = 0; i < 5; i++) {
      const failed = linkFailed(chain, verifyFailed, "retry", i, options, undefined);
      expect(failed.after).toBe("retry");
      chain = failed.chain;
    }
    expect(nextLink(chain, labels, 10)).toEqual({ index: 0, switched: undefined });
    chain = linkAnswered(linkFailed(chain, overloaded, "retry", 10, options, undefined).chain);
    chain = linkFailed(chain, overloaded, "retry", 11, options, undefined).chain;
    expect(nextLink(chain, labels, 12)).toEqual({ index: 0, switched: undefined });
  });

  it("moves on for good after a stall, and says when there is nowhere left to go", () => {
    const moved = moveOn(newChain(2));
    expect(moved?.current).toBe(1);
    expect(moved && moveOn(moved)).toBeUndefined();
    // The first link is not picked again, even with its circuit closed.
    expect(moved && nextLink(moved, ["opus", "sonnet"], 0)).toEqual({ index: 1, switched: undefined });
  });

  it("starts on a link within the chain, whatever index it is given", () => {
    expect(startOn(newChain(2), 1, 0).current).toBe(1);
    expect(startOn(newChain(2), 7, 0).current).toBe(1);
  });
});
