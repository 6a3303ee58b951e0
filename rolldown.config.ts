// The build: the CLI as a handful of bundled chunks instead of some 400 small ES modules (orch's own, kysely's,
// zod's, commander's), because loading many files is most of what a short command costs (bench/README.md,
// `startup`). Each command still loads its own chunk only when it runs. better-sqlite3 stays outside: it loads
// a native addon. Source maps point into src/. Then the dashboard (web/) for the browser: one hashed script, one
// stylesheet and an index.html in dist/dashboard/, which `orch serve` serves.
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { defineConfig, type BuildOptions, type Plugin } from "rolldown";

/** A file of the project by its path from the root, found from this module up (it is also compiled into dist-bench/). */
export function projectFile(path: string): string {
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    if (existsSync(join(dir, path))) return join(dir, path);
    if (dirname(dir) === dir) throw new Error(`${path} is not in the project above ${fileURLToPath(import.meta.url)}`);
  }
}

/** Emits the stylesheet and an index.html that loads it and the entry chunk (hashed names, a strict CSP). */
function dashboardPage(stylesheet: string, title: string): Plugin {
  let styleRef = "";
  return {
    name: "orch-dashboard-page",
    buildStart() {
      styleRef = this.emitFile({ type: "asset", name: "style.css", source: readFileSync(stylesheet, "utf8") });
    },
    generateBundle(_options, bundle) {
      const entry = Object.values(bundle).find((file) => file.type === "chunk" && file.isEntry);
      if (entry === undefined) throw new Error("the dashboard build has no entry chunk");
      const html = [
        "<!doctype html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        '<meta name="color-scheme" content="light dark">',
        `<meta http-equiv="Content-Security-Policy" content="default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'">`,
        `<title>${title}</title>`,
        `<link rel="stylesheet" href="./${this.getFileName(styleRef)}">`,
        `<script type="module" src="./${entry.fileName}"></script>`,
        "</head>",
        '<body><div id="app"></div></body>',
        "</html>",
        "",
      ].join("\n");
      this.emitFile({ type: "asset", fileName: "index.html", source: html });
    },
  };
}

/** A browser bundle of `input` (TSX, preact) into `dir`: used for the dashboard and by the tests' static pages. */
export function browserBuild(input: string, dir: string, title = "orch"): BuildOptions {
  return {
    input: { main: input },
    platform: "browser",
    transform: { jsx: { runtime: "automatic", importSource: "preact" } },
    resolve: { extensionAlias: { ".js": [".ts", ".tsx", ".js"] } },
    plugins: [dashboardPage(projectFile("web/style.css"), title)],
    output: {
      dir,
      format: "esm",
      sourcemap: true,
      cleanDir: true,
      minify: process.env["ORCH_DASHBOARD_MINIFY"] !== "0",
      entryFileNames: "assets/[name]-[hash].js",
      chunkFileNames: "assets/[name]-[hash].js",
      assetFileNames: "assets/[name]-[hash][extname]",
    },
  };
}

export default defineConfig([
  {
    input: {
      // The executable (which loads the rest of the CLI from dist/cjs/), and the child-process entries that are
      // started by path.
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
  },
  // The CLI past its entry, as CommonJS chunks for cli/chunk-loader.ts, which compiles them with V8's code cache:
  // split by command as above, each chunk requiring its own builtins. Names without hashes: the cache keys a
  // chunk by name, size and time, and replaces the caches of a chunk's earlier builds.
  {
    input: { program: "src/cli/program.ts", "zod-jitless": "src/cli/zod-jitless.ts" },
    platform: "node",
    // orch's own modules do nothing when loaded beyond defining what they export (the side effects there are, a
    // process listener in the launcher, sit beside exports every importer uses): one whose exports a command does
    // not use is not in that command's chunks. Without this, importing one function through a room's index
    // (git/index.ts) put every module of the room in the chunks of `orch status`. Packages keep their own word.
    treeshake: { moduleSideEffects: (id: string) => (id.includes("/src/") ? false : undefined) },
    // better-sqlite3's JavaScript is bundled too, to come from the code cache (its own require cost a status
    // some 12 ms); its addon stays where it was installed (store/sqlite/addon.ts).
    resolve: { extensionAlias: { ".js": [".ts", ".js"] } },
    output: {
      dir: "dist/cjs",
      format: "cjs",
      sourcemap: true,
      entryFileNames: "[name].cjs",
      chunkFileNames: "[name].cjs",
      // Without comments and whitespace a chunk is some 40% smaller, and reading and hashing its source is part of
      // every command's start (`orch status` some 12 ms of CPU less). Names and code stay as written (no mangling,
      // no compression); a stack trace's line:column maps back to src/ through the chunk's .map beside it.
      minify: { compress: false, mangle: false, codegen: { removeWhitespace: true } },
    },
  },
  // After the CLI's build, which cleans dist/ first.
  browserBuild("web/main.tsx", "dist/dashboard"),
]);
