import { DateTime } from "luxon";
import { computeDeadline, formatInstant } from "./deadlines.ts";
import type { ClockName, Condition, Decision, Obligation, Rule } from "./rule-schema.ts";

/**
 * Which notices each regime requires, to whom, by when and why: a pure function of the exposure
 * (people by country and category), the incident's clocks and the controller's facts.
 */

export type Exposure = Readonly<{
  affectedPeople: number;
  byCountry: Readonly<Record<string, number>>;
  byCategory: Readonly<Record<string, number>>;
  /** people by country and category, when known; without it the whole incident's categories apply */
  byCountryCategory?: Readonly<Record<string, Readonly<Record<string, number>>>>;
  /** people by country and state or province ("unknown" where the data does not say) */
  byRegion?: Readonly<Record<string, Readonly<Record<string, number>>>>;
  /** affected organisations, for duties owed to business customers */
  affectedOrgs?: number;
}>;

export type Facts = Readonly<{
  exposure: Exposure;
  /** ISO-8601 instants with an offset */
  clocks: Readonly<Partial<Record<ClockName, string>>>;
  controllerCountry?: string;
  /**
   * A person's recorded answers to judgment questions, keyed "regime:audience". An answer replaces
   * the engine's `judgment`; the question and who decided stay in the output.
   */
  answers?: Readonly<Record<string, Readonly<{ decision: "required" | "not_required"; by?: string }>>>;
}>;

export type Citation = Readonly<{ source: string; provision: string; url?: string }>;

export type ObligationDecision = Readonly<{
  regime: string;
  regime_name: string;
  authority: string;
  audience: Obligation["audience"];
  to: string;
  decision: Decision;
  people: number;
  deadline: string | null;
  clock: ClockName | null;
  timing: string;
  reason: string;
  question?: string;
  /** set when a person answered the judgment question: what was asked and who decided */
  answered?: Readonly<{ question: string; by: string }>;
  contents: readonly string[];
  citations: readonly Citation[];
  rule_version: number;
  rule_reviewed: string;
}>;

/** A category counts as exposed when it or any of its sub-categories is (user.authorization covers .credentials). */
export function covers(key: string, exposed: ReadonlySet<string>): boolean {
  for (const c of exposed) if (c === key || c.startsWith(`${key}.`)) return true;
  return false;
}

type Scope = { people: number; categories: ReadonlySet<string>; controllerCountry?: string };

export function holds(condition: Condition, scope: Scope): boolean {
  if ("categories_any" in condition) return condition.categories_any.some((k) => covers(k, scope.categories));
  if ("people_at_least" in condition) return scope.people >= condition.people_at_least;
  if ("controller_in" in condition) {
    return scope.controllerCountry !== undefined && condition.controller_in.includes(scope.controllerCountry);
  }
  if ("all" in condition) return condition.all.every((c) => holds(c, scope));
  if ("any" in condition) return condition.any.some((c) => holds(c, scope));
  return !holds(condition.not, scope);
}

type Subdivision = { covered: number; unknown: number; elsewhere: number };

/** People of a country split by whether the dataset places them in the law's state or province. */
function splitByRegion(rule: Rule, exposure: Exposure, country: string): Subdivision | null {
  const sub = rule.jurisdiction.subdivision;
  if (!sub) return null;
  const total = exposure.byCountry[country] ?? 0;
  const regions = exposure.byRegion?.[country];
  if (!regions) return { covered: 0, unknown: total, elsewhere: 0 };
  const names = new Set(sub.names.map((n) => n.trim().toLowerCase()));
  let covered = 0;
  let known = 0;
  for (const [region, n] of Object.entries(regions)) {
    if (region === "unknown") continue;
    known += n;
    if (names.has(region.trim().toLowerCase())) covered += n;
  }
  return { covered, unknown: total - known, elsewhere: known - covered };
}

function scopeOf(
  rule: Rule,
  facts: Facts,
): Scope & { unknownCountry: number; perCountry: [string, number][]; subdivision: Subdivision | null } {
  const { exposure } = facts;
  const countries = rule.jurisdiction.countries;
  const everyone = countries.length === 0;
  let subdivision: Subdivision | null = null;
  const inScope = (c: string): number => {
    const split = splitByRegion(rule, exposure, c);
    if (!split) return exposure.byCountry[c] ?? 0;
    subdivision = {
      covered: (subdivision?.covered ?? 0) + split.covered,
      unknown: (subdivision?.unknown ?? 0) + split.unknown,
      elsewhere: (subdivision?.elsewhere ?? 0) + split.elsewhere,
    };
    return split.covered + split.unknown;
  };
  const perCountry = everyone
    ? []
    : countries
        .map((c) => [c, inScope(c)] as [string, number])
        .filter(([, n]) => n > 0)
        .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  const people = everyone ? exposure.affectedPeople : perCountry.reduce((sum, [, n]) => sum + n, 0);
  let categories: Set<string>;
  if (!everyone && exposure.byCountryCategory) {
    categories = new Set();
    for (const [c] of perCountry) {
      for (const [cat, n] of Object.entries(exposure.byCountryCategory[c] ?? {}))
        if (n > 0) categories.add(cat);
    }
  } else {
    categories = new Set(
      Object.entries(exposure.byCategory)
        .filter(([, n]) => n > 0)
        .map(([c]) => c),
    );
  }
  return {
    people,
    categories,
    controllerCountry: facts.controllerCountry,
    unknownCountry: exposure.byCountry.unknown ?? 0,
    perCountry,
    subdivision,
  };
}

