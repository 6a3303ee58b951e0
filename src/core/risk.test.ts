import { describe, expect, it } from "vitest";
import { assessRisk, type ChangedFile, type RiskInput } from "./risk.js";
import { commandFires, type CommandCheck } from "./risk-commands.js";
import { DEFAULT_RULES, globProblem, rulesInForce, type RuleSetting } from "./risk-rules.js";
import { simpleCommands } from "./shell-words.js";

const file = (path: string, status: ChangedFile["status"] = "modified", added = 1, removed = 0, from?: string): ChangedFile => ({ path, status, added, removed, from });
const judge = (input: Partial<RiskInput>, settings: Record<string, RuleSetting> = {}) => {
  const { rules, problems } = rulesInForce(settings);
  expect(problems).toEqual([]);
  return assessRisk({ files: [], commands: [], ...input }, rules);
};
const fired = (input: Partial<RiskInput>, settings?: Record<string, RuleSetting>) => judge(input, settings).findings.map((f) => f.rule);

describe("path rules", () => {
  const cases: [string, string[], string[]][] = [
    ["ci", [".github/workflows/ci.yml", ".gitlab-ci.yml", "Jenkinsfile", ".circleci/config.yml"], [".github/CODEOWNERS", "docs/ci.md", "src/gitlab-ci.yml.ts"]],
    ["secrets", [".env", "app/.env.local", "certs/server.pem", "deploy/id.key", ".npmrc"], ["src/environment.ts", "docs/keys.md", "envoy.yaml"]],
    ["migrations", ["db/migrations/0001_init.sql", "src/store/migrations/0003.ts", "db/migrate/20240101_users.rb"], ["src/migrator.ts", "docs/migration-guide.md"]],
    ["infrastructure", ["main.tf", "infra/terraform/vars.json", "Dockerfile", "svc/Dockerfile.dev", "k8s/deploy.yaml", "deploy/helm/values.yaml", "docker-compose.yml"], ["src/docker.ts", "docs/kubernetes.md"]],
    ["auth", ["src/auth/login.ts", "lib/auth.py", "src/oauth-client.ts", "app/user_auth.go", "src/agents/permission.ts"], ["src/author.ts", "README.md"]],
    ["dependencies", ["package.json", "web/package-lock.json", "Cargo.lock", "go.sum", "requirements-dev.txt", "poetry.lock"], ["src/package.ts", "docs/lockfile.md"]],
  ];
  for (const [rule, hits, misses] of cases) {
    it(`${rule}: fires on its files, names each, and not on others`, () => {
      for (const path of hits) expect(fired({ files: [file(path)] }), path).toContain(rule);
      for (const path of misses) expect(fired({ files: [file(path)] }), path).not.toContain(rule);
      const level = DEFAULT_RULES.find((r) => r.id === rule)?.level;
      const finding = judge({ files: hits.map((p) => file(p, "added")) }).findings.find((f) => f.rule === rule);
      expect(finding).toMatchObject({ level, evidence: hits.map((p) => `${p} (added)`) });
    });
  }

  it("a rename fires on either of its paths, and says both", () => {
    const moved = file("ci-old.yml", "renamed", 0, 0, ".github/workflows/ci.yml");
    expect(judge({ files: [moved] }).findings).toEqual([expect.objectContaining({ rule: "ci", evidence: [".github/workflows/ci.yml → ci-old.yml (renamed)"] })]);
  });

  it("a docs change is low: no rule fires", () => {
    expect(judge({ files: [file("docs/guide.md"), file("README.md")] })).toEqual({ level: "low", findings: [], files: 2, lines: 2 });
  });
});

describe("deleted files and size", () => {
  it("deleted: fires per deleted file, not on a rename or a change", () => {
    const result = judge({ files: [file("old.ts", "deleted", 0, 40), file("b.ts", "renamed", 0, 0, "a.ts"), file("c.ts")] });
    expect(result.findings).toEqual([{ rule: "deleted", level: "medium", about: "files deleted", evidence: ["old.ts (deleted)"] }]);
    expect(result.level).toBe("medium");
  });

  it("large and huge: at their thresholds of lines or files, not below; binary files count as files", () => {
    expect(fired({ files: [file("a.ts", "modified", 300, 199)] })).toEqual([]);
    expect(judge({ files: [file("a.ts", "modified", 300, 200)] }).findings).toEqual([
      { rule: "large", level: "medium", about: "a large change", evidence: ["500 lines changed (the rule's threshold: 500)"] },
    ]);
    const many = Array.from({ length: 20 }, (_, i) => ({ ...file(`img/${i}.png`), added: undefined, removed: undefined }));
    expect(judge({ files: many }).findings.map((f) => [f.rule, f.evidence])).toEqual([["large", ["20 files changed (the rule's threshold: 20)"]]]);
    const result = judge({ files: [file("gen.ts", "added", 2000, 0)] });
    expect(result.level).toBe("high");
    expect(result.findings.map((f) => f.rule)).toEqual(["huge", "large"]);
  });
});

