// Where better-sqlite3's compiled addon is. Left to itself better-sqlite3 finds it through the `bindings` package,
// which probes a dozen paths from its caller's file: some 4 ms of every start, and the wrong folder once
// better-sqlite3's code is bundled into the CLI's chunks (rolldown.config.ts). Every install puts the addon in
// the package's build/Release/, so it is handed over from there; without one there, `bindings` looks as before.
import { createRequire } from "node:module";

export function addonOption(): { nativeBinding?: string } {
  try {
    return { nativeBinding: createRequire(import.meta.url).resolve("better-sqlite3/build/Release/better_sqlite3.node") };
  } catch {
    return {};
  }
}
