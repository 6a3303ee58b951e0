// Bad input through the built CLI: every mistake a user can make is exit 2, a message on stderr in plain
// words that names the problem and says what to do, nothing on stdout, and nothing written — no `.orch/`,
// no branch, no worktree, no change to `.git/info/exclude`, no orch.config.yaml.
import { createHash } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { parseRunResult, type CliResult } from "./support/cli.js";
import { AGENTS, fixtureAgent, useSandboxes, type OrchSandbox } from "./support/e2e.js";

const AGENT = fixtureAgent("fix-on-attempt.sh");
const FILES = {
  "sum.mjs": "export function sum(a, b) {\n  return a - b;\n}\n",
  "test.mjs": 'import { sum } from "./sum.mjs";\nprocess.exit(sum(2, 3) === 5 ? 0 : 1);\n',
};

const sandboxes = useSandboxes({ prefix: "orch-cli-errors-", graceMs: 3_000 });
const newRepo = (): OrchSandbox => sandboxes.orchRepo(FILES);

const CODE_CACHE_FOLDERS = /(^|\/)\.cache(\/orch(\/compile-cache)?)?$/;

/**
 * Every file under the sandbox (the repository, its .git, HOME, TMPDIR) with a hash of its content, and
 * every directory; git's object store is left out (a failed command writes no objects, and it is large).
 */
function snapshot(dir: string): string[] {
  const entries: string[] = [];
  const walk = (at: string): void => {
    for (const entry of readdirSync(at, { withFileTypes: true })) {
      const full = join(at, entry.name);
      const rel = relative(dir, full);
      if (rel.endsWith(".git/objects")) continue;
      // The CLI's own code cache (src/cli/chunk-loader.ts) and the folders made for it: any start may write it,
      // as node writes its own. Anything else in those folders still counts.
      if (CODE_CACHE_FOLDERS.test(rel)) {
        if (!rel.endsWith("compile-cache")) walk(full);
        continue;
      }
      if (entry.isDirectory()) {
        entries.push(`${rel}/`);
        walk(full);
      } else {
        entries.push(`${rel} ${createHash("sha1").update(readFileSync(full)).digest("hex")}`);
      }
    }
  };
  walk(dir);
  return entries.sort();
}

/** Runs `args` and checks the refusal: exit 2, each pattern on stderr, stdout empty, the sandbox unchanged. */
async function expectRefused(box: OrchSandbox, args: readonly string[], patterns: readonly RegExp[], cwd?: string): Promise<CliResult> {
  const before = snapshot(box.repo.root);
  const result = await box.orch(args, cwd === undefined ? {} : { cwd });
  expect(result.code, `exit code of orch ${args.join(" ")}; stderr:\n${result.stderr}`).toBe(2);
  for (const pattern of patterns) expect(result.stderr).toMatch(pattern);
  // Plain words, not a crash.
  expect(result.stderr).not.toMatch(/internal error|^\s+at /m);
  expect(result.stdout).toBe("");
  expect(snapshot(box.repo.root)).toEqual(before);
  return result;
}

describe("where orch runs", () => {
  it("not a git repository: run and init refuse, nothing is created", async () => {
    const box = newRepo();
    const { repo } = box;
    const plain = join(repo.root, "plain");
    mkdirSync(plain);
    const problem = new RegExp(`^orch: ${plain} is not a git repository$`, "m");
    const fix = /run `git init` there and make a first commit, or cd into your project/;
    await expectRefused(box, ["run", "fix it", "--verify", "node test.mjs", "--agent-command", AGENT], [problem, fix], plain);
    await expectRefused(box, ["init"], [problem, fix], plain);
    expect(readdirSync(plain)).toEqual([]);
  });

  it("a repository with no commit yet", async () => {
    const box = newRepo();
    const { repo } = box;
    const fresh = join(repo.root, "fresh");
    mkdirSync(fresh);
    repo.git(["init", "--quiet"], fresh);
    await expectRefused(
      box,
      ["run", "fix it", "--verify", "node test.mjs", "--agent-command", AGENT],
      [new RegExp(`the repository at ${fresh} has no commit yet`), /make a first commit \(git add -A && git commit -m "first commit"\)/],
      fresh,
    );
  });
});

