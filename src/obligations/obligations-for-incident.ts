import { DateTime } from "luxon";
import { z } from "zod";
import { badInput, usageError } from "../lib/errors.ts";
import {
  decideObligations,
  type Exposure,
  type Facts,
  type ObligationDecision,
} from "./decide-obligations.ts";
import { loadRules } from "./load-rules.ts";
import { CLOCKS, type ClockName } from "./rule-schema.ts";

/** The use case behind `analyze --aware-at` and `obligations`: a summary and clocks in, decisions out. */

const counts = z.record(z.string(), z.number().int().nonnegative());
const summaryShape = z.object({
  affected_people: z.number().int().nonnegative(),
  affected_orgs: z.number().int().nonnegative().optional(),
  by_country: counts,
  by_category: counts,
  by_country_category: z.record(z.string(), counts).optional(),
  by_region: z.record(z.string(), counts).optional(),
});

/** Reads the exposure out of an `analyze` summary.json, naming the file and field when it does not fit. */
export function exposureFromSummary(summary: unknown, source: string): Exposure {
  const parsed = summaryShape.safeParse(summary);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw badInput(
      `${source}: not an analyze summary: ${issue?.path.join(".") || "(top level)"}: ${issue?.message}`,
    );
  }
  const s = parsed.data;
  return {
    affectedPeople: s.affected_people,
    affectedOrgs: s.affected_orgs,
    byCountry: s.by_country,
    byCategory: s.by_category,
    byCountryCategory: s.by_country_category,
    byRegion: s.by_region,
  };
}

function instant(value: string, option: string): string {
  const parsed = DateTime.fromISO(value, { setZone: true });
  if (!parsed.isValid || !/(Z|[+-]\d{2}:?\d{2})$/i.test(value.trim())) {
    throw usageError(
      `${option} ${JSON.stringify(value)} is not an ISO-8601 instant with an offset (e.g. 2025-11-25T18:00:00Z)`,
    );
  }
  return value.trim();
}

/** `--aware-at ISO` and repeated `--clock NAME=ISO` into the incident's clocks. */
export function parseClocks(
  awareAt: string | undefined,
  clockArgs: readonly string[] = [],
): Partial<Record<ClockName, string>> {
  const clocks: Partial<Record<ClockName, string>> = {};
  if (awareAt !== undefined) clocks.aware = instant(awareAt, "--aware-at");
  for (const arg of clockArgs) {
    const eq = arg.indexOf("=");
    const name = eq > 0 ? arg.slice(0, eq) : "";
    if (!(CLOCKS as readonly string[]).includes(name)) {
      throw usageError(
        `--clock ${JSON.stringify(arg)}: expected NAME=ISO with NAME one of ${CLOCKS.join(", ")}`,
      );
    }
    clocks[name as ClockName] = instant(arg.slice(eq + 1), `--clock ${name}`);
  }
  return clocks;
}

/** Repeated `--answer REGIME:AUDIENCE=required|not_required` into recorded judgment answers. */
export function parseAnswers(args: readonly string[] = []): NonNullable<Facts["answers"]> {
  const answers: Record<string, { decision: "required" | "not_required" }> = {};
  for (const arg of args) {
    const m = /^([a-z]{2}-[a-z]+|contract):(regulator|individuals|other)=(required|not_required)$/.exec(
      arg.trim(),
    );
    if (!m) {
      throw usageError(
        `--answer ${JSON.stringify(arg)}: expected REGIME:AUDIENCE=required|not_required, e.g. eu-gdpr:individuals=not_required`,
      );
    }
    answers[`${m[1]}:${m[2]}`] = { decision: m[3] as "required" | "not_required" };
  }
  return answers;
}

export function parseCountry(value: string | undefined, option: string): string | undefined {
  if (value === undefined) return undefined;
  const cc = value.trim().toUpperCase();
  if (!/^[A-Z]{2}$/.test(cc))
    throw usageError(`${option} ${JSON.stringify(value)} is not an ISO 3166-1 alpha-2 country code`);
  return cc;
}

export async function obligationsForIncident(input: {
  exposure: Exposure;
  clocks: Partial<Record<ClockName, string>>;
  controllerCountry?: string;
  contractFile?: string;
  answers?: Facts["answers"];
}): Promise<ObligationDecision[]> {
  const rules = await loadRules({ contractFile: input.contractFile });
  return decideObligations(rules, {
    exposure: input.exposure,
    clocks: input.clocks,
    controllerCountry: input.controllerCountry,
    answers: input.answers,
  });
}
