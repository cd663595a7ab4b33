import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { loadConfig } from "./src/config/env.ts";
import { openContext } from "./src/app/open-context.ts";
const dir = mkdtempSync(path.join(os.tmpdir(), "pgl-"));
const ctx = await openContext(loadConfig({ BLASTRADIUS_DATA: dir }));
const db = ctx.db;
await db.query("INSERT INTO campaigns (id, source, audience, settings, nonce, created_by) VALUES ('b','x','users','{}','n','t')");
const N = 10000;
await db.query(`INSERT INTO deliveries (campaign_id, ordinal, email_hash, recipient, message_id) SELECT 'b', g, md5(g::text), decode(repeat('ab', 300), 'hex'), '<'||g||'@x>' FROM generate_series(0, ${N - 1}) g`);
const seal = (s: string) => ctx.sealer.seal(s).toString("base64");
let t0 = performance.now();
for (let i = 0; i < N; i += 200) {
  await db.query(`UPDATE deliveries d SET state = 'sending', sending_at = now(), updated_at = now()
     FROM (SELECT ordinal FROM deliveries WHERE campaign_id = $1 AND state = 'queued' AND (next_attempt_at IS NULL OR next_attempt_at <= now()) ORDER BY ordinal LIMIT 200 FOR UPDATE SKIP LOCKED) due
     WHERE d.campaign_id = $1 AND d.ordinal = due.ordinal RETURNING d.ordinal, d.message_id, d.recipient, d.attempts`, ["b"]);
}
console.log("claims ms/msg", ((performance.now() - t0) / N).toFixed(3));
t0 = performance.now();
for (let i = 0; i < N; i += 10) {
  const ords = Array.from({ length: 10 }, (_, k) => i + k);
  await db.transaction(async (tx) => {
    await tx.query(`UPDATE deliveries d SET state = t.state, attempts = t.attempts, reply = decode(t.reply, 'base64'),
         next_attempt_at = CASE WHEN t.delay IS NULL THEN NULL ELSE now() + t.delay * interval '1 millisecond' END,
         sent_at = CASE WHEN t.state = 'sent' THEN now() ELSE d.sent_at END, updated_at = now()
       FROM unnest($2::int[], $3::text[], $4::int[], $5::text[], $6::int[]) AS t(ordinal, state, attempts, reply, delay)
       WHERE d.campaign_id = $1 AND d.ordinal = t.ordinal AND d.state = 'sending'`,
      ["b", ords, ords.map(() => "sent"), ords.map(() => 1), ords.map(() => seal("250 2.0.0 Ok: queued as 1234")), ords.map(() => null)]);
  });
}
console.log("outcomes ms/msg", ((performance.now() - t0) / N).toFixed(3));
console.log((await db.query("EXPLAIN ANALYZE UPDATE deliveries d SET state = 'queued' FROM unnest($2::int[]) AS t(ordinal) WHERE d.campaign_id = $1 AND d.ordinal = t.ordinal AND d.state = 'sent'", ["b", [1,2,3,4,5,6,7,8,9,10]])).rows.map((r) => Object.values(r)[0]).join("\n"));
await ctx.close();
