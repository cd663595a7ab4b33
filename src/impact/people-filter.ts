import { AppError } from "../lib/errors.ts";
import type { Sealer } from "../lib/seal.ts";
import type { Queryable } from "../store/db.ts";
import type { Summary } from "./analyze-incident.ts";
import { personEmailHash, personKeyHash, personUserIdHash } from "./person-hashes.ts";

/**
 * Which affected people a page shows: `q` one person exactly (an email, compared case-insensitively,
 * a user id or a person key), `country` (an ISO code, or "unknown"), `category` (a category key and
 * its sub-categories: user.device keeps user.device.ip_address).
 */
export type PeopleFilter = { q?: string; country?: string; category?: string };

/**
 * A condition on a run's result rows. `where(n)` is SQL over the table's columns whose parameters are
 * numbered from $n, in the order of `params`; `total` is how many rows it keeps when the summary
 * already tells, else null (count them); `none` means nothing can match.
 */
export type ResultFilter = {
  where: (first: number) => string;
  params: unknown[];
  total: number | null;
  none: boolean;
  /** what the audit event records about the filter: never the searched value */
  audit: Record<string, unknown>;
};

const CATEGORY_KEY = /^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$/;

/**
 * The SQL for a people filter. Emails, user ids and person keys are compared through their keyed
 * hashes (indexed per run). The categories a key covers are the run's own (its summary lists every
 * category anyone was exposed in), so the test is one array overlap. Where the summary already
 * counts the people kept (a country, a category that covers one of the run's, or both), the total
 * comes from it.
 */
export function peopleFilter(
  sealer: Pick<Sealer, "keyedHash">,
  summary: Summary,
  f: PeopleFilter,
): ResultFilter | null {
  const q = f.q?.trim();
  const country = f.country?.trim();
  const category = f.category?.trim();
  if (!q && !country && !category) return null;
  // Each term numbers its parameters from where its own begin in `params`.
  const terms: ((first: number) => string)[] = [];
  const params: unknown[] = [];
  const audit: Record<string, unknown> = {};
  if (q) {
    if (q.length > 1000) throw new AppError("BAD_INPUT", "q: at most 1000 characters");
    terms.push((n) => `(email_hash = $${n} OR user_id_hash = $${n + 1} OR person_key_hash = $${n + 2})`);
    params.push(personEmailHash(sealer, q), personUserIdHash(sealer, q), personKeyHash(sealer, q));
    audit.search = true;
  }
  let countryKey: string | null = null;
  if (country) {
    if (country.toLowerCase() === "unknown") {
      countryKey = "unknown";
      terms.push(() => "country IS NULL");
    } else {
      if (!/^[A-Za-z]{2}$/.test(country))
        throw new AppError("BAD_INPUT", "country: a two-letter ISO country code, or unknown");
      countryKey = country.toUpperCase();
      const at = params.length;
      terms.push((n) => `country = $${n + at}`);
      params.push(countryKey);
    }
    audit.country = countryKey;
  }
  let covered: string[] | null = null;
  if (category) {
    if (category.length > 200 || !CATEGORY_KEY.test(category))
      throw new AppError("BAD_INPUT", "category: a category key such as user.contact");
    covered = Object.keys(summary.by_category).filter((k) => k === category || k.startsWith(`${category}.`));
    const at = params.length;
    terms.push((n) => `categories && $${n + at}::text[]`);
    params.push(covered);
    audit.category = category;
  }
  let total: number | null = null;
  if (!q) {
    // Older summaries may lack by_country_category; then the rows are counted.
    const byCountryCategory = summary.by_country_category as Summary["by_country_category"] | undefined;
    if (covered === null) total = countryKey === null ? null : (summary.by_country[countryKey] ?? 0);
    else if (covered.length === 1) {
      const only = covered[0] as string;
      if (countryKey === null) total = summary.by_category[only] ?? 0;
      else if (byCountryCategory) total = byCountryCategory[countryKey]?.[only] ?? 0;
    }
  }
  return {
    where: (first) => terms.map((t) => t(first)).join(" AND "),
    params,
    total,
    none: covered !== null && covered.length === 0,
    audit,
  };
}

/** How many of a run's rows a filter keeps, when the summary cannot tell. */
export async function countFiltered(
  q: Queryable,
  table: "affected_people" | "affected_orgs",
  runId: string,
  filter: ResultFilter,
): Promise<number> {
  const r = await q.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM ${table} WHERE run_id = $1 AND ${filter.where(2)}`,
    [runId, ...filter.params],
  );
  return r.rows[0]?.n ?? 0;
}
