import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { describeRunDelivery, pullRequestBody, pullRequestTitle, shellWord } from "./delivery-text.js";
import { RunSettings } from "./run-settings.js";

describe("pullRequestTitle", () => {
  it("is the goal's first line, without a list marker, bounded", () => {
    expect(pullRequestTitle("fix the login bug\n\nit fails on Safari")).toBe("fix the login bug");
    expect(pullRequestTitle("- add auth\n- add its docs")).toBe("add auth");
    expect(pullRequestTitle("x".repeat(300))).toHaveLength(120);
    expect(pullRequestTitle("  \n")).toBe("orch run");
  });
});

describe("pullRequestBody", () => {
  it("keeps a report GitHub takes whole, and cuts a longer one saying where the rest is", () => {
    expect(pullRequestBody("short", "r.md")).toBe("short");
    const body = pullRequestBody("y".repeat(70_000), "r.md");
    expect(body.length).toBeLessThanOrEqual(65_536);
    expect(body).toContain("`r.md`");
  });
});

describe("shellWord", () => {
  it("reads back through sh as the same word", () => {
    for (const word of ["orch/r1/_run", "it's a 'title' with $HOME and `ticks`", "", "a b"]) {
      expect(execFileSync("/bin/sh", ["-c", `printf %s ${shellWord(word)}`], { encoding: "utf8" })).toBe(word);
    }
  });
});

describe("describeRunDelivery", () => {
  it("names the remote and the short sha of a push, the URL of a pull request", () => {
    expect(describeRunDelivery({ outcome: "pushed", remote: "origin", branch: "orch/r/_run", sha: "0123456789abcdef" })).toBe("pushed orch/r/_run to origin at 0123456789ab");
    expect(describeRunDelivery({ outcome: "pr-opened", url: "https://github.com/a/b/pull/3", number: 3 })).toBe("pull request opened: https://github.com/a/b/pull/3");
  });
});

describe("the run's delivery settings", () => {
  it("are absent in a run made before delivery existed, and one that does not parse delivers nothing", () => {
    expect(RunSettings.parse({}).delivery).toBeUndefined();
    expect(RunSettings.parse({ delivery: { push: "sometimes" } }).delivery).toBeUndefined();
    expect(RunSettings.parse({ delivery: { push: false } }).delivery).toEqual({ push: false, pr: true, labels: [], draft: false });
  });
});
