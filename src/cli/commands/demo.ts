// `orch demo`: a throw-away repository with a failing test, converged by the scripted agent (its first
// attempt only half right, its second right), so a new user sees the whole loop in seconds, no credentials.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { findExecutable } from "../../agents/detect.js";
import type { CliContext } from "../context.js";
import { runCommand } from "./run.js";

const BUGGY = `// Adds numbers. (Two bugs here: orch's demo agent will find them.)
export function sum(a, b) {
  return a - b;
}

export function sumAll(values) {
  return values.reduce((total, value) => sum(total, value), 1);
}
`;

const HALF_FIXED = `// Adds numbers.
export function sum(a, b) {
  return a + b;
}

export function sumAll(values) {
  return values.reduce((total, value) => sum(total, value), 1);
}
`;

const FIXED = `// Adds numbers.
export function sum(a, b) {
  return a + b;
}

export function sumAll(values) {
  return values.reduce((total, value) => sum(total, value), 0);
}
`;

const TEST = `import { test } from "node:test";
import assert from "node:assert/strict";
import { sum, sumAll } from "../src/sum.js";

test("sum adds two numbers", () => {
  assert.equal(sum(2, 3), 5);
});

test("sumAll adds a list", () => {
  assert.equal(sumAll([1, 2, 3]), 6);
});
`;

/**
 * The scripted session: YAML, the same format `--script` takes, written beside the demo repository. It calls no
 * model, so it states no tokens and no cost: the demo's report shows none rather than an invented figure.
 */
export function demoScript(): string {
  const block = (text: string) => text.replace(/^/gm, "            ").trimEnd();
  return `# A scripted agent session for orch's demo: one entry per attempt.
model: scripted-demo
attempts:
  - steps:
      - say: "The test expects sum(2, 3) to be 5, but sum subtracts. Fixing sum."
      - write:
          path: src/sum.js
          content: |
${block(HALF_FIXED)}
      - run: node --test
      - say: "sum is fixed."
    result: "Fixed sum: it subtracted instead of adding."
  - steps:
      - say: "sumAll still fails: it starts counting from 1. Starting from 0."
      - write:
          path: src/sum.js
          content: |
${block(FIXED)}
      - run: node --test
      - say: "Both tests pass."
    result: "Fixed sumAll's starting value; both tests pass."
`;
}

export async function demoCommand(ctx: CliContext, flags: { json?: boolean; dir?: string }): Promise<number> {
  const base = flags.dir ?? mkdtempSync(join(tmpdir(), "orch-demo-"));
  const repo = join(base, "repo");
  mkdirSync(join(repo, "src"), { recursive: true });
  mkdirSync(join(repo, "test"), { recursive: true });
  writeFileSync(join(repo, "package.json"), `${JSON.stringify({ name: "orch-demo", private: true, type: "module" }, null, 2)}\n`);
  writeFileSync(join(repo, "src", "sum.js"), BUGGY);
  writeFileSync(join(repo, "test", "sum.test.js"), TEST);
  const git = (...args: string[]) =>
    execFileSync("git", ["-c", "user.name=orch demo", "-c", "user.email=demo@orch.invalid", "-c", "init.defaultBranch=main", ...args], {
      cwd: repo,
      stdio: "ignore",
      env: { ...ctx.env, GIT_CONFIG_NOSYSTEM: "1" },
    });
  git("init", "-q");
  git("add", ".");
  git("commit", "-q", "-m", "A sum module with a failing test");
  const script = join(base, "demo-script.yaml");
  writeFileSync(script, demoScript());

  if (flags.json !== true) {
    ctx.output.err(`orch demo: a repository with a failing test at ${repo}`);
    ctx.output.err(`orch demo: running  orch run "make the failing tests pass" --verify "node --test" --script ${script}\n`);
  }
  const code = await runCommand({ ...ctx, cwd: repo }, "make the failing tests pass", {
    verify: ["node --test"],
    script,
    maxAttempts: "5",
    json: flags.json === true,
  });
  if (flags.json !== true) {
    // Name orch the way this user can run it: on the PATH after `npm link`, else through node.
    const orch = findExecutable("orch", ctx.env) !== undefined ? "orch" : `node ${ctx.entry}`;
    ctx.output.out(`\nLook around: cd ${repo} && ${orch} list && ${orch} logs latest   (remove it with: rm -rf ${base})`);
  }
  return code;
}
