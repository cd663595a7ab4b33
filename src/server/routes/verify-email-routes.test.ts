import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { openContext } from "../../app/open-context.ts";
import { loadConfig } from "../../config/env.ts";
import { tempDir } from "../../lib/test-fixtures.ts";
import { buildCorpus, type Corpus } from "../../phishing/verify-email/test-corpus.ts";
import type { Db } from "../../store/db.ts";
import { buildServer } from "../build-server.ts";
import { startTestServer, type TestServer } from "../test-server.ts";
import { VERIFY_BODY_LIMIT, VERIFY_RATE } from "./verify-email-routes.ts";

/** POST /api/v1/verify-email: public, bounded, rate-limited, and leaving nothing behind. */

type Answer = {
  status: number;
  body: Record<string, unknown> & { error?: { code: string; message: string } };
};

async function post(
  url: string,
  body: string | Uint8Array,
  type: string,
  headers: Record<string, string> = {},
): Promise<Answer> {
  const res = await fetch(`${url}/api/v1/verify-email`, {
    method: "POST",
    headers: { "content-type": type, ...headers },
    body,
  });
  return { status: res.status, body: (await res.json()) as Answer["body"] };
}

/** Rows in every table of the store, by table. */
async function rowCounts(db: Db): Promise<Record<string, number>> {
  const tables = await db.query<{ name: string }>(
    "select table_name as name from information_schema.tables where table_schema = current_schema() and table_type = 'BASE TABLE' order by 1",
  );
  const counts: Record<string, number> = {};
  for (const { name } of tables.rows) {
    const r = await db.query<{ n: number }>(`select count(*)::int as n from "${name.replaceAll('"', '""')}"`);
    counts[name] = r.rows[0]?.n ?? -1;
  }
  return counts;
}

