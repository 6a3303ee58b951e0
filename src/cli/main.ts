#!/usr/bin/env node
// The `orch` executable: hands the arguments to the program and exits with its code.
// `orch --version` answers before commander or any command module loads: it is the start-up's floor. The rest
// of the CLI is built apart as CommonJS chunks (dist/cjs/), loaded through the code cache of chunk-loader.ts.
import { fileURLToPath } from "node:url";
import { startRepoLookup } from "../git/repo-lookup.js";
import { compileCacheDir, createChunkLoader } from "./chunk-loader.js";
import { EXIT } from "./exit-codes.js";
import { terminalOutput } from "./output.js";
import type { runCli as RunCli } from "./program.js";
import { VERSION } from "./version.js";

/**
 * Commands that only read and print: once their reader has gone (`orch logs RUN -f | grep -m1 …`) nothing is
 * left for them to do, so they end at once. Every other command carries on without printing: a foreground run
 * drives to its end whatever happens to the terminal.
 */
const READERS = new Set(["logs", "status", "list", "report", "doctor"]);

/**
 * Commands whose first step is finding the repository they run in: their git for it starts before the rest of the
 * CLI loads, and answers meanwhile (git/repo-lookup.ts). Asking for help costs no git.
 */
const IN_A_REPOSITORY = new Set(["init", "run", "plan", "status", "list", "logs", "diff", "risk", "approve", "reject", "resume", "deliver", "serve", "report", "gc", "doctor", "pause", "stop", "abort"]);

const argv = process.argv.slice(2);
const output = terminalOutput({
  stdout: process.stdout,
  stderr: process.stderr,
  onStdoutClosed: () => {
    if (READERS.has(argv[0] ?? "")) process.exit(EXIT.ok);
  },
});
// An error nothing caught (a callback's throw, a rejection nobody awaited) ends orch as an internal error, said in
// one paragraph: Node's own report would print the chunk's line above it, and a chunk is built as one long line.
const crash = (error: unknown): void => {
  try {
    output.err(`orch: internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  } finally {
    process.exit(EXIT.notConverged);
  }
};
process.on("uncaughtException", crash);
process.on("unhandledRejection", crash);

if (argv.length === 1 && (argv[0] === "--version" || argv[0] === "-V")) {
  output.out(VERSION);
} else {
  const asksForHelp = argv.some((arg) => arg === "--help" || arg === "-h");
  const repoLookup = IN_A_REPOSITORY.has(argv[0] ?? "") && !asksForHelp ? startRepoLookup(process.cwd()) : undefined;
  const loader = createChunkLoader(compileCacheDir(process.env));
  process.once("exit", () => loader.saveCache());
  // The chunks are built without whitespace: an internal error's stack names places in src/ instead.
  loader.tellStacksInSource();
  const chunk = (name: string) => fileURLToPath(new URL(`../cjs/${name}`, import.meta.url));
  // A reader parses a few rows: zod's compiled fast paths cost it more to generate than they gain (`orch status`
  // 38 ms of CPU). Other commands keep them: a run of a 10,000-task plan spends 0.4 s more without them.
  if (READERS.has(argv[0] ?? "")) loader.load(chunk("zod-jitless.cjs"));
  const { runCli } = programOf(loader.load(chunk("program.cjs")));
  process.exitCode = await runCli(argv, {
    cwd: process.cwd(),
    env: process.env,
    output,
    entry: fileURLToPath(import.meta.url),
    ...(repoLookup === undefined ? {} : { repoLookup }),
  });
}

/** The program chunk's exports, checked as far as a module of our own build needs. */
function programOf(exports: unknown): { runCli: typeof RunCli } {
  if (typeof exports === "object" && exports !== null && "runCli" in exports && typeof exports.runCli === "function") {
    return { runCli: exports.runCli as typeof RunCli };
  }
  throw new Error("the CLI's build is incomplete: dist/cjs/program.cjs has no runCli; run `npm run build`");
}
