import { describe, expect, it } from "vitest";
import { commandExecutable } from "./shell-command.js";

describe("commandExecutable", () => {
  it("names the first word of a simple command", () => {
    expect(commandExecutable("pytest -q")).toBe("pytest");
    expect(commandExecutable("  ./fixer.sh --fast")).toBe("./fixer.sh");
    expect(commandExecutable("/usr/bin/make test")).toBe("/usr/bin/make");
    expect(commandExecutable("scripts/check.sh")).toBe("scripts/check.sh");
  });

  it("judges nothing it cannot: builtins, keywords, shell syntax in the first word", () => {
    for (const command of [
      "true",
      "test -f out/done.txt",
      "echo ok > done.txt",
      "cd sub && make",
      "if true; then :; fi",
      "FOO=1 make",
      "$HOME/bin/x",
      "'./my script.sh'",
      "\"./x\"",
      "~/bin/x",
      "(cd sub && make)",
      "{ make; }",
      "./a;./b",
      "make&&x",
      "*.sh",
      "-x",
      "",
      "   ",
    ]) {
      expect(commandExecutable(command), command).toBeUndefined();
    }
  });
});
