import { literal, queryOne, type Sql } from "../lib/duckdb.ts";

/**
 * The matching rules, in SQL over the usable records (`used`) and the identity store. Produces:
 *   person(person_key, user_id, email, name, country, region, language, cats, matched_by, records)
 *   affected_orgs(org_id)
 * and returns the subject counts. The numbered rules are the ones README states.
 */

export const MATCHED_BY = ["user_id", "distinct_id", "email", "device", "dataset_email"] as const;

export type SubjectCounts = Readonly<{
  matched: number;
  unmatchedWithEmail: number;
  anonymous: number;
  conflicts: number;
}>;

const matchedByName = `[${MATCHED_BY.map(literal).join(", ")}]`;

export async function resolveSubjects(sql: Sql): Promise<SubjectCounts> {
  // Records that identify a subject the same way are resolved once: this shrinks the join input from
  // every event to every distinct (ids, email, country, region, org) combination.
  await sql.run(`CREATE TABLE subj AS
    SELECT did, uid, dev, email, country, region, org, bit_or(cats) AS cats, count(*) AS n, min(name) AS name
    FROM used GROUP BY did, uid, dev, email, country, region, org`);

  // Rule 1: $user_id, then distinct id, then email; an id that disagrees with the email wins.
  await sql.run(`CREATE TABLE subj_res AS
    SELECT s.*,
      coalesce(u1.user_id, u2.user_id, ue.user_id) AS user_id,
      CASE WHEN u1.user_id IS NOT NULL THEN 1 WHEN u2.user_id IS NOT NULL THEN 2
           WHEN ue.user_id IS NOT NULL THEN 3 END AS rank,
      (coalesce(u1.user_id, u2.user_id) IS NOT NULL AND ue.user_id IS NOT NULL
        AND coalesce(u1.user_id, u2.user_id) <> ue.user_id) AS conflict
    FROM subj s
    LEFT JOIN users u1 ON u1.user_id = s.uid
    LEFT JOIN users u2 ON u2.user_id = s.did
    LEFT JOIN user_emails ue ON ue.email = s.email`);

  // Rule 2: a device seen with exactly one resolved user links the unresolved records that carry it.
  await sql.run(`CREATE TABLE device_owner AS
    SELECT dev, min(user_id) AS user_id FROM subj_res
    WHERE user_id IS NOT NULL AND dev IS NOT NULL GROUP BY dev HAVING count(DISTINCT user_id) = 1`);
  await sql.run(`CREATE TABLE attributed AS
    SELECT r.* EXCLUDE (user_id, rank),
      coalesce(r.user_id, d.user_id) AS user_id,
      coalesce(r.rank, CASE WHEN d.user_id IS NOT NULL THEN 4 END) AS rank,
      -- Rule 3: what is still unresolved is grouped by distinct id.
      coalesce(r.did, r.uid, '$device:' || r.dev, 'mailto:' || r.email) AS grp
    FROM subj_res r LEFT JOIN device_owner d ON d.dev = r.dev`);

  // Rule 3: groups sharing an email are one person. Label propagation until no label changes gives
  // each connected set of groups and emails the smallest email in it.
  await sql.run(`CREATE TABLE grp_email AS
    SELECT DISTINCT grp, email FROM attributed WHERE user_id IS NULL AND email IS NOT NULL`);
  await sql.run(`CREATE TABLE grp_label AS SELECT grp, min(email) AS label FROM grp_email GROUP BY grp`);
  for (let round = 0; round < 1000; round++) {
    await sql.run(`CREATE OR REPLACE TABLE email_label AS
      SELECT e.email, min(g.label) AS label FROM grp_email e JOIN grp_label g USING (grp) GROUP BY e.email`);
    await sql.run(`CREATE OR REPLACE TABLE grp_label_next AS
      SELECT e.grp, min(l.label) AS label FROM grp_email e JOIN email_label l USING (email) GROUP BY e.grp`);
    const changed = await queryOne<{ n: bigint }>(
      sql,
      `SELECT count(*) AS n FROM grp_label_next x JOIN grp_label g USING (grp) WHERE x.label <> g.label`,
    );
    await sql.run(`DROP TABLE grp_label; ALTER TABLE grp_label_next RENAME TO grp_label`);
    if (Number(changed.n) === 0) break;
  }

  // Rules 4 and 6: a person's exposure is the union over their records; country from the store, else
  // the most frequent country code in their records with ties to the alphabetically first.
  await sql.run(`CREATE TABLE person_records AS
    SELECT CASE WHEN a.user_id IS NOT NULL THEN 'user:' || a.user_id ELSE 'email:' || g.label END AS person_key,
      a.user_id, CASE WHEN a.user_id IS NULL THEN g.label END AS dataset_email, a.cats, a.n, a.rank, a.country, a.region, a.name
    FROM attributed a LEFT JOIN grp_label g ON g.grp = a.grp
    WHERE a.user_id IS NOT NULL OR g.label IS NOT NULL`);
  await sql.run(`CREATE TABLE person AS
    WITH countries AS (
      SELECT person_key, country, sum(n) AS c FROM person_records WHERE country IS NOT NULL GROUP BY ALL
    ), top_country AS (
      SELECT person_key, arg_min(country, (-c, country)) AS country FROM countries GROUP BY person_key
    ), regions AS (
      SELECT person_key, region, sum(n) AS c FROM person_records WHERE region IS NOT NULL GROUP BY ALL
    ), top_region AS (
      SELECT person_key, arg_min(region, (-c, region)) AS region FROM regions GROUP BY person_key
    ), agg AS (
      SELECT person_key, any_value(user_id) AS user_id, any_value(dataset_email) AS dataset_email,
        bit_or(cats) AS cats, sum(n)::BIGINT AS records, min(rank) AS rank, min(name) AS dataset_name
      FROM person_records GROUP BY person_key
    )
    SELECT a.person_key, a.user_id,
      CASE WHEN a.user_id IS NOT NULL THEN u.email ELSE a.dataset_email END AS email,
      CASE WHEN a.user_id IS NOT NULL THEN u.name ELSE a.dataset_name END AS name,
      coalesce(u.country, t.country) AS country,
      r.region,
      u.language,
      a.cats,
      ${matchedByName}[CASE WHEN a.user_id IS NOT NULL THEN a.rank ELSE 5 END] AS matched_by,
      a.records
    FROM agg a
    LEFT JOIN users u ON u.user_id = a.user_id
    LEFT JOIN top_country t ON t.person_key = a.person_key
    LEFT JOIN top_region r ON r.person_key = a.person_key`);

  // Rule 5: organisations named in any used record, plus those of matched affected members.
  await sql.run(`CREATE TABLE affected_orgs AS
    SELECT org_id FROM orgs WHERE org_id IN (SELECT org FROM subj WHERE org IS NOT NULL)
    UNION
    SELECT DISTINCT m.org_id FROM memberships m JOIN person p ON p.user_id = m.user_id
    WHERE m.org_id IN (SELECT org_id FROM orgs)`);

  const counts = await queryOne<{ matched: bigint; unmatched: bigint; anonymous: bigint; conflicts: bigint }>(
    sql,
    `SELECT
      (SELECT count(*) FROM person WHERE user_id IS NOT NULL) AS matched,
      (SELECT count(*) FROM person WHERE user_id IS NULL) AS unmatched,
      (SELECT count(DISTINCT a.grp) FROM attributed a LEFT JOIN grp_label g ON g.grp = a.grp
        WHERE a.user_id IS NULL AND g.label IS NULL) AS anonymous,
      (SELECT coalesce(sum(n), 0) FROM subj_res WHERE conflict) AS conflicts`,
  );
  return Object.freeze({
    matched: Number(counts.matched),
    unmatchedWithEmail: Number(counts.unmatched),
    anonymous: Number(counts.anonymous),
    conflicts: Number(counts.conflicts),
  });
}
