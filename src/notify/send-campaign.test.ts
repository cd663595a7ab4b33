import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { dkimVerify } from "mailauth/lib/dkim/verify.js";
import type { Context } from "../app/context.ts";
import type { Actor } from "../auth/roles.ts";
import { cliActor } from "../auth/roles.ts";
import { loadConfig } from "../config/env.ts";
import { createSealer } from "../lib/seal.ts";
import type { Db } from "../store/db.ts";
import { type Backend, backends } from "../store/test-backends.ts";
import {
  approveCampaign,
  type CampaignSettings,
  campaignCounts,
  createCampaign,
  listDeliveries,
} from "./campaigns.ts";
import type { Recipient } from "./notice-types.ts";
import { readOutboxMessage } from "./read-messages.ts";
import { recordBounce } from "./record-bounces.ts";
import { sendCampaign } from "./send-campaign.ts";
import { startSmtpPeer } from "./test-smtp-peer.ts";

async function simpleText(raw: Buffer): Promise<string | undefined> {
  const { default: PostalMime } = await import("postal-mime");
  return (await PostalMime.parse(raw)).text;
}

import { outboxTransport, smtpTransport } from "./transports.ts";

const alice: Actor = { kind: "user", userId: "a", role: "responder", label: "user:alice" };
const bob: Actor = { kind: "user", userId: "b", role: "responder", label: "user:bob" };

const settings: CampaignSettings = {
  company: "Example Inc.",
  vendor: "Analytics Co",
  incidentStart: "2025-11-08",
  incidentEnd: "2025-11-09",
  discoveredAt: "2025-11-09",
  notExposed: ["passwords", "api_keys"],
  senderDomains: ["example.com"],
  contact: "security@example.com",
  localeDefault: "en",
  templatesDir: null,
  from: "Example Security <security@example.com>",
  replyTo: null,
};

function person(i: number, extra: Partial<Recipient> = {}): Recipient {
  return {
    email: `p${i}@d${i % 3}.example.org`,
    name: `Person ${i}`,
    locale: i % 2 ? "de" : "en",
    country: "DE",
    categories: ["user.contact.email", "user.name"],
    orgs: [],
    ...extra,
  };
}

async function* batches(rs: Recipient[]): AsyncGenerator<Recipient[]> {
  yield rs;
}

const fast = {
  concurrency: 3,
  domainConcurrency: 3,
  rate: null,
  maxAttempts: 3,
  retryDelayMs: 20,
  threads: 0,
};

