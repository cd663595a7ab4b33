import { z } from "zod";

/**
 * The shape of a regime's rule file (src/obligations/rules/<id>.yaml). Rules are data: lawyers can
 * review them line by line, and every decision they produce cites the provisions it rests on.
 */

export const CLOCKS = [
  "vendor_detected",
  "vendor_notified",
  "aware",
  "dataset_received",
  "assessed",
] as const;
export type ClockName = (typeof CLOCKS)[number];

/** The regimes the engine covers; each has its file in rules/<id>.yaml. */
export const REGIME_IDS = [
  "au-ndb",
  "br-lgpd",
  "ca-pipeda",
  "contract",
  "eu-gdpr",
  "in-dpdp",
  "jp-appi",
  "kr-pipa",
  "sg-pdpa",
  "uk-gdpr",
  "us-ca",
  "us-ny",
] as const;

export const AUDIENCES = ["regulator", "individuals", "other"] as const;
export const DECISIONS = ["required", "not_required", "judgment"] as const;
export type Decision = (typeof DECISIONS)[number];

const isoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, "a date as YYYY-MM-DD");
const country = z.string().regex(/^[A-Z]{2}$/, "an ISO 3166-1 alpha-2 country code");
const categoryKey = z.string().regex(/^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$/, "a fideslang category key");

export const citationSchema = z
  .object({
    source: z.string().min(3),
    provision: z.string().min(1),
    url: z.url().optional(),
  })
  .strict();

export type Condition =
  | { categories_any: string[] }
  | { people_at_least: number }
  | { controller_in: string[] }
  | { all: Condition[] }
  | { any: Condition[] }
  | { not: Condition };

export const conditionSchema: z.ZodType<Condition> = z.lazy(() =>
  z.union([
    z.object({ categories_any: z.array(categoryKey).min(1) }).strict(),
    z.object({ people_at_least: z.number().int().positive() }).strict(),
    z.object({ controller_in: z.array(country).min(1) }).strict(),
    z.object({ all: z.array(conditionSchema).min(1) }).strict(),
    z.object({ any: z.array(conditionSchema).min(1) }).strict(),
    z.object({ not: conditionSchema }).strict(),
  ]),
);

const clauseSchema = z
  .object({
    when: conditionSchema.optional(),
    decision: z.enum(DECISIONS),
    reason: z.string().min(10),
    /** for `judgment`: the question a person must answer and record */
    question: z.string().min(10).optional(),
  })
  .strict()
  .refine((c) => c.decision !== "judgment" || c.question !== undefined, {
    message: "a judgment clause needs the question a person must answer",
  });

export const deadlineSchema = z
  .object({
    clock: z.enum(CLOCKS),
    amount: z.number().int().positive(),
    unit: z.enum(["hours", "calendar_days", "working_days"]),
    /** IANA zone the days are counted in; for hours the clock's own offset is kept */
    zone: z.string().min(3).optional(),
    /** country whose public holidays working days skip (date-holidays) */
    holidays: country.optional(),
  })
  .strict()
  .refine((d) => d.unit !== "working_days" || (d.holidays !== undefined && d.zone !== undefined), {
    message: "working days need a holidays country and a zone",
  });

export const obligationSchema = z
  .object({
    audience: z.enum(AUDIENCES),
    /** who receives the notice */
    to: z.string().min(3),
    decide: z
      .array(clauseSchema)
      .min(1)
      .refine((cs) => cs[cs.length - 1]?.when === undefined, {
        message: "the last clause must have no `when`: it is the default",
      }),
    /** the fixed period, if the law sets one */
    deadline: deadlineSchema.nullable(),
    /** the standard in the law's words, e.g. "without undue delay" */
    timing: z.string().min(3),
    /** what the notice must contain */
    contents: z.array(z.string().min(3)).min(1),
    citations: z.array(citationSchema).min(1),
  })
  .strict();

export const ruleSchema = z
  .object({
    id: z.string().regex(/^[a-z]{2}-[a-z]+$|^contract$/, "an id such as eu-gdpr"),
    name: z.string().min(3),
    version: z.number().int().positive(),
    reviewed: isoDate,
    /** the date the duties begin to apply, when that is later than some incidents */
    effective_from: isoDate.optional(),
    jurisdiction: z
      .object({
        /** people resident in these countries are covered; empty means everyone affected */
        countries: z.array(country),
        /**
         * Set when the law covers one state or province: the names the dataset's region may carry
         * (matched case-insensitively) and a description for the reasons.
         */
        subdivision: z
          .object({ names: z.array(z.string().min(2)).min(1), description: z.string().min(3) })
          .strict()
          .optional(),
      })
      .strict(),
    authority: z.object({ name: z.string().min(3), url: z.url() }).strict(),
    obligations: z.array(obligationSchema).min(1),
    notes: z.string().optional(),
  })
  .strict();

export type Rule = z.infer<typeof ruleSchema>;
export type Obligation = z.infer<typeof obligationSchema>;
export type DeadlineRule = z.infer<typeof deadlineSchema>;