describe("orch run with bad arguments", () => {
  const run = (...args: string[]) => ["run", ...args];
  const ok = ["--verify", "node test.mjs", "--agent-command", AGENT];
  const cases: [string, string[], RegExp[]][] = [
    ["an unknown --base", run("fix it", ...ok, "--base", "nope"), [/base branch "nope" does not exist/, /existing branches: main/]],
    ["no --verify", run("fix it", "--agent-command", AGENT), [/no verify command: orch needs at least one command/, /add --verify "npm test" \(or set verify: in orch\.config\.yaml\)/]],
    ["only blank --verify commands", run("fix it", "--verify", "  ", "--agent-command", AGENT), [/no verify command/, /add --verify/]],
    ["an empty goal", run("", ...ok), [/the goal is empty/, /say what to achieve: orch run "make the failing tests pass"/]],
    ["a blank goal", run("   ", ...ok), [/the goal is empty/]],
    ["an unknown --agent", run("fix it", "--verify", "node test.mjs", "--agent", "nope"), [/unknown agent "nope"/, /choose one of: claude-code, codex, gemini, opencode, command, scripted/]],
    ["--agent that contradicts --agent-command", run("fix it", ...ok, "--agent", "scripted"), [/--agent scripted does not match --agent-command/, /drop --agent/]],
    ["--agent command without a command", run("fix it", "--verify", "node test.mjs", "--agent", "command"), [/the command agent needs a command/, /pass --agent-command/]],
    ["--max-attempts 0", run("fix it", ...ok, "--max-attempts", "0"), [/--max-attempts must be a whole number above 0, not "0"/]],
    ["--max-attempts abc", run("fix it", ...ok, "--max-attempts", "abc"), [/--max-attempts must be a whole number above 0, not "abc"/]],
    ["--max-attempts 1.5", run("fix it", ...ok, "--max-attempts", "1.5"), [/--max-attempts must be a whole number above 0, not "1\.5"/]],
    ["--max-hours 0", run("fix it", ...ok, "--max-hours", "0"), [/--max-hours must be a number above 0, not "0"/]],
    ["a bad --max-hours", run("fix it", ...ok, "--max-hours", "2x"), [/--max-hours must be a number of hours or a duration such as 90m or 2h, above 0, not "2x"/]],
    ["--stall-attempts none", run("fix it", ...ok, "--stall-attempts", "none"), [/--stall-attempts must be a whole number above 0, not "none"/]],
    ["a bad --interval", run("fix it", ...ok, "--interval", "5x"), [/--interval must be a duration such as 30s, 5m, 2h or 1h30m, not "5x"/]],
    ["a bad --stall-timeout", run("fix it", ...ok, "--stall-timeout", "soon"), [/--stall-timeout must be a duration such as 30s, 5m, 2h or 1h30m, not "soon"/]],
    ["a bad --attempt-timeout", run("fix it", ...ok, "--attempt-timeout", "-1m"), [/--attempt-timeout must be a duration/]],
    ["a bad --verify-timeout", run("fix it", ...ok, "--verify-timeout", "soon"), [/--verify-timeout must be a duration/]],
    ["--budget-usd -1", run("fix it", ...ok, "--budget-usd", "-1"), [/--budget-usd must be a number above 0, not "-1"/]],
    ["--budget-usd zero", run("fix it", ...ok, "--budget-usd", "0"), [/--budget-usd must be a number above 0, not "0"/]],
    ["a bad --max-agent-memory", run("fix it", ...ok, "--max-agent-memory", "lots"), [/--max-agent-memory must be a size such as 512m, 4g or 1\.5g, not "lots"/]],
    ["--max-agent-memory without a unit", run("fix it", ...ok, "--max-agent-memory", "4096"), [/--max-agent-memory must be a size such as 512m, 4g or 1\.5g, not "4096"/]],
    ["--max-agent-memory 0m", run("fix it", ...ok, "--max-agent-memory", "0m"), [/--max-agent-memory must be a size/]],
    ["--script naming a missing file", run("fix it", "--verify", "node test.mjs", "--script", "no-such-script.yaml"), [/cannot read the script .*no-such-script\.yaml: ENOENT/, /pass an existing file to --script/]],
    ["both --agent-command and --script", run("fix it", "--verify", "node test.mjs", "--agent-command", AGENT, "--script", join(AGENTS, "costly-script.yaml")), [/--agent-command and --script choose different agents; pass one of them/]],
    ["an unknown option", run("fix it", ...ok, "--frobnicate"), [/unknown option '--frobnicate'/, /orch --help lists the commands/]],
    ["a second goal that starts with a dash", run("fix it", "- and more", ...ok), [/unknown option '- and more'/, /a goal that starts with "-" goes last, after --: orch run \[options\] -- "- and more"/]],
    ["a missing goal argument", run("--verify", "node test.mjs", "--agent-command", AGENT), [/missing required argument 'goal'/, /orch --help lists the commands/]],
    ["an option without its value", run("fix it", "--agent-command", AGENT, "--verify"), [/option '--verify <cmd>' argument missing/]],
    ["an unknown command", ["frobnicate"], [/unknown command 'frobnicate'/, /orch --help lists the commands/]],
  ];
  it.each(cases)("%s", async (_name, args, patterns) => {
    await expectRefused(newRepo(), args, patterns);
  });

  it("--script with content that is not a scripted session", async () => {
    const box = newRepo();
    const { repo } = box;
    const notYaml = join(repo.root, "broken.yaml");
    writeFileSync(notYaml, "attempts: [\n");
    await expectRefused(box, ["run", "fix it", "--verify", "node test.mjs", "--script", notYaml], [
      new RegExp(`the script ${notYaml} is not valid YAML or JSON`),
      /fix the syntax; `orch demo` writes an example script you can copy/,
    ]);
    const wrong = join(repo.root, "wrong.yaml");
    writeFileSync(wrong, "attempts:\n  - steps:\n      - shout: hello\n");
    await expectRefused(box, ["run", "fix it", "--verify", "node test.mjs", "--script", wrong], [
      new RegExp(`the script ${wrong} is not a valid scripted session: at attempts\\.0\\.steps\\.0`),
      /a script is \{ attempts: \[ \{ steps: \[/,
    ]);
    const empty = join(repo.root, "empty.yaml");
    writeFileSync(empty, "attempts: []\n");
    await expectRefused(box, ["run", "fix it", "--verify", "node test.mjs", "--script", empty], [/is not a valid scripted session: at attempts/]);
  });
});

describe("a bad orch.config.yaml", () => {
  const cases: [string, string, RegExp[]][] = [
    [
      "a syntax error",
      "verify:\n  - node test.mjs\nlimits: {maxAttempts: 3\n",
      [/orch\.config\.yaml:\d+:\d+ is not valid YAML: /, /fix the syntax, or run `orch init --force` to write a fresh file/],
    ],
    [
      "an unknown key",
      "verify:\n  - node test.mjs\nlimits:\n  interval: 0s\n  maxAtempts: 3\n",
      [/orch\.config\.yaml:5: limits: unknown setting "maxAtempts"/, /see the commented defaults that `orch init` writes/],
    ],
    [
      "an unknown top-level key",
      "verfy:\n  - node test.mjs\n",
      [/orch\.config\.yaml:1: the top level: unknown setting "verfy"/],
    ],
    [
      "a value of the wrong type",
      "verify:\n  - node test.mjs\nlimits:\n  maxAttempts: three\n",
      [/orch\.config\.yaml:4: limits\.maxAttempts: expected number/, /see the commented defaults/],
    ],
    [
      "a number out of range",
      "verify:\n  - node test.mjs\nlimits:\n  maxAttempts: 0\n",
      [/orch\.config\.yaml:4: limits\.maxAttempts: /],
    ],
    [
      "a bad duration",
      "verify:\n  - node test.mjs\nlimits:\n  stallTimeout: soon\n",
      [/orch\.config\.yaml:4: limits\.stallTimeout: expected a duration such as 30s, 5m, 2h or 1h30m/],
    ],
    [
      "a bad size",
      "verify:\n  - node test.mjs\nlimits:\n  agentMaxRss: lots\n",
      [/orch\.config\.yaml:4: limits\.agentMaxRss: expected a size such as 512m, 4g or 1\.5g/],
    ],
    [
      "a transcript size of zero",
      "verify:\n  - node test.mjs\nlimits:\n  transcriptMaxMb: 0\n",
      [/orch\.config\.yaml:4: limits\.transcriptMaxMb: /],
    ],
    [
      "an unknown agent",
      "agent: gpt\nverify:\n  - node test.mjs\n",
      [/orch\.config\.yaml:1: agent: must be one of "claude-code", "codex", "gemini", "opencode", "command", "scripted"/],
    ],
  ];
  it.each(cases)("%s", async (_name, content, patterns) => {
    const box = newRepo();
    const { repo } = box;
    writeFileSync(join(repo.dir, "orch.config.yaml"), content);
    await expectRefused(box, ["run", "fix it", "--agent-command", AGENT], patterns);
  });

  it("four mistakes are one message that lists them all with their lines", async () => {
    const box = newRepo();
    const { repo } = box;
    const config = ["agent: gpt", "verify:", "  - node test.mjs", "limits:", "  maxAtempts: 3", "  maxHours: three", "  stallTimeout: soon", ""].join("\n");
    writeFileSync(join(repo.dir, "orch.config.yaml"), config);
    const file = join(repo.dir, "orch.config.yaml");
    const result = await expectRefused(box, ["run", "fix it", "--agent-command", AGENT], []);
    expect(result.stderr).toBe(
      [
        `orch: ${file} has 4 problems:`,
        `  ${file}:1: agent: must be one of "claude-code", "codex", "gemini", "opencode", "command", "scripted"`,
        `  ${file}:5: limits: unknown setting "maxAtempts"; did you mean "maxAttempts"?`,
        `  ${file}:6: limits.maxHours: expected number, not "three"`,
        `  ${file}:7: limits.stallTimeout: expected a duration such as 30s, 5m, 2h or 1h30m`,
        "  see the commented defaults that `orch init` writes for every allowed setting",
        "",
      ].join("\n"),
    );
  });
});

describe("a planner that cannot start", () => {
  it("run on a list goal and plan name the missing binary and write nothing", async () => {
    const box = newRepo();
    writeFileSync(join(box.repo.dir, "orch.config.yaml"), "agents:\n  claude-code:\n    bin: orch-no-such-claude\n");
    const missing = [/^orch: the claude-code agent's binary `orch-no-such-claude` was not found; install it or choose another with --planner$/m, /`orch doctor` says how to install each agent CLI, set agents\.claude-code\.bin in orch\.config\.yaml, or pass --planner AGENT\[:MODEL\]/];
    await expectRefused(box, ["run", "- fix sum\n- keep the test", "--verify", "node test.mjs"], missing);
    await expectRefused(box, ["run", "fix it", "--verify", "node test.mjs", "--agent-command", AGENT, "--planner", "claude-code"], missing);
    await expectRefused(box, ["plan", "fix it"], missing);
  });
});

describe("commands on runs that do not exist or have ended", () => {
  it("status, logs and report in a repository without runs: exit 2, no .orch/ created", async () => {
    const box = newRepo();
    const { repo } = box;
    const noRuns = [new RegExp(`no orch runs in ${repo.dir} yet`), /start one with: orch run "<goal>" --verify "<command>"/];
    await expectRefused(box, ["status"], noRuns);
    await expectRefused(box, ["status", "nope"], noRuns);
    await expectRefused(box, ["logs", "nope"], noRuns);
    await expectRefused(box, ["report", "nope"], noRuns);
    await expectRefused(box, ["stop", "nope"], noRuns);
  });

  it("an unknown run id, an unknown task, and stop/abort of a finished run: exit 2, the run left as it was", async () => {
    const box = newRepo();
    const { repo } = box;
    const finished = await box.orch(["run", "fix it", "--verify", "node test.mjs", "--agent-command", AGENT, "--max-attempts", "1", "--json"]);
    expect(finished.code, finished.stderr).toBe(1);
    const { runId } = parseRunResult(finished);
    const unknown = [/no run "nope"/, /`orch list` shows the runs of this repository/];
    await expectRefused(box, ["status", "nope", "--json"], unknown);
    await expectRefused(box, ["logs", "nope"], unknown);
    await expectRefused(box, ["logs", "nope", "-f"], unknown);
    await expectRefused(box, ["report", "nope", "--out", join(repo.root, "report.md")], unknown);
    await expectRefused(box, ["logs", `${runId}/no-such-task`], [new RegExp(`run ${runId} has no task "no-such-task"`), /`orch status .*` lists its tasks/]);
    await expectRefused(box, ["stop"], [/^orch: no run is live, so there is none to stop$/m, /name one: orch stop RUN \(`orch list` shows the runs\)/]);
    for (const mode of ["stop", "abort"]) {
      await expectRefused(box, [mode, runId], [
        new RegExp(`run ${runId} has already ended \\(failed\\)`),
        new RegExp(`\`orch report ${runId}\` shows how it ended`),
      ]);
    }
  });
});