for (const [i, make] of backends.entries()) {
  describe(`sending campaigns on ${i === 0 ? "PGlite" : "PostgreSQL"}`, () => {
    let backend: Backend;
    let db: Db;
    let ctx: Context;
    before(async () => {
      backend = await make();
      if (backend.skip) return;
      db = await backend.open();
      const key = Buffer.alloc(32, 7);
      ctx = { db, key, sealer: createSealer(key), config: loadConfig({ BLASTRADIUS_DATA: backend.dataDir }) };
    });
    after(async () => {
      await db?.close();
      await backend?.cleanup();
    });

    async function approved(id: string, rs: Recipient[]) {
      await createCampaign(ctx, alice, {
        id,
        source: "test",
        audience: "users",
        filters: {},
        settings,
        recipients: batches(rs),
      });
      return approveCampaign(ctx, bob, id);
    }

    it("needs a second person's approval, and audits it", async (t) => {
      if (backend.skip) return t.skip(backend.skip);
      await createCampaign(ctx, alice, {
        id: "appr",
        source: "test",
        audience: "users",
        filters: {},
        settings,
        recipients: batches([person(1)]),
      });
      await assert.rejects(sendCampaign(ctx, alice, "appr", outboxTransport(), { dkim: null }, fast), {
        code: "CONFLICT",
      });
      await assert.rejects(approveCampaign(ctx, alice, "appr"), { code: "FORBIDDEN" });
      const c = await approveCampaign(ctx, bob, "appr");
      assert.equal(c.status, "approved");
      assert.equal(c.approvedBy, "user:bob");
      const audit = await db.query<{ actor: string }>(
        "SELECT actor FROM audit_events WHERE action = 'campaign.approve' AND subject = 'campaign:appr'",
      );
      assert.deepEqual(
        audit.rows.map((r) => r.actor),
        ["user:bob"],
      );
    });

    it("signs with DKIM, retries 4xx, fails 5xx without retrying, resends a dropped message with its Message-ID", async (t) => {
      if (backend.skip) return t.skip(backend.skip);
      const rs = [person(1), person(2), person(3), person(4), person(5)];
      const peer = await startSmtpPeer({
        rule: ({ rcpt, attempt }) => {
          if (rcpt[0] === rs[1]?.email) return attempt === 1 ? "4xx" : "accept";
          if (rcpt[0] === rs[2]?.email) return "5xx";
          if (rcpt[0] === rs[3]?.email) return attempt === 1 ? "drop-after-data" : "accept";
          return "accept";
        },
      });
      const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
      const dkim = {
        domain: "example.com",
        selector: "notify1",
        privateKey: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
      };
      await approved("smtp", rs);
      const transport = smtpTransport(peer.url, { connections: 3 });
      try {
        const report = await sendCampaign(
          ctx,
          cliActor,
          "smtp",
          transport,
          { dkim },
          { ...fast, threads: 1 },
        );
        assert.deepEqual(report.counts, {
          total: 5,
          sent: 4,
          failed: 1,
          bounced: 0,
          suppressed: 0,
          pending: 0,
        });
      } finally {
        await transport.close();
        await peer.close();
      }
      const ledger = (await listDeliveries(ctx, alice, "smtp")).items;
      const byEmail = new Map(ledger.map((d) => [d.recipient.email, d]));
      const d = (k: number) => {
        const x = byEmail.get(rs[k]?.email ?? "");
        assert.ok(x);
        return x;
      };
      assert.equal(d(0).state, "sent");
      assert.equal(d(0).attempts, 1);
      assert.equal(d(1).state, "sent");
      assert.equal(d(1).attempts, 2, "the 4xx was retried once");
      assert.equal(d(2).state, "failed");
      assert.equal(d(2).attempts, 1, "no retry after 5xx");
      assert.match(d(2).reply ?? "", /550|5\.1\.1/);
      assert.equal(d(3).state, "sent");
      assert.equal(d(3).attempts, 2);

      const got = (k: number) => peer.received.filter((m) => m.rcpt[0] === rs[k]?.email);
      assert.equal(got(2).length, 1, "5xx is not retried");
      for (const k of [1, 3]) {
        const copies = got(k);
        assert.equal(copies.length, 2);
        assert.equal(copies[0]?.messageId, d(k).messageId);
        assert.equal(copies[1]?.messageId, d(k).messageId, "the resend carries the same Message-ID");
      }
      const dnsTxt = `v=DKIM1; k=rsa; p=${publicKey.export({ type: "spki", format: "der" }).toString("base64")}`;
      const resolver = async (name: string, type: string) => {
        if (type === "TXT" && name === "notify1._domainkey.example.com") return [[dnsTxt]];
        throw Object.assign(new Error("not found"), { code: "ENOTFOUND" });
      };
      for (const m of peer.delivered()) {
        const result = await dkimVerify(m.raw, { resolver });
        const sig = result.results[0];
        assert.equal(
          sig?.status.result,
          "pass",
          `DKIM verifies for ${m.messageId}: ${JSON.stringify(sig?.status)}`,
        );
        assert.equal(sig?.signingDomain, "example.com");
      }
      // a message altered in transit no longer verifies
      const first = peer.delivered()[0];
      assert.ok(first);
      const text = first.raw.toString("latin1");
      const body = text.indexOf("\r\n\r\n") + 4;
      const tampered = Buffer.from(`${text.slice(0, body)}X${text.slice(body + 1)}`, "latin1");
      const bad = await dkimVerify(tampered, { resolver });
      assert.notEqual(bad.results[0]?.status.result, "pass");
    });

    it("keeps outbox messages in the store, and hard bounces suppress the address in later campaigns", async (t) => {
      if (backend.skip) return t.skip(backend.skip);
      const rs = [person(10), person(11)];
      await approved("box", rs);
      const report = await sendCampaign(ctx, cliActor, "box", outboxTransport(), { dkim: null }, fast);
      assert.equal(report.counts.sent, 2);
      const stored = await readOutboxMessage(ctx, alice, "box", rs[0]?.email ?? "");
      assert.match(
        stored.raw.toString(),
        new RegExp(`Message-ID: ${stored.messageId.replace(/[.]/g, "\\.")}`, "i"),
      );
      assert.match((await simpleText(stored.raw)) ?? "", /Analytics Co/);

      const dsn = [
        "From: MAILER-DAEMON@mx.example.org",
        "To: security@example.com",
        "Subject: Undelivered Mail Returned to Sender",
        "MIME-Version: 1.0",
        'Content-Type: multipart/report; report-type=delivery-status; boundary="b1"',
        "",
        "--b1",
        "Content-Type: text/plain",
        "",
        "Your message could not be delivered.",
        "--b1",
        "Content-Type: message/delivery-status",
        "",
        "Reporting-MTA: dns; mx.example.org",
        "",
        `Final-Recipient: rfc822; ${rs[1]?.email}`,
        "Action: failed",
        "Status: 5.1.1",
        "Diagnostic-Code: smtp; 550 5.1.1 user unknown",
        "",
        "--b1",
        "Content-Type: text/rfc822-headers",
        "",
        `Message-ID: ${(await listDeliveries(ctx, alice, "box")).items[1]?.messageId}`,
        "Subject: x",
        "",
        "--b1--",
        "",
      ].join("\r\n");
      assert.deepEqual(await recordBounce(ctx, alice, Buffer.from(dsn)), { hard: 1, soft: 0, unmatched: 0 });
      assert.deepEqual(await campaignCounts(db, "box"), {
        total: 2,
        sent: 1,
        failed: 0,
        bounced: 1,
        suppressed: 0,
        pending: 0,
      });

      await approved("box2", [person(11), person(12)]);
      const again = await sendCampaign(ctx, cliActor, "box2", outboxTransport(), { dkim: null }, fast);
      assert.deepEqual(again.counts, { total: 2, sent: 1, failed: 0, bounced: 0, suppressed: 1, pending: 0 });
    });

    it("stops when the relay cannot be reached, leaving every recipient owed", async (t) => {
      if (backend.skip) return t.skip(backend.skip);
      await approved("down", [person(20), person(21)]);
      const peer = await startSmtpPeer();
      const url = peer.url;
      await peer.close();
      const transport = smtpTransport(url, { connections: 2 });
      try {
        await assert.rejects(
          sendCampaign(ctx, cliActor, "down", transport, { dkim: null }, fast),
          (e: Error & { code?: string }) => {
            assert.equal(e.code, "WORK_FAILED");
            assert.match(e.message, /cannot be used/);
            return true;
          },
        );
      } finally {
        await transport.close();
      }
      assert.deepEqual(await campaignCounts(db, "down"), {
        total: 2,
        sent: 0,
        failed: 0,
        bounced: 0,
        suppressed: 0,
        pending: 2,
      });
    });
  });
}
