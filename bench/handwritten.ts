import { mkdir } from "node:fs/promises";
import path from "node:path";
import { parseArgs } from "node:util";
import { loadConfig } from "../src/config/env.ts";
import { literal, openDuckDb, queryRows } from "../src/lib/duckdb.ts";

/**
 * The baseline: what a competent engineer who knows this export would write by hand in DuckDB to answer
 * the same question with the same matching rules. Typed read_json of the columns needed, one query for
 * the people, a CSV, a few counts. Same DuckDB settings (memory limit, threads) as analyze.
 * Joins are on equalities only: an extra condition such as `ON r.user_id IS NULL AND d.dev = r.dev`
 * turns DuckDB's hash join into a nested-loop join (minutes instead of seconds), and coalesce() with
 * the record's own user id gives the same answer.
 *
 * Usage: node bench/handwritten.ts --events FILE --profiles FILE --identities DIR --out DIR
 * Prints one JSON line of counts.
 */
const { values: o } = parseArgs({
  options: {
    events: { type: "string" },
    profiles: { type: "string" },
    identities: { type: "string" },
    out: { type: "string" },
  },
});
if (!o.events || !o.profiles || !o.identities || !o.out) {
  throw new Error("usage: handwritten.ts --events FILE --profiles FILE --identities DIR --out DIR");
}
await mkdir(o.out, { recursive: true });
const csv = (name: string, columns: string) =>
  `read_csv(${literal(path.join(o.identities as string, name))}, header = true, columns = {${columns}})`;

