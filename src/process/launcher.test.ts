// The resident launcher with real processes: arguments and output passed exactly, exit codes and signals as a
// shell tells them, commands that cannot run told apart, many at once, its own session, and nothing left behind
// when the process that used it exits or is killed. The direct fallback gives the same answers.
import { spawn, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { closeLaunchers, launch, LaunchError } from "./launcher.js";

let tmp = "";
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), "orch-launcher-test-"));
});
afterAll(() => {
  closeLaunchers();
  rmSync(tmp, { recursive: true, force: true });
});

const env = (extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({ ...process.env, ...extra });
const sh = (script: string, ...args: string[]) => launch("/bin/sh", ["-c", script, "sh", ...args], { cwd: tmp, env: env() });

/** The built module (`npm run build`), for a process of its own to use. */
const BUILT = new URL("../../dist/process/launcher.js", import.meta.url).pathname;

/** The session id (field 6 of /proc/<pid>/stat) of a process. */
const sessionOf = (stat: string): number => Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[3]);

describe.each([
  ["through the resident shell", {}],
  ["forked directly (ORCH_LAUNCHER=direct)", { ORCH_LAUNCHER: "direct" }],
])("launch %s", (_name, mode) => {
  beforeAll(() => Object.assign(process.env, mode));
  afterAll(() => {
    delete process.env.ORCH_LAUNCHER;
  });

  it("passes every argument exactly and keeps stdout and stderr apart", async () => {
    const awkward = ["", "two words", "line\nbreak", "'quoted' \"both\"", "$HOME `x` \\", "ünïcødé", "-n", "*"];
    const result = await sh('for a in "$@"; do printf "<%s>" "$a"; done; echo oops >&2', ...awkward);
    expect(result).toEqual({ stdout: awkward.map((a) => `<${a}>`).join(""), stderr: "oops\n", exitCode: 0 });
  });

  it("returns any exit code, and 128 + the signal for a command killed by one", async () => {
    expect((await sh("exit 3")).exitCode).toBe(3);
    expect((await sh("kill -9 $$")).exitCode).toBe(137);
  });

  it("runs in the folder asked, with the environment given", async () => {
    const dir = join(tmp, "inside");
    mkdirSync(dir, { recursive: true });
    const result = await launch("/bin/sh", ["-c", 'pwd; echo "$ORCH_LAUNCH_PROBE"'], { cwd: dir, env: env({ ORCH_LAUNCH_PROBE: "probe" }) });
    expect(result.stdout).toBe(`${dir}\nprobe\n`);
  });

  it("keeps large output whole", async () => {
    const result = await sh("head -c 3000000 /dev/zero | tr '\\0' x; printf end");
    expect(result.stdout).toHaveLength(3_000_003);
    expect(result.stdout.endsWith("xend")).toBe(true);
  });

  it("tells a missing folder and a missing program from a command that fails", async () => {
    const cwd = await launch("/bin/sh", ["-c", "true"], { cwd: join(tmp, "no-such-folder"), env: env() }).catch((e: unknown) => e);
    expect(cwd).toBeInstanceOf(LaunchError);
    expect((cwd as LaunchError).reason).toBe("cwd");
    const file = await launch("orch-no-such-program", [], { cwd: tmp, env: env() }).catch((e: unknown) => e);
    expect(file).toBeInstanceOf(LaunchError);
    expect((file as LaunchError).reason).toBe("file");
  });

  it("runs many at once, each answer to its own caller", async () => {
    const results = await Promise.all(Array.from({ length: 150 }, (_, i) => sh('printf "%s" "$1"; exit $(($1 % 7))', String(i))));
    results.forEach((result, i) => expect(result).toEqual({ stdout: String(i), stderr: "", exitCode: i % 7 }));
  });
});

describe("the resident shell", () => {
  it("runs commands in a session of their own, so a Ctrl-C at orch's terminal does not cut them short", async () => {
    const result = await sh("cat /proc/self/stat");
    expect(sessionOf(result.stdout)).not.toBe(sessionOf(readFileSync("/proc/self/stat", "utf8")));
  });

  it("starts a new shell when its folder was removed under it (a tmp cleaner, a test's sandbox)", async () => {
    const box = mkdtempSync(join(tmp, "cleaned-"));
    const boxed = env({ ORCH_LAUNCH_PROBE: box });
    const saved = process.env.TMPDIR;
    process.env.TMPDIR = box; // where the new shell makes its folder
    const first = await launch("/bin/sh", ["-c", "echo one"], { cwd: tmp, env: boxed }).finally(() => {
      if (saved === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = saved;
    });
    expect(first.stdout).toBe("one\n");
    const [folder] = readdirSync(box).filter((f) => f.startsWith("orch-launch-"));
    expect(folder).toBeDefined();
    rmSync(join(box, folder ?? ""), { recursive: true, force: true });
    const second = await launch("/bin/sh", ["-c", "echo two"], { cwd: tmp, env: boxed });
    expect(second).toEqual({ stdout: "two\n", stderr: "", exitCode: 0 });
  });

  it("leaves no folder behind when the process using it exits, or is killed", async () => {
    const box = mkdtempSync(join(tmp, "box-"));
    const user = (end: string) =>
      [
        `const { launch } = await import(${JSON.stringify(BUILT)});`,
        `const r = await launch("/bin/sh", ["-c", "echo ok"], { cwd: ${JSON.stringify(box)}, env: process.env });`,
        `if (r.stdout !== "ok\\n") process.exit(3);`,
        end,
      ].join("\n");
    const node = ["--input-type=module", "-e"];
    const exited = spawnSync(process.execPath, [...node, user("process.exit(0);")], { env: env({ TMPDIR: box }), encoding: "utf8" });
    expect(exited.status, exited.stderr).toBe(0);
    expect(readdirSync(box)).toEqual([]);

    const killed = spawn(process.execPath, [...node, user('console.log("ready"); setInterval(() => {}, 1000);')], { env: env({ TMPDIR: box }), stdio: ["ignore", "pipe", "inherit"] });
    await new Promise<void>((resolve) => killed.stdout.once("data", () => resolve()));
    expect(readdirSync(box).filter((f) => f.startsWith("orch-launch-"))).toHaveLength(1);
    killed.kill("SIGKILL");
    for (let i = 0; i < 50 && readdirSync(box).length > 0; i++) await sleep(100);
    expect(readdirSync(box)).toEqual([]);
  });
});
