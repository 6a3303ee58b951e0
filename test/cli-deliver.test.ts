// Delivery end to end through the built CLI: a run that succeeds pushes its run branch to a real bare repository
// (its `origin`), never forced and never the user's branch; a remote that refuses, --no-push and a repository
// without a remote leave the run succeeded and say why; a stand-in `gh` on PATH (a real executable that records
// its arguments) shows a pull request opened, or the open one edited; a bad `delivery:` config is exit 2.
import { chmodSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { parseJsonOutput, parseRunResult } from "./support/cli.js";
import { useSandboxes, type OrchSandbox } from "./support/e2e.js";

const GOAL = "write the done file\n\nso that the check passes";
const AGENT = "echo done > done.txt";
const VERIFY = "test -f done.txt";

const sandboxes = useSandboxes({ prefix: "orch-cli-deliver-", graceMs: 3_000 });

const Delivery = z.array(
  z.object({
    outcome: z.string(),
    remote: z.string().optional(),
    branch: z.string().optional(),
    sha: z.string().optional(),
    reason: z.string().optional(),
    command: z.string().optional(),
    url: z.string().optional(),
    number: z.number().optional(),
  }),
);
const StatusDelivery = z.object({ status: z.string(), delivery: Delivery });

/** A repository with `config` as its orch.config.yaml (committed), and optionally a bare repository as `origin`. */
function setUp(options: { config?: string; origin?: boolean; env?: Record<string, string> } = {}): { box: OrchSandbox; bare: string } {
  const files: Record<string, string> = { "README.md": "a project\n" };
  if (options.config !== undefined) files["orch.config.yaml"] = options.config;
  const box = sandboxes.orchRepo(files, options.env ?? {});
  const bare = join(box.repo.root, "origin.git");
  if (options.origin !== false) {
    box.repo.git(["init", "--quiet", "--bare", bare], box.repo.root);
    box.repo.git(["remote", "add", "origin", bare]);
    box.repo.git(["push", "--quiet", "--set-upstream", "origin", box.repo.branch]);
  }
  return { box, bare };
}

async function run(box: OrchSandbox, extra: readonly string[] = [], expectedCode = 0, env?: Record<string, string>) {
  const result = await box.orch(["run", GOAL, "--agent-command", AGENT, "--verify", VERIFY, ...extra, "--json"], env === undefined ? {} : { env });
  expect(result.code, `exit code; stderr:\n${result.stderr}`).toBe(expectedCode);
  return parseRunResult(result);
}

async function delivery(box: OrchSandbox, runId: string) {
  const result = await box.orch(["status", runId, "--json"]);
  expect(result.code, result.stderr).toBe(0);
  return parseJsonOutput(StatusDelivery, result.stdout);
}

const refIn = (box: OrchSandbox, bare: string, ref: string): string | undefined => {
  try {
    return box.repo.git(["--git-dir", bare, "rev-parse", "--verify", "--quiet", ref], box.repo.root);
  } catch {
    return undefined;
  }
};

/**
 * A `gh` on PATH: records each call's arguments (one file per call, one argument a line) and the body file it was
 * given; `auth status` fails when GH_FAKE_LOGGED_OUT is set; `pr view` finds an open pull request (number 7) when
 * GH_FAKE_OPEN is set; `pr create` prints the new pull request's URL.
 */
function fakeGh(box: OrchSandbox): { bin: string; calls: () => string[][]; bodies: () => string[] } {
  const bin = join(box.repo.root, "gh-bin");
  const log = join(box.repo.root, "gh-calls");
  mkdirSync(bin);
  mkdirSync(log);
  const script = `#!/bin/sh
n=$(ls '${log}' | wc -l | tr -d ' ')
for arg in "$@"; do printf '%s\\n' "$arg"; done > '${log}/call.'"$n"
body=""
prev=""
for arg in "$@"; do
  if [ "$prev" = "--body-file" ]; then body="$arg"; fi
  prev="$arg"
done
if [ -n "$body" ]; then cp "$body" '${log}/body.'"$n"; fi
case "$1 $2" in
  "auth status") if [ -n "$GH_FAKE_LOGGED_OUT" ]; then echo "You are not logged into any GitHub hosts." >&2; exit 1; fi; echo "Logged in to github.com" >&2 ;;
  "pr view") if [ -n "$GH_FAKE_OPEN" ]; then echo '{"number":7,"url":"https://github.com/acme/widget/pull/7","state":"OPEN"}'; else echo 'no pull requests found for branch' >&2; exit 1; fi ;;
  "pr create") echo "Creating pull request" >&2; echo "https://github.com/acme/widget/pull/12" ;;
  "pr edit") echo "https://github.com/acme/widget/pull/7" ;;
  *) echo "unexpected: $*" >&2; exit 1 ;;
esac
`;
  writeFileSync(join(bin, "gh"), script);
  chmodSync(join(bin, "gh"), 0o755);
  const numbered = (prefix: string) =>
    readdirSync(log)
      .filter((f) => f.startsWith(prefix))
      .sort((a, b) => Number(a.slice(prefix.length)) - Number(b.slice(prefix.length)));
  return {
    bin,
    calls: () => numbered("call.").map((f) => readFileSync(join(log, f), "utf8").split("\n").slice(0, -1)),
    bodies: () => numbered("body.").map((f) => readFileSync(join(log, f), "utf8")),
  };
}

/**
 * `origin` named as a GitHub URL, which git rewrites to the bare repository (gh sees GitHub, the push lands
 * locally), and the stand-in gh first on PATH, with `ghEnv` for its behaviour.
 */
function onGithub(config: string | undefined, ghEnv: Record<string, string> = {}) {
  const { box, bare } = setUp(config === undefined ? {} : { config });
  box.repo.git(["remote", "set-url", "origin", "https://github.com/acme/widget.git"]);
  box.repo.git(["config", `url.${bare}.insteadOf`, "https://github.com/acme/widget.git"]);
  const gh = fakeGh(box);
  return { box, bare, gh, env: { ...box.env, PATH: `${gh.bin}:${box.env["PATH"] ?? ""}`, ...ghEnv } };
}

describe("delivery of a run that succeeds", () => {
  it("pushes the run branch to origin, leaves the user's branch alone, and says in status, logs and report", async () => {
    const { box, bare } = setUp();
    const mainBefore = refIn(box, bare, `refs/heads/${box.repo.branch}`);
    const localBefore = box.repo.git(["rev-parse", box.repo.branch]);

    const json = await run(box);
    expect(json.status).toBe("succeeded");
    const tip = box.repo.git(["rev-parse", json.branch]);
    expect(refIn(box, bare, `refs/heads/${json.branch}`)).toBe(tip);
    expect(refIn(box, bare, `refs/heads/${box.repo.branch}`)).toBe(mainBefore);
    expect(box.repo.git(["rev-parse", box.repo.branch])).toBe(localBefore);
    expect(box.repo.git(["--git-dir", bare, "for-each-ref", "--format=%(refname)"], box.repo.root).split("\n").sort()).toEqual(
      [`refs/heads/${box.repo.branch}`, `refs/heads/${json.branch}`].sort(),
    );

    const view = await delivery(box, json.runId);
    expect(view.delivery[0]).toMatchObject({ outcome: "pushed", remote: "origin", branch: json.branch, sha: tip });
    // No gh here: the pull request is left to the user, with the command that opens it.
    expect(view.delivery[1]?.outcome).toBe("pr-skipped");
    const status = await box.orch(["status", json.runId]);
    expect(status.stdout).toContain(`delivery  pushed ${json.branch} to origin at ${tip.slice(0, 12)}`);
    const logs = await box.orch(["logs", json.runId]);
    expect(logs.stdout).toContain(`── pushed ${json.branch} to origin`);
    const report = readFileSync(json.report ?? "", "utf8");
    expect(report).toContain("## Delivery");
    expect(report).toContain(`- pushed ${json.branch} to origin at ${tip.slice(0, 12)}`);
    expect(report).toContain(`\`gh pr create --head ${json.branch} --base ${box.repo.branch} --title 'write the done file' --body-file .orch/reports/${json.runId}.md\``);
  });

  it("a push the remote refuses leaves the run succeeded, and status and report say why", async () => {
    const { box, bare } = setUp();
    const hook = join(bare, "hooks", "pre-receive");
    writeFileSync(hook, "#!/bin/sh\necho 'pushes are closed today' >&2\nexit 1\n");
    chmodSync(hook, 0o755);

    const json = await run(box);
    expect(json.status).toBe("succeeded");
    expect(refIn(box, bare, `refs/heads/${json.branch}`)).toBeUndefined();
    const view = await delivery(box, json.runId);
    expect(view.status).toBe("succeeded");
    const failed = view.delivery[0];
    expect(failed?.outcome).toBe("push-failed");
    expect(failed?.reason).toContain("pushes are closed today");
    expect(failed?.command).toBe(`git push origin ${json.branch}:${json.branch}`);
    expect(view.delivery).toHaveLength(1);
    const status = await box.orch(["status", json.runId]);
    expect(status.stdout).toMatch(/delivery {2}push of .* to origin failed: .*pushes are closed today/);
    const report = readFileSync(json.report ?? "", "utf8");
    expect(report).toContain("pushes are closed today");
    expect(report).toContain(`Once that is mended, push it: \`git push origin ${json.branch}:${json.branch}\``);
  });

  it("--no-push pushes nothing, and the report names the commands", async () => {
    const { box, bare } = setUp();
    const refsBefore = box.repo.git(["--git-dir", bare, "for-each-ref"], box.repo.root);
    const json = await run(box, ["--no-push"]);
    expect(json.status).toBe("succeeded");
    expect(box.repo.git(["--git-dir", bare, "for-each-ref"], box.repo.root)).toBe(refsBefore);
    const view = await delivery(box, json.runId);
    expect(view.delivery.map((d) => d.outcome)).toEqual(["push-skipped"]);
    const report = readFileSync(json.report ?? "", "utf8");
    expect(report).toContain(`To push it: \`git push origin ${json.branch}:${json.branch}\``);
  });

  it("a repository without a remote pushes nothing, and the report says so", async () => {
    const { box } = setUp({ origin: false });
    const json = await run(box);
    expect(json.status).toBe("succeeded");
    const view = await delivery(box, json.runId);
    expect(view.delivery.map((d) => d.outcome)).toEqual(["push-skipped"]);
    expect(view.delivery[0]?.reason).toContain("no remote named origin");
    const report = readFileSync(json.report ?? "", "utf8");
    expect(report).toContain("the repository has no remote named origin");
  });

  it("pushes to delivery.remote, and a failed run delivers nothing", async () => {
    const { box, bare } = setUp({ config: "delivery:\n  remote: upstream\n" });
    box.repo.git(["remote", "add", "upstream", bare]);
    const json = await run(box);
    expect((await delivery(box, json.runId)).delivery[0]).toMatchObject({ outcome: "pushed", remote: "upstream" });

    const failed = await box.orch(["run", "never done", "--agent-command", "true", "--verify", "false", "--max-attempts", "1", "--json"]);
    expect(failed.code, failed.stderr).toBe(1);
    const failedRun = parseRunResult(failed);
    expect((await delivery(box, failedRun.runId)).delivery).toEqual([]);
    expect(refIn(box, bare, `refs/heads/${failedRun.branch}`)).toBeUndefined();
  });
});

describe("a resumed run", () => {
  it("delivers as it was started: --no-push holds after `orch resume`", async () => {
    const { box, bare } = setUp();
    const refsBefore = box.repo.git(["--git-dir", bare, "for-each-ref"], box.repo.root);
    // Attempt 1 does nothing, so the run fails on its one attempt; attempt 2 does the work.
    const lateAgent = 'if [ "$ORCH_ATTEMPT" -ge 2 ]; then echo done > done.txt; fi';
    const first = await box.orch(["run", GOAL, "--agent-command", lateAgent, "--verify", VERIFY, "--max-attempts", "1", "--no-push", "--json"]);
    expect(first.code, first.stderr).toBe(1);
    const { runId, branch } = parseRunResult(first);
    expect((await delivery(box, runId)).delivery).toEqual([]);

    const resumed = await box.orch(["resume", runId, "--max-attempts", "2", "--json"]);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(parseRunResult(resumed).status).toBe("succeeded");
    expect((await delivery(box, runId)).delivery).toEqual([expect.objectContaining({ outcome: "push-skipped", command: `git push origin ${branch}:${branch}` })]);
    expect(box.repo.git(["--git-dir", bare, "for-each-ref"], box.repo.root)).toBe(refsBefore);
  });
});

describe("the pull request through gh", () => {
  it("opens one with the goal's first line, the report as body, labels and --draft", async () => {
    const { box, bare, gh, env } = onGithub("delivery:\n  labels: [orch, needs-review]\n  draft: true\n");
    const json = await run(box, [], 0, env);
    expect(refIn(box, bare, `refs/heads/${json.branch}`)).toBe(box.repo.git(["rev-parse", json.branch]));

    const calls = gh.calls();
    expect(calls.map((c) => c.slice(0, 2).join(" "))).toEqual(["auth status", "pr view", "pr create"]);
    expect(calls[0]).toEqual(["auth", "status", "--hostname", "github.com"]);
    expect(calls[1]).toEqual(["pr", "view", json.branch, "--repo", "github.com/acme/widget", "--json", "number,url,state"]);
    const create = calls[2] ?? [];
    const after = (flag: string) => create.flatMap((arg, i) => (arg === flag ? [create[i + 1]] : []));
    expect(after("--head")).toEqual([json.branch]);
    expect(after("--base")).toEqual([box.repo.branch]);
    expect(after("--title")).toEqual(["write the done file"]);
    expect(after("--label")).toEqual(["orch", "needs-review"]);
    expect(create).toContain("--draft");
    const [body] = gh.bodies();
    expect(body).toContain(`# orch run ${json.runId}`);
    expect(body).toContain("**Outcome:** succeeded");

    const view = await delivery(box, json.runId);
    expect(view.delivery.map((d) => d.outcome)).toEqual(["pushed", "pr-opened"]);
    expect(view.delivery[1]).toMatchObject({ url: "https://github.com/acme/widget/pull/12", number: 12 });
    const report = readFileSync(json.report ?? "", "utf8");
    expect(report).toContain("| Pull request | https://github.com/acme/widget/pull/12 |");
    expect(report).toContain("Review and merge the pull request: https://github.com/acme/widget/pull/12");
    // Neither the journal nor the report names the remote's URL.
    const logs = await box.orch(["logs", json.runId, "--json"], { env });
    expect(logs.stdout).not.toContain("acme/widget.git");
  });

  it("edits the pull request already open for the branch instead of opening another", async () => {
    const { box, gh, env } = onGithub("delivery:\n  labels: [orch]\n", { GH_FAKE_OPEN: "1" });
    const json = await run(box, [], 0, env);
    const calls = gh.calls();
    expect(calls.map((c) => c.slice(0, 2).join(" "))).toEqual(["auth status", "pr view", "pr edit"]);
    const edit = calls[2] ?? [];
    expect(edit.slice(0, 5)).toEqual(["pr", "edit", "7", "--repo", "github.com/acme/widget"]);
    expect(edit).toContain("--add-label");
    expect(edit[edit.indexOf("--title") + 1]).toBe("write the done file");
    expect(gh.bodies()[0]).toContain(`# orch run ${json.runId}`);
    expect((await delivery(box, json.runId)).delivery[1]).toMatchObject({ outcome: "pr-updated", url: "https://github.com/acme/widget/pull/7", number: 7 });
  });

  it("gh logged out: pushed, no pull request, and the report says the command", async () => {
    const { box, gh, env } = onGithub(undefined, { GH_FAKE_LOGGED_OUT: "1" });
    const json = await run(box, [], 0, env);
    expect(gh.calls().map((c) => c.slice(0, 2).join(" "))).toEqual(["auth status"]);
    const [pushed, pr] = (await delivery(box, json.runId)).delivery;
    expect(pushed?.outcome).toBe("pushed");
    expect(pr?.outcome).toBe("pr-skipped");
    expect(pr?.reason).toContain("gh is not logged in to github.com");
    expect(readFileSync(json.report ?? "", "utf8")).toContain(`To open one: \`gh pr create --head ${json.branch} --base ${box.repo.branch}`);
  });
});

describe("bad delivery settings", () => {
  it.each([
    ["a push that is not true or false", "delivery:\n  push: sometimes\n", "delivery.push"],
    ["an unknown key", "delivery:\n  force: true\n", "force"],
    ["a remote that reads as an option", "delivery:\n  remote: --upload-pack=x\n", "delivery.remote"],
  ])("%s is exit 2 and writes nothing", async (_name, config, named) => {
    const { box } = setUp({ config, origin: false });
    const result = await box.orch(["run", GOAL, "--agent-command", AGENT, "--verify", VERIFY]);
    expect(result.code, result.stdout).toBe(2);
    expect(result.stderr).toContain(named);
    expect(existsSync(join(box.repo.dir, ".orch", "orch.db"))).toBe(false);
  });
});