const db = await openDuckDb(loadConfig());
try {
  const { sql } = db;
  // A string property counts as present when it is not empty.
  const has = (e: string) => `(nullif(trim(${e}), '') IS NOT NULL)`;

  // 1. The records: only the properties the rules and the exposure report need.
  await sql.run(`CREATE TABLE rec AS
    WITH ev AS (
      SELECT event, properties AS p FROM read_json(${literal(o.events)}, format = 'newline_delimited', columns = {
        event: 'VARCHAR',
        properties: 'STRUCT("time" BIGINT, distinct_id VARCHAR, "$device_id" VARCHAR, "$user_id" VARCHAR,
          "$os" VARCHAR, "$browser" VARCHAR, "$browser_version" VARCHAR, "$city" VARCHAR, "$region" VARCHAR,
          mp_country_code VARCHAR, "$referrer" VARCHAR, "$current_url" VARCHAR, org_id VARCHAR)'})
    ), pr AS (
      SELECT "$distinct_id" AS did, "$properties" AS p FROM read_json(${literal(o.profiles)},
        format = 'newline_delimited', columns = {
          "$distinct_id": 'VARCHAR',
          "$properties": 'STRUCT("$email" VARCHAR, "$name" VARCHAR, "$city" VARCHAR, "$country_code" VARCHAR)'})
    )
    SELECT nullif(trim(p.distinct_id), '') AS did, nullif(trim(p."$user_id"), '') AS uid,
      coalesce(nullif(trim(p."$device_id"), ''),
        CASE WHEN starts_with(p.distinct_id, '$device:') THEN nullif(substr(p.distinct_id, 9), '') END) AS dev,
      NULL::VARCHAR AS email, NULL::VARCHAR AS name, upper(p.mp_country_code) AS country,
      nullif(trim(p.org_id), '') AS org,
      (${has("event")} OR p.time IS NOT NULL) AS c_behavior,
      (${has('p."$referrer"')} OR ${has('p."$current_url"')}) AS c_browsing,
      (${has('p."$os"')} OR ${has('p."$browser"')} OR ${has('p."$browser_version"')}) AS c_device,
      (${has('p."$device_id"')} OR starts_with(p.distinct_id, '$device:')) AS c_device_id,
      false AS c_email,
      (${has('p."$city"')} OR ${has('p."$region"')} OR ${has("p.mp_country_code")}) AS c_location,
      false AS c_name,
      ((${has("p.distinct_id")} AND NOT starts_with(p.distinct_id, '$device:')) OR ${has('p."$user_id"')}
        OR ${has("p.org_id")}) AS c_unique_id
    FROM ev
    UNION ALL
    SELECT nullif(trim(did), ''), NULL, CASE WHEN starts_with(did, '$device:') THEN nullif(substr(did, 9), '') END,
      nullif(lower(trim(p."$email")), ''), p."$name", upper(p."$country_code"), NULL,
      false, false, false, starts_with(did, '$device:'), ${has('p."$email"')},
      (${has('p."$city"')} OR ${has('p."$country_code"')}), ${has('p."$name"')},
      ${has("did")} AND NOT starts_with(did, '$device:')
    FROM pr`);

  // 2. The people: resolve, stitch devices, group the rest by distinct id, union the exposure.
  await sql.run(
    `CREATE TABLE users AS SELECT * FROM ${csv("users.csv", "user_id: 'VARCHAR', email: 'VARCHAR', name: 'VARCHAR', country: 'VARCHAR', language: 'VARCHAR'")}`,
  );
  await sql.run(`CREATE TABLE person AS
    WITH used AS (
      SELECT * FROM rec WHERE did IS NOT NULL OR uid IS NOT NULL OR dev IS NOT NULL OR email IS NOT NULL
    ), user_email AS (
      -- an email two users share identifies neither
      SELECT lower(trim(email)) AS email, min(user_id) AS user_id FROM users GROUP BY 1 HAVING count(*) = 1
    ), resolved AS (
      SELECT r.*, coalesce(u1.user_id, u2.user_id, ue.user_id) AS user_id
      FROM used r
      LEFT JOIN users u1 ON u1.user_id = r.uid
      LEFT JOIN users u2 ON u2.user_id = r.did
      LEFT JOIN user_email ue ON ue.email = r.email
    ), device_owner AS (
      SELECT dev, min(user_id) AS user_id FROM resolved
      WHERE user_id IS NOT NULL AND dev IS NOT NULL GROUP BY dev HAVING count(DISTINCT user_id) = 1
    ), attributed AS (
      SELECT r.* EXCLUDE (user_id), coalesce(r.user_id, d.user_id) AS user_id,
        coalesce(r.did, r.uid, '$device:' || r.dev, 'mailto:' || r.email) AS grp
      FROM resolved r LEFT JOIN device_owner d ON d.dev = r.dev
    ), grp_email AS (
      SELECT grp, min(email) AS email FROM attributed WHERE user_id IS NULL AND email IS NOT NULL GROUP BY grp
    ), per_person AS (
      SELECT coalesce('user:' || a.user_id, 'email:' || g.email) AS person_key,
        any_value(a.user_id) AS user_id, any_value(CASE WHEN a.user_id IS NULL THEN g.email END) AS dataset_email, min(a.name) AS dataset_name,
        mode(a.country) AS dataset_country, count(*) AS records,
        bool_or(c_behavior) AS c_behavior, bool_or(c_browsing) AS c_browsing, bool_or(c_device) AS c_device,
        bool_or(c_device_id) AS c_device_id, bool_or(c_email) AS c_email, bool_or(c_location) AS c_location,
        bool_or(c_name) AS c_name, bool_or(c_unique_id) AS c_unique_id
      FROM attributed a LEFT JOIN grp_email g ON g.grp = a.grp
      WHERE a.user_id IS NOT NULL OR g.email IS NOT NULL
      GROUP BY 1
    )
    SELECT p.person_key, p.user_id, coalesce(u.email, p.dataset_email) AS email,
      coalesce(u.name, p.dataset_name) AS name, coalesce(u.country, p.dataset_country) AS country,
      concat_ws(';',
        CASE WHEN c_behavior THEN 'user.behavior' END,
        CASE WHEN c_browsing THEN 'user.behavior.browsing_history' END,
        CASE WHEN c_email THEN 'user.contact.email' END,
        CASE WHEN c_device THEN 'user.device' END,
        CASE WHEN c_device_id THEN 'user.device.device_id' END,
        CASE WHEN c_location THEN 'user.location.coarse' END,
        CASE WHEN c_name THEN 'user.name' END,
        CASE WHEN c_unique_id THEN 'user.unique_id' END) AS categories,
      p.records
    FROM per_person p LEFT JOIN users u ON u.user_id = p.user_id`);
  await sql.run(
    `COPY (SELECT * FROM person ORDER BY person_key) TO ${literal(path.join(o.out, "people.csv"))} (FORMAT csv, HEADER true)`,
  );

  // 3. Organisations named in the records or holding an affected user, and their owners and admins.
  await sql.run(
    `CREATE TABLE memberships AS SELECT * FROM ${csv("memberships.csv", "org_id: 'VARCHAR', user_id: 'VARCHAR', role: 'VARCHAR'")}`,
  );
  const [counts] = await queryRows<Record<string, bigint>>(
    sql,
    `WITH orgs AS (SELECT org_id FROM ${csv("orgs.csv", "org_id: 'VARCHAR', name: 'VARCHAR', country: 'VARCHAR'")}),
    affected_orgs AS (
      SELECT org_id FROM orgs WHERE org_id IN (
        SELECT org FROM rec WHERE org IS NOT NULL
          AND (did IS NOT NULL OR uid IS NOT NULL OR dev IS NOT NULL OR email IS NOT NULL)
        UNION
        SELECT m.org_id FROM memberships m JOIN person p ON p.user_id = m.user_id)
    )
    SELECT
      (SELECT count(*) FROM person) AS people,
      (SELECT count(*) FROM person WHERE user_id IS NOT NULL) AS matched,
      (SELECT count(*) FROM affected_orgs) AS orgs,
      (SELECT count(DISTINCT m.user_id) FROM memberships m JOIN affected_orgs USING (org_id)
        WHERE lower(m.role) IN ('owner', 'admin')) AS admins,
      (SELECT count(*) FROM rec
        WHERE did IS NULL AND uid IS NULL AND dev IS NULL AND email IS NULL) AS quarantined`,
  );
  const byCategory = await queryRows<{ category: string; n: bigint }>(
    sql,
    `SELECT category, count(*) AS n FROM (SELECT unnest(string_split(categories, ';')) AS category FROM person)
     WHERE category <> '' GROUP BY 1 ORDER BY 1`,
  );
  const n = (k: string) => Number(counts?.[k] ?? 0);
  process.stdout.write(
    `${JSON.stringify({
      affected_people: n("people"),
      matched: n("matched"),
      affected_orgs: n("orgs"),
      admins_to_notify: n("admins"),
      quarantined: n("quarantined"),
      by_category: Object.fromEntries(byCategory.map((r) => [r.category, Number(r.n)])),
    })}\n`,
  );
} finally {
  db.close();
}
