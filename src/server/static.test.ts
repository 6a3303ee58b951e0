// The dashboard's files: by path with their content type, index.html for a client route, no way out of the folder,
// and plain words when the dashboard is not built. Over a real folder of files.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ApiError } from "./errors.js";
import { NOT_BUILT, staticFile } from "./static.js";

const made: string[] = [];
afterEach(() => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function dashboard(): { root: string; dir: string } {
  const root = mkdtempSync(join(tmpdir(), "orch-static-"));
  made.push(root);
  const dir = join(root, "dashboard");
  mkdirSync(join(dir, "assets"), { recursive: true });
  writeFileSync(join(dir, "index.html"), "<!doctype html><title>orch</title>");
  writeFileSync(join(dir, "assets", "app-1a2b.js"), "console.log(1)");
  writeFileSync(join(dir, "assets", "app.css"), "body{}");
  writeFileSync(join(root, "secret.txt"), "outside");
  return { root, dir };
}

describe("the dashboard's files", () => {
  it("serves files with their type, and index.html for client routes", async () => {
    const { dir } = dashboard();
    expect(await staticFile(dir, "/")).toMatchObject({ status: 200, type: "text/html; charset=utf-8", cache: "no-cache" });
    const js = await staticFile(dir, "/assets/app-1a2b.js");
    expect(js).toMatchObject({ status: 200, type: "text/javascript; charset=utf-8" });
    expect(js.body.toString()).toBe("console.log(1)");
    expect((await staticFile(dir, "/assets/app.css")).type).toBe("text/css; charset=utf-8");
    const route = await staticFile(dir, "/runs/261207-1200-abcd");
    expect(route).toMatchObject({ status: 200, type: "text/html; charset=utf-8" });
    expect(route.body.toString()).toContain("<title>orch</title>");
    expect((await staticFile(dir, "/assets/missing.js")).status).toBe(404);
  });

  it("never reads outside its folder", async () => {
    const { dir } = dashboard();
    for (const path of ["/../secret.txt", "/%2e%2e/secret.txt", "/assets/%2E%2E/%2E%2E/secret.txt", "/..%2fsecret.txt"]) {
      const answer = await staticFile(dir, path).catch((error: unknown) => error);
      expect(answer, path).toBeInstanceOf(ApiError);
      expect((answer as ApiError).status, path).toBe(404);
    }
    await expect(staticFile(dir, "/a%00b")).rejects.toMatchObject({ status: 400, message: "the path holds a NUL character" });
    await expect(staticFile(dir, "/%E0%A4%A")).rejects.toMatchObject({ status: 400 });
  });

  it("says in plain words that the dashboard is not built", async () => {
    const { root } = dashboard();
    expect(await staticFile(join(root, "nowhere"), "/")).toEqual({ status: 503, type: "text/plain; charset=utf-8", body: NOT_BUILT, cache: "no-store" });
  });
});
