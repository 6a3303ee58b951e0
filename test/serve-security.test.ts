// Who may ask `orch serve` what: on 127.0.0.1 it needs no token, but refuses a POST from a foreign Origin and a
// request that names another host (DNS rebinding); beyond loopback (or with --token) every request needs the token
// (made once, kept mode 0600 in .orch/, shown once; --token replaces it), as a Bearer header, ?token= (which sets an
// HttpOnly SameSite=Strict cookie) or that cookie. And `orch serve`'s own bad flags: exit 2, plain words.
import { statSync, readFileSync } from "node:fs";
import { request } from "node:http";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { FILES } from "./support/detached.js";
import { useSandboxes } from "./support/e2e.js";
import { getJson, openSse, startServe } from "./support/serve.js";

const sandboxes = useSandboxes({ prefix: "orch-serve-security-", graceMs: 3_000 });

const errorOf = (body: unknown) => (body as { error: { code: string; message: string } }).error;

/** A GET with a Host header of our choosing (fetch will not send one). */
function getWithHost(url: string, host: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers: { host } }, (res) => {
      let body = "";
      res.setEncoding("utf8").on("data", (chunk: string) => (body += chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

describe("orch serve: security", () => {
  it("on loopback: no token, but a foreign Origin may not POST and a foreign Host is refused", async () => {
    const box = sandboxes.orchRepo(FILES);
    const served = await startServe(sandboxes, box);
    try {
      expect((await getJson(`${served.url}api/runs`)).status).toBe(200);
      const foreign = await getJson(`${served.url}api/runs/x/pause`, { method: "POST", headers: { origin: "http://evil.example" } });
      expect(foreign.status).toBe(403);
      expect(errorOf(foreign.body).message).toBe(`a request from http://evil.example may not change anything here; only pages of ${served.url.slice(0, -1)} may`);
      // Its own origin passes the check (and learns there is no such run).
      expect((await getJson(`${served.url}api/runs/x/pause`, { method: "POST", headers: { origin: served.url.slice(0, -1) } })).status).toBe(404);
      const rebound = await getWithHost(`${served.url}api/runs`, `evil.example:${new URL(served.url).port}`);
      expect(rebound.status).toBe(403);
      expect(errorOf(JSON.parse(rebound.body)).message).toBe("this server answers only to requests for this machine's loopback address, not evil.example");
      expect((await getWithHost(`${served.url}api/runs`, `localhost:${new URL(served.url).port}`)).status).toBe(200);
    } finally {
      await served.stop();
    }
  });

  it("beyond loopback: the token is made once, kept 0600, required, and replaced by --token", async () => {
    const box = sandboxes.orchRepo(FILES);
    const served = await startServe(sandboxes, box, ["--host", "0.0.0.0"]);
    const tokenFile = join(box.repo.dir, ".orch", "serve-token");
    let token: string;
    try {
      token = readFileSync(tokenFile, "utf8").trim();
      expect(statSync(tokenFile).mode & 0o777).toBe(0o600);
      expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(served.stdout()).toContain(`?token=${token}`);
      const api = `${served.url}api/runs`;

      const missing = await getJson(api);
      expect(missing.status).toBe(401);
      expect(errorOf(missing.body).message).toBe("this server needs its token: send `Authorization: Bearer <token>` or open the URL with ?token=<token>");
      const wrong = await getJson(api, { headers: { authorization: "Bearer not-the-token" } });
      expect(wrong.status).toBe(401);
      expect(errorOf(wrong.body).message).toBe("the token is wrong");
      expect((await getJson(`${api}?token=nope`)).status).toBe(401);
      expect((await getJson(api, { headers: { authorization: "Basic abc" } })).status).toBe(401);
      // Nothing is served without it: not /metrics, not the page, not a stream.
      expect((await fetch(`${served.url}metrics`)).status).toBe(401);
      expect((await fetch(served.url)).status).toBe(401);
      expect(await openSse(`${served.url}api/stream`).status).toBe(401);

      expect((await getJson(api, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
      const viaQuery = await fetch(`${served.url}?token=${token}`);
      expect(viaQuery.status).toBe(200); // the token was accepted: the dashboard's page
      expect(await viaQuery.text()).not.toContain(token);
      const cookie = viaQuery.headers.get("set-cookie") ?? "";
      expect(cookie).toMatch(new RegExp(`^orch_token=${token}; Path=/; HttpOnly; SameSite=Strict$`));
      expect((await getJson(api, { headers: { cookie: `orch_token=${token}` } })).status).toBe(200);
      const stream = openSse(`${served.url}api/stream?token=${token}`);
      expect(await stream.status).toBe(200);
      stream.close();
      // The token never appears in an answer.
      expect(JSON.stringify((await getJson(api, { headers: { authorization: `Bearer ${token}` } })).body)).not.toContain(token);
    } finally {
      await served.stop();
    }

    // Started again: the same token, not shown again.
    const second = await startServe(sandboxes, box, ["--host", "0.0.0.0"]);
    try {
      expect(second.stdout()).not.toContain(token);
      expect(second.stdout()).toContain("every request needs the token kept in .orch/serve-token");
      expect((await getJson(`${second.url}api/runs`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
    } finally {
      await second.stop();
    }

    // --token replaces it (and requires it even on loopback).
    const rotated = await startServe(sandboxes, box, ["--token"]);
    try {
      const fresh = readFileSync(tokenFile, "utf8").trim();
      expect(fresh).not.toBe(token);
      expect(statSync(tokenFile).mode & 0o777).toBe(0o600);
      expect(rotated.stdout()).toContain(`?token=${fresh}`);
      expect((await getJson(`${rotated.url}api/runs`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(401);
      expect((await getJson(`${rotated.url}api/runs`, { headers: { authorization: `Bearer ${fresh}` } })).status).toBe(200);
    } finally {
      await rotated.stop();
    }
  });

  it("refuses bad flags with exit 2 and plain words", async () => {
    const box = sandboxes.orchRepo(FILES);
    const cases: [string[], string][] = [
      [["serve", "--port", "abc"], 'orch: --port must be a port number from 0 to 65535, not "abc"'],
      [["serve", "--port", "70000"], 'orch: --port must be a port number from 0 to 65535, not "70000"'],
      [["serve", "--port", "-1"], 'orch: --port must be a port number from 0 to 65535, not "-1"'],
      [["serve", "--host", "bad host!"], 'orch: --host must be an address or a host name of this machine, not "bad host!"'],
      [["serve", "--colour"], "error: unknown option '--colour'"],
    ];
    for (const [args, message] of cases) {
      const result = await box.orch(args);
      expect([args.join(" "), result.code]).toEqual([args.join(" "), 2]);
      expect(result.stderr).toContain(message);
    }
    // A port already taken.
    const served = await startServe(sandboxes, box);
    try {
      const port = new URL(served.url).port;
      const taken = await box.orch(["serve", "--port", port]);
      expect(taken.code).toBe(2);
      expect(taken.stderr).toContain(`orch: cannot listen on 127.0.0.1:${port}: port ${port} is already in use`);
    } finally {
      await served.stop();
    }
  });
});
