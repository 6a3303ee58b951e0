// The real browser for the dashboard's tests and bench: Debian's chromium driven by playwright-core (never a
// downloaded browser), each launch with a fresh profile directory that `close()` removes with the browser; a
// static file server on 127.0.0.1 for pages built by the tests; and the browser build of a test page (the same
// rolldown options as the dashboard's, test/fixtures/dashboard/*.tsx).
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { dirname, extname, join, normalize } from "node:path";
import { build } from "rolldown";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { browserBuild, projectFile } from "../../rolldown.config.js";

export const CHROMIUM = "/usr/bin/chromium";
const ROOT = dirname(projectFile("package.json"));
/** Screenshots and other artefacts the tests keep (gitignored). */
export const ARTIFACTS = join(ROOT, "test-artifacts");

export interface Browser {
  context: BrowserContext;
  page(options?: { width: number; height: number }): Promise<Page>;
  /** Closes the browser and removes its profile; safe to call twice. */
  close(): Promise<void>;
  /** The fresh profile directory (`--user-data-dir`) this browser runs with; `close()` removes it. */
  profile: string;
}

export const PHONE = { width: 390, height: 844 } as const;
export const DESKTOP = { width: 1440, height: 900 } as const;

export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`no chromium at ${CHROMIUM}: the dashboard's browser tests need Debian's chromium package`);
  const profile = mkdtempSync(join(tmpdir(), "orch-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    viewport: DESKTOP,
  });
  let closed = false;
  return {
    context,
    profile,
    async page(size) {
      const page = await context.newPage();
      if (size !== undefined) await page.setViewportSize(size);
      return page;
    },
    async close() {
      if (closed) return;
      closed = true;
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

export interface StaticServer {
  url: string;
  close(): Promise<void>;
}

const TYPES: Record<string, string> = { ".html": "text/html; charset=utf-8", ".js": "text/javascript", ".css": "text/css", ".map": "application/json" };

/** Serves the files of `dir` on 127.0.0.1 (a random port). */
export async function serveStatic(dir: string): Promise<StaticServer> {
  const server: Server = createServer((req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname)).replace(/^([/\\])+/, "");
    const file = join(dir, path === "" ? "index.html" : path);
    if (!file.startsWith(dir) || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404).end("not found");
      return;
    }
    res.writeHead(200, { "content-type": TYPES[extname(file)] ?? "application/octet-stream" }).end(readFileSync(file));
  });
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    close: () => new Promise<void>((done) => server.close(() => done())),
  };
}

/** Builds test page `name` (test/fixtures/dashboard/<name>.tsx) into a fresh directory; returns it. */
export async function buildTestPage(name: string): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), `orch-page-${name}-`));
  const options = browserBuild(join(ROOT, "test/fixtures/dashboard", `${name}.tsx`), dir, `orch test page: ${name}`);
  await build({ ...options, cwd: ROOT, write: true });
  return dir;
}