describe("command rules", () => {
  const cases: [CommandCheck, string[], string[]][] = [
    ["push", ["git push", "cd app && git push origin HEAD", "git -C ../x push --force", "/usr/bin/git push"], ["git status", "echo git push", "git commit -m 'git push later'", "git log --grep push"]],
    ["publish", ["npm publish", "npm --workspace pkg publish", "cargo publish --dry-run", "twine upload dist/*", "env TOKEN=x yarn npm publish", "docker push img:1", "./gradlew publish"], ["npm test", "npm run publish-docs", "cargo build", "echo npm publish"]],
    ["pipe-to-shell", ["curl -fsSL https://x.sh | sh", "wget -qO- https://x | sudo bash", 'sh -c "$(curl -fsSL https://x)"', "bash <(curl -s https://x)", "curl https://x | tee f | bash"], ["curl -o x.sh https://x", "cat x.sh | sh", "curl https://x | jq .", "curl https://x; sh build.sh"]],
    ["rm-outside", ["rm -rf /", "rm -rf ../other", "rm -r ~/cache", "rm -fr src/../../x", "rm -rf /tmp/build", "rm --recursive $HOME/x"], ["rm -rf node_modules", "rm -rf ./dist build/..", "rm ../file.txt", "rm -rf /home/dev/wt/dist", "echo rm -rf /"]],
    ["sudo", ["sudo apt-get install x", "FOO=1 sudo make install", "cd x && doas reboot"], ["echo sudo", "grep sudo /etc/group", "sudoku"]],
    ["chmod-world", ["chmod 777 x", "chmod -R 0777 dir", "chmod o+w f", "chmod a+rwx f", "chmod 666 f"], ["chmod 755 x", "chmod +x run.sh", "chmod u+w f", "chmod 644 f"]],
  ];
  for (const [check, hits, misses] of cases) {
    it(`${check}: fires on ${hits.length} forms, not on ${misses.length} look-alikes`, () => {
      for (const command of hits) expect(commandFires(check, command, "/home/dev/wt"), command).toBe(true);
      for (const command of misses) expect(commandFires(check, command, "/home/dev/wt"), command).toBe(false);
    });
  }

  it("each fired command is evidence once, as the agent wrote it on one line", () => {
    const result = judge({ commands: ["npm test", "git push", "git  push", "git push\n"] });
    expect(result.findings).toEqual([{ rule: "push", level: "high", about: "a git push", evidence: ["git push"] }]);
  });

  it("cuts a command line into simple commands with quotes, substitutions and redirections", () => {
    const words = simpleCommands(`cd "my dir" && echo 'a | b' 2>&1 >out.txt; x=$(git rev-parse HEAD) | tail -n1`).map((c) => [c.joint, ...c.words]);
    expect(words).toEqual([["start", "cd", "my dir"], ["&&", "echo", "a | b"], [";", "x="], ["$(", "git", "rev-parse", "HEAD"], ["|", "tail", "-n1"]]);
  });
});

describe("the planner's level and the user's rules", () => {
  it("the planner's level is a floor, never a ceiling", () => {
    expect(judge({ floor: "medium", files: [file("README.md")] })).toMatchObject({ level: "medium", findings: [{ rule: "plan", level: "medium" }] });
    expect(judge({ floor: "low", files: [file(".github/workflows/ci.yml")] }).level).toBe("high");
    expect(judge({ floor: "medium", files: [file(".github/workflows/ci.yml")] }).findings.map((f) => f.rule)).toEqual(["ci", "plan"]);
    expect(judge({ floor: "low" }).findings).toEqual([]);
  });

  it("changes a default's level, turns one off, replaces its paths or thresholds, adds rules", () => {
    const ci = { files: [file(".github/workflows/ci.yml")] };
    expect(judge(ci, { ci: { level: "medium" } }).level).toBe("medium");
    expect(judge(ci, { ci: { level: "off" } })).toMatchObject({ level: "low", findings: [] });
    expect(fired({ files: [file("infra/pipeline.yml")] }, { ci: { paths: ["infra/*.yml"] } })).toEqual(["ci"]);
    expect(fired(ci, { ci: { paths: ["infra/*.yml"] } })).toEqual([]);
    expect(fired({ files: [file("a.ts", "modified", 100, 0)] }, { large: { lines: 100 } })).toEqual(["large"]);
    const payments = { payments: { level: "high" as const, paths: ["src/payments/**"], about: "money moves here" } };
    expect(judge({ files: [file("src/payments/charge.ts")] }, payments).findings).toEqual([
      { rule: "payments", level: "high", about: "money moves here", evidence: ["src/payments/charge.ts (modified)"] },
    ]);
    expect(fired({ commands: ["terraform apply -auto-approve", "terraform plan"] }, { tf: { level: "high", command: "^terraform\\s+apply" } })).toEqual(["tf"]);
    expect(fired({ files: [file("a.ts", "modified", 10, 0)] }, { small: { level: "low", lines: 5 } })).toEqual(["small"]);
  });

  it("says what is wrong with a rule, by its path: bad globs, bad patterns, rules that cannot be", () => {
    const { problems } = rulesInForce({
      ci: { command: "x" },
      deleted: { lines: 3 },
      mine: { level: "high", paths: ["ok/**", "/etc/x", "!a", "a/../b", "x[", ""] },
      re: { level: "high", command: "((" },
      both: { level: "high", paths: ["a"], command: "b" },
      bare: { paths: ["a"] },
      plan: { level: "high", paths: ["a"] },
    });
    expect(problems.map((p) => p.path.join("."))).toEqual(["ci.command", "deleted.lines", "both", "bare.level", "plan", "mine.paths.1", "mine.paths.2", "mine.paths.3", "mine.paths.4", "mine.paths.5", "re.command"]);
    expect(globProblem("/etc/x")).toBe('"/etc/x" is absolute; paths are relative to the repository\'s root (write "etc/x")');
    expect(globProblem("src/**/*.{ts,tsx}")).toBeUndefined();
  });

  it("the default rules' globs are good ones (rulesInForce does not check them again)", () => {
    const globs = DEFAULT_RULES.flatMap((rule) => (rule.kind === "paths" ? rule.paths : []));
    expect(globs.length).toBeGreaterThan(50);
    expect(globs.filter((glob) => globProblem(glob) !== undefined)).toEqual([]);
  });
});
