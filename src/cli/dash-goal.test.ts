import { describe, expect, it } from "vitest";
import { findDashGoal, type KnownOption } from "./dash-goal.js";

const OPTIONS: KnownOption[] = [
  { long: "--verify", value: "required" },
  { long: "--agent-command", value: "required" },
  { long: "--plan", value: "none" },
  { long: "--no-plan", value: "none" },
  { long: "--follow", short: "-f", value: "none" },
];
const LIST = "- add docs\n- add tests";

describe("a goal that starts with a dash", () => {
  it("is moved after -- when it is the only positional text, wherever it stands among the options", () => {
    expect(findDashGoal([LIST], OPTIONS)).toEqual({ args: ["--", LIST], stray: undefined });
    expect(findDashGoal([LIST, "--verify", "npm test", "--plan"], OPTIONS)).toEqual({ args: ["--verify", "npm test", "--plan", "--", LIST], stray: undefined });
    expect(findDashGoal(["--verify", "- npm test", "- fix it"], OPTIONS).args).toEqual(["--verify", "- npm test", "--", "- fix it"]);
    expect(findDashGoal(["--verify=npm test", LIST], OPTIONS).args).toEqual(["--verify=npm test", "--", LIST]);
  });

  it("an option's value that starts with a dash stays that option's value", () => {
    expect(findDashGoal(["fix it", "--agent-command", "- run me"], OPTIONS)).toEqual({ args: ["fix it", "--agent-command", "- run me"], stray: undefined });
  });

  it("is left for commander when another positional is there, when there are two, or after the user's own --", () => {
    expect(findDashGoal(["fix it", LIST], OPTIONS)).toEqual({ args: ["fix it", LIST], stray: LIST });
    expect(findDashGoal([LIST, "- more things"], OPTIONS)).toEqual({ args: [LIST, "- more things"], stray: LIST });
    expect(findDashGoal(["--", LIST], OPTIONS)).toEqual({ args: ["--", LIST], stray: undefined });
  });

  it("an unknown option stays one; a dash word with no space is named for the hint about --", () => {
    expect(findDashGoal(["fix it", "--frobnicate"], OPTIONS)).toEqual({ args: ["fix it", "--frobnicate"], stray: undefined });
    expect(findDashGoal(["-fix"], OPTIONS)).toEqual({ args: ["-fix"], stray: "-fix" });
    expect(findDashGoal(["-f", "fix it"], OPTIONS).stray).toBeUndefined();
  });
});
