// The build: the CLI as a handful of bundled chunks instead of some 400 small ES modules (orch's own, kysely's,
// zod's, commander's), because loading many files is most of what a short command costs (bench/README.md,
// `startup`). Each command still loads its own chunk only when it runs. better-sqlite3 stays outside: it loads
// a native addon. Source maps point into src/.
import { defineConfig } from "rolldown";

export default defineConfig({
  input: {
    // The executable, and the child-process entries that are started by path.
    "cli/main": "src/cli/main.ts",
    "agents/scripted/player": "src/agents/scripted/player.ts",
    // Opened by path in tests' child processes: the store's (test/store-sqlite.test.ts) and the resident shell's
    // (src/process/launcher.test.ts, which kills a process using it).
    "store/sqlite/open": "src/store/sqlite/open.ts",
    "process/launcher": "src/process/launcher.ts",
  },
  platform: "node",
  external: ["better-sqlite3"],
  resolve: { extensionAlias: { ".js": [".ts", ".js"] } },
  output: {
    dir: "dist",
    format: "esm",
    sourcemap: true,
    cleanDir: true,
    entryFileNames: "[name].js",
    chunkFileNames: "chunks/[name]-[hash].js",
  },
});