describe("POST /api/v1/verify-email", { timeout: 180_000 }, () => {
  let corpus: Corpus;
  let server: TestServer;

  before(async () => {
    corpus = await buildCorpus();
    server = await startTestServer({
      BLASTRADIUS_OFFICIAL_DOMAINS: "openai.com",
      BLASTRADIUS_DNS_CACHE: corpus.dnsCacheFile,
    });
  });
  after(async () => server?.close());

  it("answers without a session, for text/plain, message/rfc822 and JSON bodies, and stores nothing", async () => {
    const before = await rowCounts(server.ctx.db);
    for (const table of ["audit_events", "users", "sessions", "jobs", "outbox"]) {
      assert.ok(table in before, `the count covers ${table}: ${Object.keys(before).join(", ")}`);
    }

    const genuine = await post(
      server.url,
      corpus.messages.genuine.toString("utf8"),
      "text/plain; charset=utf-8",
    );
    assert.equal(genuine.status, 200, JSON.stringify(genuine.body));
    assert.equal(genuine.body.verdict, "authentic", JSON.stringify(genuine.body));
    assert.deepEqual(genuine.body.reasons, []);
    assert.equal((genuine.body.auth as { dmarc: { result: string } }).dmarc.result, "pass");

    const spoofed = await post(server.url, new Uint8Array(corpus.messages["spoofed-from"]), "message/rfc822");
    assert.equal(spoofed.status, 200);
    assert.equal(spoofed.body.verdict, "phishing");
    assert.ok((spoofed.body.reasons as { code: string }[]).some((r) => r.code === "dmarc-fail"));

    const json = await post(
      server.url,
      JSON.stringify({ message: corpus.messages["display-name"].toString("utf8") }),
      "application/json",
    );
    assert.equal(json.status, 200);
    assert.equal(json.body.verdict, "phishing");
    assert.deepEqual(json.body.from, {
      name: "OpenAI Support",
      address: "support@mailer.example",
      domain: "mailer.example",
    });

    assert.deepEqual(await rowCounts(server.ctx.db), before, "no row added or removed in any table");
  });

  it("takes a message up to the limit, and refuses a body over it with 413, naming the limit", async () => {
    // over the server's 1 MB limit for other JSON bodies, under this route's 2 MB
    const large = `${corpus.messages.genuine.toString("utf8")}${"x".repeat(1_500_000)}\r\n`;
    for (const [body, type] of [
      [large, "message/rfc822"],
      [JSON.stringify({ message: large }), "application/json"],
    ] as const) {
      const r = await post(server.url, body, type);
      assert.equal(r.status, 200, `${type}: ${JSON.stringify(r.body).slice(0, 300)}`);
      assert.equal(r.body.verdict, "suspicious", "the padding breaks the body hash");
    }
    const big = `${corpus.messages.genuine.toString("utf8")}${"x".repeat(VERIFY_BODY_LIMIT)}`;
    for (const [body, type] of [
      [big, "text/plain"],
      [big, "message/rfc822"],
      [JSON.stringify({ message: big }), "application/json"],
    ] as const) {
      const r = await post(server.url, body, type);
      assert.equal(r.status, 413, type);
      assert.equal(r.body.error?.code, "TOO_LARGE");
      assert.match(r.body.error?.message ?? "", /larger than 2 MB/);
    }
  });

  it("says what is wrong with a body that is not a message", async () => {
    const empty = await post(server.url, "", "text/plain");
    assert.ok(empty.status === 400, JSON.stringify(empty.body));
    const notMessage = await post(server.url, "Hi, did you send me this?", "text/plain");
    assert.equal(notMessage.status, 422);
    assert.match(notMessage.body.error?.message ?? "", /not an email message/);
    const wrongJson = await post(server.url, JSON.stringify({ text: "x" }), "application/json");
    assert.equal(wrongJson.status, 400);
    assert.match(wrongJson.body.error?.message ?? "", /raw message/);
    const image = await post(server.url, "GIF89a", "image/gif");
    assert.equal(image.status, 415);
  });

  it("is in the API document as a public route", async () => {
    const doc = (await (await fetch(`${server.url}/api/v1/openapi.json`)).json()) as {
      paths: Record<string, { post?: { security?: unknown[] } }>;
    };
    assert.deepEqual(doc.paths["/api/v1/verify-email"]?.post?.security, []);
    assert.ok(server.routeTable.some((r) => r.url === "/api/v1/verify-email" && r.role === "public"));
  });
});

describe("POST /api/v1/verify-email on a server without official domains", { timeout: 120_000 }, () => {
  it("answers 503 naming the setting, rate-limits each client, and logs nothing", async () => {
    const config = loadConfig({
      BLASTRADIUS_DATA: await tempDir("blastradius-verify-"),
      BLASTRADIUS_MEMORY_LIMIT: "1GB",
      BLASTRADIUS_THREADS: "2",
    });
    const ctx = await openContext(config);
    const lines: string[] = [];
    const app = await buildServer(ctx, {
      bootstrapCode: () => null,
      onBootstrapped: () => {},
      log: (line) => lines.push(line),
    });
    try {
      await app.listen({ port: 0, host: "127.0.0.1" });
      const address = app.server.address();
      const url = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
      const statuses: number[] = [];
      for (let i = 0; i < VERIFY_RATE.max; i++) {
        const r = await post(url, "From: a@b.example\r\n\r\nhello", "text/plain");
        statuses.push(r.status);
        if (i === 0) {
          assert.equal(r.body.error?.code, "NOT_CONFIGURED");
          assert.match(r.body.error?.message ?? "", /BLASTRADIUS_OFFICIAL_DOMAINS/);
        }
      }
      assert.deepEqual(new Set(statuses), new Set([503]));
      const limited = await post(url, "From: a@b.example\r\n\r\nhello", "text/plain");
      assert.equal(limited.status, 429);
      assert.equal(limited.body.error?.code, "RATE_LIMITED");
      assert.deepEqual(lines, [], "the server logged nothing");
    } finally {
      await app.close();
      await ctx.close();
    }
  });
});
