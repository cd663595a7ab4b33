import assert from "node:assert/strict";
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { tempDir } from "../lib/test-fixtures.ts";
import { startTestServer, type TestServer } from "./test-server.ts";

describe("the web UI's files", () => {
  let server: TestServer;
  let unbuilt: TestServer;
  before(async () => {
    const root = await tempDir("blastradius-web-");
    await mkdir(path.join(root, "assets"));
    await writeFile(path.join(root, "index.html"), "<!doctype html><title>app</title>");
    await writeFile(path.join(root, "assets", "index-abc123.js"), "console.log(1)");
    await writeFile(path.join(root, "secret.txt"), "not an asset");
    server = await startTestServer({}, { webRoot: root });
    unbuilt = await startTestServer({}, { webRoot: path.join(root, "missing") });
  });
  after(async () => {
    await server?.close();
    await unbuilt?.close();
  });

  it("answers every page address with index.html, uncached, under a CSP without inline scripts", async () => {
    for (const address of ["/", "/incidents", "/incidents/0b6e/blast-radius?x=1"]) {
      const r = await fetch(`${server.url}${address}`);
      assert.equal(r.status, 200, address);
      assert.match(r.headers.get("content-type") ?? "", /^text\/html/);
      assert.equal(await r.text(), "<!doctype html><title>app</title>");
      assert.equal(r.headers.get("cache-control"), "no-store");
      const csp = r.headers.get("content-security-policy") ?? "";
      assert.match(csp, /script-src 'self'(;|$)/);
      assert.match(csp, /connect-src 'self'/);
      assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|\*/);
    }
  });

  it("serves hashed assets for good and nothing outside assets/", async () => {
    const js = await fetch(`${server.url}/assets/index-abc123.js`);
    assert.equal(js.status, 200);
    assert.match(js.headers.get("content-type") ?? "", /javascript/);
    assert.equal(js.headers.get("cache-control"), "public, max-age=31536000, immutable");
    assert.equal(await js.text(), "console.log(1)");
    for (const address of ["/secret.txt", "/assets/missing.js", "/assets/%2e%2e/secret.txt"]) {
      const r = await fetch(`${server.url}${address}`);
      assert.equal(r.status, 404, address);
      assert.equal(((await r.json()) as { error: { code: string } }).error.code, "NOT_FOUND");
    }
  });

  it("refuses a malformed address", async () => {
    assert.equal((await fetch(`${server.url}/assets/%E0%A4%A`)).status, 400);
  });

  it("keeps the API's answers JSON", async () => {
    const missing = await fetch(`${server.url}/api/v1/no-such-route`);
    assert.equal(missing.status, 404);
    assert.equal(((await missing.json()) as { error: { code: string } }).error.code, "NOT_FOUND");
    const me = await fetch(`${server.url}/api/v1/me`);
    assert.equal(me.status, 401);
  });

  it("says how to build the UI when it has not been built", async () => {
    const r = await fetch(`${unbuilt.url}/incidents`);
    assert.equal(r.status, 503);
    assert.match(await r.text(), /npm run build:web/);
  });
});
