import { type Access, RISK_TIERS, type RiskTier } from "./vendor-fields.ts";

/**
 * A vendor's risk tier, computed from three things a breach at the vendor would decide: how
 * sensitive the data it receives is, how many people that data is about, and what it can do with
 * our systems. The table is data, below, so a reader can check it without reading the code.
 *
 * 1. Start at the sensitivity class of the most sensitive category the vendor receives (declared or
 *    seen by a scan). A category takes the class of the longest prefix listed in SENSITIVITY
 *    (user.contact covers user.contact.email); anything unlisted is low. Keys of fideslang 1.x
 *    (user.provided.identifiable.contact.email) are read as their 2.x key (user.contact.email).
 * 2. People: 1,000,000 or more raises the tier one step; fewer than 1,000 lowers it one step.
 * 3. Access: `writes` raises one step; `admin` raises one step and to at least high. `receives`
 *    and `reads` leave it.
 * Steps stop at low and critical. A vendor with no categories, no access and no number of people
 * is not rated (null): nothing is known to rate it on.
 */

export const SENSITIVITY: ReadonlyArray<readonly [prefix: string, tier: RiskTier, why: string]> = [
  ["user.authorization.credentials", "critical", "passwords and keys open accounts"],
  ["user.credentials", "critical", "passwords and keys open accounts"],
  ["user.financial", "critical", "card and bank data can be spent"],
  ["user.government_id", "critical", "identity numbers enable identity theft"],
  ["user.health_and_medical", "critical", "special category (GDPR Art. 9)"],
  ["user.biometric", "critical", "special category (GDPR Art. 9)"],
  ["user.genetic", "critical", "special category (GDPR Art. 9)"],
  ["user.criminal_history", "critical", "GDPR Art. 10 data"],
  ["user.sensitive", "critical", "special category"],
  ["user.demographic.race_ethnicity", "critical", "special category (GDPR Art. 9)"],
  ["user.demographic.religious_belief", "critical", "special category (GDPR Art. 9)"],
  ["user.demographic.political_opinion", "critical", "special category (GDPR Art. 9)"],
  ["user.demographic.sexual_orientation", "critical", "special category (GDPR Art. 9)"],
  ["user.race", "critical", "special category (GDPR Art. 9)"],
  ["user.religious_belief", "critical", "special category (GDPR Art. 9)"],
  ["user.political_opinion", "critical", "special category (GDPR Art. 9)"],
  ["user.sexual_orientation", "critical", "special category (GDPR Art. 9)"],
  ["user.authorization", "high", "session and access data"],
  ["user.contact", "high", "reaches the person: phishing"],
  ["user.name", "high", "names the person"],
  ["user.location.precise", "high", "where the person is"],
  ["user.content", "high", "what people write can say anything about them"],
  ["user.unique_id", "medium", "links records to one person"],
  ["user.location", "medium", "approximate location"],
  ["user.device", "medium", "identifies a device"],
  ["user.behavior", "medium", "what the person does"],
  ["user.account", "medium", "account details"],
  ["user.demographic", "medium", "describes the person"],
  ["user.social", "medium", "the person's contacts and profiles"],
];

export const MANY_PEOPLE = 1_000_000;
export const FEW_PEOPLE = 1_000;

export type RiskInput = Readonly<{
  categories: readonly string[];
  people_count: number | null;
  access: Access | null;
}>;
export type RiskResult = Readonly<{ tier: RiskTier | null; reason: string }>;

const LEGACY_IDENTIFIABLE = /^user\.(provided|derived)\.identifiable\./;
const LEGACY_NONIDENTIFIABLE = /^user\.(provided|derived)\.nonidentifiable(\.|$)/;

/** The fideslang 2.x key a 1.x key stands for; other keys as they are. */
function modernKey(category: string): string {
  if (LEGACY_NONIDENTIFIABLE.test(category)) return "user.non_identifiable";
  return category.replace(LEGACY_IDENTIFIABLE, "user.");
}

export function sensitivityOf(category: string): RiskTier {
  const key = modernKey(category);
  let best: (typeof SENSITIVITY)[number] | undefined;
  for (const row of SENSITIVITY) {
    if ((key === row[0] || key.startsWith(`${row[0]}.`)) && row[0].length > (best?.[0].length ?? -1)) {
      best = row;
    }
  }
  return best?.[1] ?? "low";
}

const rank = (t: RiskTier) => RISK_TIERS.indexOf(t);
const step = (t: RiskTier, by: number): RiskTier =>
  RISK_TIERS[Math.min(RISK_TIERS.length - 1, Math.max(0, rank(t) + by))] as RiskTier;
const count = (n: number) => n.toLocaleString("en-US");
const capitalised = (s: string) => `${s[0]?.toUpperCase() ?? ""}${s.slice(1)}`;

export function computeRiskTier(input: RiskInput): RiskResult {
  const categories = [...new Set(input.categories)].sort();
  if (categories.length === 0 && input.access === null && input.people_count === null) {
    return {
      tier: null,
      reason: "Not rated: no data categories, access or number of people are recorded.",
    };
  }
  const parts: string[] = [];
  let tier: RiskTier = "low";
  for (const c of categories) if (rank(sensitivityOf(c)) > rank(tier)) tier = sensitivityOf(c);
  if (categories.length === 0) parts.push("it receives no data category on record (low)");
  else {
    const top = categories.filter((c) => sensitivityOf(c) === tier);
    const shown =
      top.length > 3 ? `${top.slice(0, 3).join(", ")} and ${top.length - 3} more` : top.join(", ");
    parts.push(`the most sensitive data it receives is ${shown} (${tier})`);
  }

  const people = input.people_count;
  if (people === null) parts.push("the number of people is not recorded");
  else if (people >= MANY_PEOPLE) {
    const next = step(tier, 1);
    parts.push(
      `${count(people)} people (${count(MANY_PEOPLE)} or more) raise it one step${next === tier ? " (already critical)" : ""}`,
    );
    tier = next;
  } else if (people < FEW_PEOPLE) {
    const next = step(tier, -1);
    parts.push(
      `${count(people)} people (fewer than ${count(FEW_PEOPLE)}) lower it one step${next === tier ? " (already low)" : ""}`,
    );
    tier = next;
  } else parts.push(`${count(people)} people leave it as it is`);

  if (input.access === "writes") {
    const next = step(tier, 1);
    parts.push(
      `it can write to our systems, which raises it one step${next === tier ? " (already critical)" : ""}`,
    );
    tier = next;
  } else if (input.access === "admin") {
    let next = step(tier, 1);
    if (rank(next) < rank("high")) next = "high";
    parts.push("it administers our systems, which raises it one step and to at least high");
    tier = next;
  }
  return { tier, reason: `${capitalised(tier)}: ${parts.join("; ")}.` };
}

/** The tier the vendor is held to: the override when one is set, with the computed one in the reason. */
export function effectiveRiskTier(computed: RiskResult, override: RiskTier | null): RiskResult {
  if (override === null) return computed;
  const was = computed.tier === null ? "not rated" : computed.tier;
  return {
    tier: override,
    reason: `Set by hand to ${override} (computed: ${was}). ${computed.reason}`,
  };
}
