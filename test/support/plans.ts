// The plan the tests of planned runs share: six tasks in two parallel branches and a join, for the
// plan-task.sh fixture agent, and the repository it runs in.

// The run's criterion, on every task's worktree and on the run branch after every merge: no conflict marker
// left anywhere, and no changelog line twice.
const CHECK = `import { readFileSync, existsSync } from "node:fs";
import { execFileSync } from "node:child_process";
const files = execFileSync("git", ["ls-files", "--cached", "--others", "--exclude-standard"], { encoding: "utf8" }).split("\\n").filter(Boolean);
for (const f of files) {
  if (!existsSync(f)) continue;
  if (/^(<<<<<<<|>>>>>>>) /m.test(readFileSync(f, "utf8"))) { console.log("conflict markers in " + f); process.exit(1); }
}
const lines = readFileSync("CHANGELOG.md", "utf8").split("\\n").filter((l) => l.startsWith("- "));
if (new Set(lines).size !== lines.length) { console.log("a changelog line twice"); process.exit(1); }
console.log("ok");
`;
export const FILES = { "check.mjs": CHECK, "CHANGELOG.md": "# Changelog\n" };

export const task = (id: string, dependsOn: string[], extra: Record<string, unknown> = {}) => ({
  id,
  title: `make ${id}`,
  goal: `write out/${id}.txt and note it in CHANGELOG.md`,
  acceptance: [`out/${id}.txt exists`],
  files: [`out/${id}.txt`, "CHANGELOG.md"],
  dependsOn,
  verify: [`test -f out/${id}.txt`],
  ...extra,
});
/** setup → (api → api-tests) ∥ (ui → ui-tests) → docs; api and ui both append to CHANGELOG.md (the fixture). */
export const PLAN = {
  tasks: [
    task("setup", []),
    task("api", ["setup"], { priority: 2 }),
    task("ui", ["setup"], { priority: 1 }),
    task("api-tests", ["api"]),
    task("ui-tests", ["ui"]),
    task("docs", ["api-tests", "ui-tests"]),
  ],
};

