// Secrets stay out of everything orch writes, shows or sends (issue 13, point 4), end to end through the built
// CLI: a `command` agent and a verify command that print their environment, holding fake credentials, over three
// attempts (a crash whose stderr names a token, a verify failure, then the fix), so that the values would reach
// the transcript, every journal table, `orch logs`, the report, the screen and the handoff in the next prompts.
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { parseRunResult } from "./support/cli.js";
import { useSandboxes } from "./support/e2e.js";
import { FAKE_ENV, fakePem } from "./support/fake-secrets.js";

const FILES = {
  "sum.mjs": "export function sum(a, b) {\n  return a - b;\n}\n",
  "test.mjs": 'import { sum } from "./sum.mjs";\nif (sum(2, 3) !== 5) {\n  console.log("not ok - sum(2, 3)");\n  process.exit(1);\n}\nconsole.log("ok");\n',
  // Small transcript parts, so that rotated, gzipped parts are written and checked too.
  "orch.config.yaml": "limits:\n  transcriptMaxMb: 0.002\n",
};

/** A key of no variable orch would call secret by its name: only its PEM form gives it away, over lines. */
const PEM = fakePem(8);
const SECRETS = { ...FAKE_ENV, SSH_IDENTITY: PEM };
/** What must appear nowhere: each value, and each line of the key's body. */
const NEEDLES = [FAKE_ENV.ANTHROPIC_API_KEY, FAKE_ENV.GITHUB_TOKEN, FAKE_ENV.DATABASE_PASSWORD, ...PEM.split("\n").slice(1, -1)];

/** Attempt 1 crashes naming a token on stderr; 2 finishes without fixing; 3 fixes. Each prints env and its secrets. */
const AGENT = `#!/bin/sh
set -eu
n="$ORCH_ATTEMPT"
printf '%s' "$ORCH_PROMPT" > "$AGENT_OUT/prompt.$n"
cat > "$AGENT_OUT/stdin.$n"
env
printf '%s\\n' "$SSH_IDENTITY"
env >&2
if [ "$n" = 1 ]; then echo "cannot go on with GITHUB_TOKEN=$GITHUB_TOKEN" >&2; exit 1; fi
if [ "$n" -ge 3 ]; then printf 'export function sum(a, b) {\\n  return a + b;\\n}\\n' > sum.mjs; fi
echo "done; I used $ANTHROPIC_API_KEY and $DATABASE_PASSWORD"
`;
const VERIFY = `env; printf '%s\\n%s\\n%s\\n' "$ANTHROPIC_API_KEY" "$GITHUB_TOKEN" "$SSH_IDENTITY"; node test.mjs`;

const sandboxes = useSandboxes({ prefix: "orch-secrets-", graceMs: 3_000 });

/** Every file under `dir`, recursively. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    return entry.isDirectory() ? filesUnder(path) : [path];
  });
}

const textOf = (file: string): string => (file.endsWith(".gz") ? gunzipSync(readFileSync(file)) : readFileSync(file)).toString("utf8");
const modeOf = (path: string): number => statSync(path).mode & 0o777;

/** The needles found in `text`, each with where: empty when none leaked. */
function leaks(where: string, text: string): string[] {
  return NEEDLES.filter((needle) => text.includes(needle)).map((needle) => `${where}: …${needle.slice(0, 12)}…`);
}

/** Every text value of every row of every table in the journal. */
function journalLeaks(dbPath: string): { leaks: string[]; rows: number } {
  const db = new Database(dbPath, { readonly: true });
  try {
    const tables = db.prepare("select name from sqlite_master where type = 'table'").pluck().all();
    const found: string[] = [];
    let rows = 0;
    for (const table of tables) {
      if (typeof table !== "string") continue;
      for (const row of db.prepare(`select * from "${table}"`).raw().all()) {
        rows += 1;
        if (!Array.isArray(row)) continue;
        for (const value of row) {
          const text = typeof value === "string" ? value : Buffer.isBuffer(value) ? value.toString("utf8") : "";
          found.push(...leaks(`table ${table}`, text));
        }
      }
    }
    return { leaks: found, rows };
  } finally {
    db.close();
  }
}

describe("secrets in the environment", () => {
  it("reach neither the transcripts, the journal, orch logs, the report, the screen nor the next prompts; .orch is private", async () => {
    const box = sandboxes.orchRepo(FILES, SECRETS);
    const agent = join(box.repo.root, "agent.sh");
    writeFileSync(agent, AGENT);
    const run = await box.orch(["run", "make the failing test pass", "--verify", VERIFY, "--agent-command", `sh '${agent}'`, "--max-attempts", "3", "--no-review", "--json"], {
      timeoutMs: 60_000,
    });
    expect(run.code, run.stderr).toBe(0);
    const { runId, attempts, report } = parseRunResult(run);
    expect(attempts).toBe(3);

    const orchDir = join(box.repo.dir, ".orch");
    const transcripts = filesUnder(join(orchDir, "logs", runId)).filter((f) => f.includes(".jsonl"));
    const found: string[] = [];
    found.push(...leaks("orch run stdout", run.stdout), ...leaks("orch run stderr", run.stderr));
    for (const file of filesUnder(join(orchDir, "logs"))) found.push(...leaks(file.slice(orchDir.length), textOf(file)));
    const journal = journalLeaks(join(orchDir, "orch.db"));
    found.push(...journal.leaks);
    for (const args of [["logs", runId], ["logs", runId, "--json"], ["status", runId], ["report", runId]]) {
      const shown = await box.orch(args);
      expect(shown.code, shown.stderr).toBe(0);
      found.push(...leaks(`orch ${args.join(" ")}`, shown.stdout + shown.stderr));
    }
    found.push(...leaks("report", readFileSync(report ?? "", "utf8")));
    const prompts = [2, 3].map((attempt) => readFileSync(join(box.out, `prompt.${attempt}`), "utf8"));
    for (const [i, prompt] of prompts.entries()) {
      found.push(...leaks(`prompt ${i + 2}`, prompt), ...leaks(`stdin ${i + 2}`, readFileSync(join(box.out, `stdin.${i + 2}`), "utf8")));
    }
    expect(found).toEqual([]);

    // And the values were there to leak: the agent and its verify printed them, and each place got their markers.
    const transcriptText = transcripts.map(textOf).join("\n");
    expect(transcripts.some((f) => f.endsWith(".gz")), "rotated parts").toBe(true);
    for (const marker of ["[redacted:GITHUB_TOKEN]", "[redacted:ANTHROPIC_API_KEY]", "[redacted:private-key]"]) {
      expect(transcriptText.includes(marker), `${marker} in the transcripts`).toBe(true);
    }
    expect(journal.rows).toBeGreaterThan(20);
    for (const prompt of prompts) expect(prompt.includes("Earlier attempts") && prompt.includes("[redacted:"), prompt).toBe(true);

    // Only the user may read what orch keeps.
    expect(modeOf(orchDir).toString(8)).toBe("700");
    for (const file of transcripts) expect(`${file}: ${modeOf(file).toString(8)}`).toBe(`${file}: 600`);
    expect(modeOf(report ?? "").toString(8)).toBe("600");
  });
});