function describePeople(rule: Rule, scope: ReturnType<typeof scopeOf>): string {
  if (rule.jurisdiction.countries.length === 0) return `${scope.people} affected people`;
  const where = scope.perCountry.map(([c, n]) => `${c} ${n}`).join(", ");
  return `${scope.people} affected people resident in the jurisdiction${where ? ` (${where})` : ""}`;
}

function authorityFor(rule: Rule, scope: ReturnType<typeof scopeOf>, controllerCountry?: string): string {
  const countries = rule.jurisdiction.countries;
  if (countries.length <= 1) return rule.authority.name;
  // Several states share one law: the controller's establishment decides whose authority leads.
  if (controllerCountry && countries.includes(controllerCountry)) {
    return `${rule.authority.name}; lead authority: the one of ${controllerCountry}`;
  }
  const where = scope.perCountry.map(([c]) => c).join(", ");
  return `${rule.authority.name}; controller not established there${controllerCountry ? ` (${controllerCountry})` : " (establishment not given)"}: the authority of each country where affected people live${where ? `: ${where}` : ""}`;
}

export function decideObligations(rules: readonly Rule[], facts: Facts): ObligationDecision[] {
  const out: ObligationDecision[] = [];
  for (const rule of rules) {
    const scope = scopeOf(rule, facts);
    const peopleText = describePeople(rule, scope);
    const exposedText = scope.categories.size ? [...scope.categories].sort().join(", ") : "none";
    for (const obligation of rule.obligations) {
      let decision: Decision;
      let reason: string;
      let question: string | undefined;
      let answered: { question: string; by: string } | undefined;
      const aware = facts.clocks.aware ? DateTime.fromISO(facts.clocks.aware, { setZone: true }) : null;
      if (rule.effective_from && aware && aware < DateTime.fromISO(rule.effective_from, { zone: "utc" })) {
        decision = "not_required";
        reason = `These duties apply from ${rule.effective_from}; the controller became aware on ${aware.toISODate()}.`;
      } else if (rule.jurisdiction.countries.length > 0 && scope.people === 0) {
        decision = "not_required";
        reason = `No affected people are known to be resident in the jurisdiction (${rule.jurisdiction.countries.join(", ")}).`;
      } else {
        const clause =
          obligation.decide.find((c) => c.when === undefined || holds(c.when, scope)) ??
          obligation.decide.at(-1);
        decision = clause?.decision ?? "judgment";
        question = clause?.question;
        reason = `${clause?.reason.trim() ?? ""} Facts: ${peopleText}; exposed categories: ${exposedText}.`;
        const answer = facts.answers?.[`${rule.id}:${obligation.audience}`];
        if (decision === "judgment" && answer) {
          decision = answer.decision;
          answered = { question: question ?? "", by: answer.by ?? "a person (recorded with --answer)" };
          reason += ` Judgment recorded: ${answer.decision} (decided by ${answered.by}).`;
        }
      }
      const sub = scope.subdivision;
      if (rule.jurisdiction.subdivision && sub) {
        reason += ` The law covers ${rule.jurisdiction.subdivision.description}: ${sub.covered} affected people are there by the dataset's region`;
        reason +=
          sub.unknown > 0
            ? `, and ${sub.unknown} whose state or province is not known are treated as possibly covered`
            : "";
        reason += sub.elsewhere > 0 ? `; ${sub.elsewhere} elsewhere in the country are not covered.` : ".";
      }
      if (rule.jurisdiction.countries.length > 0 && scope.unknownCountry > 0) {
        reason += ` ${scope.unknownCountry} affected people have no known country and are not counted here.`;
      }
      let deadline: string | null = null;
      const clock = obligation.deadline?.clock ?? null;
      if (decision !== "not_required" && obligation.deadline) {
        const start = facts.clocks[obligation.deadline.clock];
        if (start)
          deadline = formatInstant(
            computeDeadline(obligation.deadline, DateTime.fromISO(start, { setZone: true })),
          );
        else reason += ` The deadline runs from the ${obligation.deadline.clock} clock, which is not set.`;
      }
      out.push({
        regime: rule.id,
        regime_name: rule.name,
        authority: authorityFor(rule, scope, facts.controllerCountry),
        audience: obligation.audience,
        to: obligation.to,
        decision,
        people: scope.people,
        deadline,
        clock,
        timing: obligation.timing,
        reason: reason.replace(/\s+/g, " ").trim(),
        ...(decision === "judgment" && question ? { question: question.replace(/\s+/g, " ").trim() } : {}),
        ...(answered
          ? { answered: { ...answered, question: answered.question.replace(/\s+/g, " ").trim() } }
          : {}),
        contents: obligation.contents,
        citations: obligation.citations,
        rule_version: rule.version,
        rule_reviewed: rule.reviewed,
      });
    }
  }
  return out;
}
