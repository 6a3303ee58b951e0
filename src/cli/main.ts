#!/usr/bin/env node
// The `orch` executable: hands the arguments to the program and exits with its code.
// `orch --version` answers before commander or any command module loads: it is the start-up's floor.
import { fileURLToPath } from "node:url";
import { EXIT } from "./exit-codes.js";
import { terminalOutput } from "./output.js";
import { VERSION } from "./version.js";

/**
 * Commands that only read and print: once their reader has gone (`orch logs RUN -f | grep -m1 …`) nothing is
 * left for them to do, so they end at once. Every other command carries on without printing: a foreground run
 * drives to its end whatever happens to the terminal.
 */
const READERS = new Set(["logs", "status", "list", "report", "doctor"]);

const argv = process.argv.slice(2);
const output = terminalOutput({
  stdout: process.stdout,
  stderr: process.stderr,
  onStdoutClosed: () => {
    if (READERS.has(argv[0] ?? "")) process.exit(EXIT.ok);
  },
});
if (argv.length === 1 && (argv[0] === "--version" || argv[0] === "-V")) {
  output.out(VERSION);
} else {
  const { runCli } = await import("./program.js");
  process.exitCode = await runCli(argv, {
    cwd: process.cwd(),
    env: process.env,
    output,
    entry: fileURLToPath(import.meta.url),
  });
}
