#!/usr/bin/env node
// The `orch` executable: hands the arguments to the program and exits with its code.
import { fileURLToPath } from "node:url";
import { processOutput } from "./output.js";
import { runCli } from "./program.js";

const code = await runCli(process.argv.slice(2), {
  cwd: process.cwd(),
  env: process.env,
  output: processOutput,
  entry: fileURLToPath(import.meta.url),
});
process.exitCode = code;
