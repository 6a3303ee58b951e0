// A journal orch cannot use, through the built CLI: a truncated orch.db, one whose header is garbage, and a
// `.orch` that is a file. Every command says which file, what happened and what to do, in plain words with
// no stack trace, and exits 4; `orch doctor` finds it; `orch doctor --repair` moves it aside and keeps it.
import { createHash } from "node:crypto";
import { readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { parseJsonOutput, parseRunResult, type CliResult } from "./support/cli.js";
import { FILES, GOAL, VERIFY } from "./support/detached.js";
import { fixtureAgent, useSandboxes, type OrchSandbox } from "./support/e2e.js";

const sandboxes = useSandboxes({ prefix: "orch-cli-journal-", graceMs: 3_000 });
const RUN = ["run", GOAL, "--verify", VERIFY, "--agent-command", fixtureAgent("fix-on-attempt.sh")];
const EXIT_JOURNAL = 4;

/** A repository with one finished run in its journal; the journal's path. */
async function repoWithRun(): Promise<{ box: OrchSandbox; db: string }> {
  const box = sandboxes.orchRepo(FILES, { FIX_ON_ATTEMPT: "1" });
  const result = await box.orch([...RUN, "--json"]);
  expect(result.code, result.stderr).toBe(0);
  expect(parseRunResult(result).status).toBe("succeeded");
  return { box, db: join(box.repo.dir, ".orch", "orch.db") };
}

/**
 * `orch doctor` without the agent CLIs of node_modules/.bin on PATH: each would be started for its version
 * (seconds apiece), and the journal's check is what these tests are about.
 */
function doctor(box: OrchSandbox, args: readonly string[] = []): Promise<CliResult> {
  const path = (box.env["PATH"] ?? "").split(":").filter((dir) => !dir.endsWith("node_modules/.bin")).join(":");
  return box.orch(["doctor", ...args], { env: { ...box.env, PATH: path } });
}

const sha1 = (file: string): string => createHash("sha1").update(readFileSync(file)).digest("hex");

const esc = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** What every command must say: the first line (after "orch: ") and the advice under it. */
interface Said {
  line: string;
  advice: RegExp;
}

/** The exit code and a plain message: no stack trace, no "internal error". */
function expectJournalError(result: CliResult, what: string, said: Said): void {
  expect(result.code, `orch ${what}; stderr:\n${result.stderr}`).toBe(EXIT_JOURNAL);
  expect(result.stderr, `orch ${what}`).toMatch(new RegExp(`^orch: ${said.line}$`, "m"));
  expect(result.stderr, `orch ${what}`).toMatch(new RegExp(`^ {2}${said.advice.source}`, "m"));
  expect(result.stderr).not.toMatch(/internal error|SqliteError|^\s+at /m);
}

/** status, list and run refuse with exit 4 and the message; doctor reports the journal as failed, exit 4. */
async function expectEveryCommandRefuses(box: OrchSandbox, said: Said, doctorFix: RegExp): Promise<void> {
  for (const args of [["status"], ["status", "--json"], ["list"], RUN]) {
    const result = await box.orch(args);
    expectJournalError(result, args.join(" "), said);
    expect(result.stdout).toBe("");
  }
  const checked = await doctor(box);
  expect(checked.code, checked.stderr).toBe(EXIT_JOURNAL);
  expect(checked.stdout).toMatch(new RegExp(`^✖ journal {6}${said.line}$`, "m"));
  expect(checked.stdout).toMatch(new RegExp(`^ {4}fix: ${doctorFix.source}`, "m"));
  expect(checked.stderr).not.toMatch(/internal error|^\s+at /m);
}

const damaged = (db: string, detail: string): Said => ({
  line: `the journal ${esc(db)} is damaged: ${esc(detail)}`,
  advice: /orch cannot read its runs from it\. `orch doctor --repair` moves it aside \(kept as .*orch\.db\.damaged-<time>; nothing is deleted\) and a new journal starts/,
});
const REPAIR_FIX = /`orch doctor --repair` moves it aside \(kept as orch\.db\.damaged-<time>, nothing is deleted\)/;

const DoctorJson = z.object({ checks: z.array(z.object({ name: z.string(), ok: z.boolean(), detail: z.string() })) });

describe("a damaged journal", () => {
  it("truncated: status, list, run and doctor say it is damaged (exit 4); doctor --repair moves it aside, keeps it, and a new journal starts", async () => {
    const { box, db } = await repoWithRun();
    truncateSync(db, Math.floor(statSync(db).size / 2));
    await expectEveryCommandRefuses(box, damaged(db, "database disk image is malformed (SQLITE_CORRUPT)"), REPAIR_FIX);
    const damagedBytes = sha1(db);

    const repaired = await doctor(box, ["--repair", "--json"]);
    expect(repaired.code, repaired.stderr).not.toBe(EXIT_JOURNAL);
    const journal = parseJsonOutput(DoctorJson, repaired.stdout).checks.find((c) => c.name === "journal");
    expect(journal?.ok).toBe(true);
    const kept = /kept at (\S+?\.damaged-\d{8}T\d{6}Z)/.exec(journal?.detail ?? "")?.[1];
    if (kept === undefined) throw new Error(`no kept file in: ${journal?.detail}`);
    expect(journal?.detail).toMatch(/nothing was salvaged from the old one/);
    // Nothing deleted: the damaged bytes are all there, under the new name, beside their -wal and -shm.
    expect(sha1(kept)).toBe(damagedBytes);
    const names = readdirSync(join(box.repo.dir, ".orch")).filter((n) => n.startsWith("orch.db"));
    expect(names.sort()).toEqual([kept, `${kept}-shm`, `${kept}-wal`].map((p) => p.slice(p.lastIndexOf("/") + 1)).sort());

    const list = await box.orch(["list"]);
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toContain("No runs yet");
    const again = await doctor(box, ["--repair"]);
    expect(again.stdout).toMatch(/✔ journal {6}none yet at .*; nothing to repair/);
  });

  it("garbage in its header: every command says so (exit 4)", async () => {
    const { box, db } = await repoWithRun();
    const bytes = readFileSync(db);
    bytes.write("this is not a SQLite header, it is garbage!", 0);
    writeFileSync(db, bytes);
    await expectEveryCommandRefuses(box, damaged(db, "file is not a database (SQLITE_NOTADB)"), REPAIR_FIX);
  });

  it("doctor --repair leaves a journal alone while a process has it open", async () => {
    const { box, db } = await repoWithRun();
    truncateSync(db, Math.floor(statSync(db).size / 2));
    let opened = (): void => undefined;
    const open = new Promise<void>((resolve) => (opened = resolve));
    const holder = sandboxes.start(process.execPath, ["-e", `require("fs").openSync(${JSON.stringify(db)}, "r"); console.log("open"); setTimeout(() => {}, 30000)`], {
      cwd: box.repo.dir,
      env: box.env,
      timeoutMs: 30_000,
      onStdout: (chunk) => {
        if (chunk.includes("open")) opened();
      },
    });
    try {
      await open;
      const before = sha1(db);
      const refused = await doctor(box, ["--repair"]);
      expect(refused.code, refused.stderr).toBe(EXIT_JOURNAL);
      expect(refused.stdout).toMatch(new RegExp(`not repaired: process ${holder.pid} has it open`));
      expect(sha1(db)).toBe(before);
    } finally {
      holder.kill();
      await holder.done;
    }
  });
});

describe("a .orch that cannot be opened", () => {
  it("a file named .orch: status, list, run, init and doctor say so (exit 4); nothing is written", async () => {
    const box = sandboxes.orchRepo(FILES);
    const dir = join(box.repo.dir, ".orch");
    writeFileSync(dir, "not a directory\n");
    const said: Said = {
      line: `the journal ${esc(dir)}/orch\\.db cannot be opened: ${esc(dir)} is not a directory`,
      advice: new RegExp(`orch keeps its journal, logs and reports in the directory ${esc(dir)}: make it a directory orch can read and write`),
    };
    await expectEveryCommandRefuses(box, said, /orch keeps its journal, logs and reports in the directory/);
    const init = await box.orch(["init"]);
    expectJournalError(init, "init", said);
    expect(readdirSync(box.repo.dir).sort()).toEqual([".git", ".orch", ...Object.keys(FILES)].sort());
    expect(readFileSync(dir, "utf8")).toBe("not a directory\n");
    expect(box.repo.git(["branch", "--list", "orch/*"])).toBe("");
    rmSync(dir);
  });
});
