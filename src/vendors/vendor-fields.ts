import countries from "i18n-iso-countries/index.js";
import { z } from "zod";

/**
 * The fields of a vendor's record and how each is checked, shared by the vendors-as-code file, the
 * API and the use cases, so a value refused in one is refused in all with the same words.
 */

export const RISK_TIERS = ["low", "medium", "high", "critical"] as const;
export type RiskTier = (typeof RISK_TIERS)[number];
export const VENDOR_STATUSES = ["active", "under_review", "offboarding", "offboarded"] as const;
export type VendorStatus = (typeof VENDOR_STATUSES)[number];
/** What the vendor can do with our systems and data, least to most. */
export const ACCESS_LEVELS = ["receives", "reads", "writes", "admin"] as const;
export type Access = (typeof ACCESS_LEVELS)[number];
export const SURFACES = ["web", "server", "batch"] as const;
export type Surface = (typeof SURFACES)[number];

export const categoryKey = z
  .string()
  .regex(/^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$/, "a fideslang category key such as user.contact.email");

export const domainName = z
  .string()
  .transform((d) => d.trim().toLowerCase().replace(/\.$/, ""))
  .pipe(z.string().regex(/^[a-z0-9-]+(\.[a-z0-9-]+)+$/, "a domain name such as example.com"));

/** ISO 3166-1 alpha-2, any case in, upper case out. */
export const countryCode = z
  .string()
  .transform((c) => c.trim().toUpperCase())
  .refine(
    (c) => /^[A-Z]{2}$/.test(c) && countries.alpha2ToAlpha3(c) !== undefined,
    "an ISO 3166-1 alpha-2 country code such as DE or US",
  );

export const emailAddress = z
  .string()
  .trim()
  .pipe(z.email("an email address such as security@vendor.example").max(320));

/** Where to report or hear of an incident: an address, or the vendor's incident form. */
export const incidentContact = z
  .string()
  .trim()
  .refine(
    (s) => z.email().safeParse(s).success || /^https:\/\/[^\s/]+\.[^\s]+$/i.test(s),
    "an email address such as security@vendor.example, or an https:// link to the vendor's incident form",
  )
  .pipe(z.string().max(500));

export const shortText = (max: number) => z.string().trim().min(1, "must not be empty").max(max);
export const textList = (max: number) => z.array(shortText(max)).max(200);

export const subProcessor = z
  .object({
    name: shortText(200),
    purpose: shortText(500).optional(),
    location: countryCode.optional(),
  })
  .strict();
export type SubProcessor = z.infer<typeof subProcessor>;

export const positiveHours = z.number().int("a whole number of hours").positive("more than 0 hours");
export const positiveDays = z.number().int("a whole number of days").positive("more than 0 days");
export const peopleCount = z
  .number()
  .int("a whole number of people")
  .min(0, "0 or more people")
  .max(Number.MAX_SAFE_INTEGER);
export const requirementSetName = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, "a requirement set's name such as baseline or elevated");
export const catalogueId = z
  .string()
  .trim()
  .regex(/^[a-z0-9][a-z0-9._-]{0,99}$/, "a catalogue id such as mixpanel (lower case)");

/** A calendar day, YYYY-MM-DD, that exists. */
export const calendarDay = z.iso.date("a date such as 2027-01-15");

export const declaredFlow = z
  .object({
    category: categoryKey,
    fields: z.array(z.string().min(1).max(200)).max(200).optional(),
    surface: z.enum(SURFACES).nullable().optional(),
  })
  .strict();

export function alpha3ToAlpha2(code: string): string | undefined {
  return countries.alpha3ToAlpha2(code.trim().toUpperCase());
}

export function alpha2ToAlpha3(code: string): string | undefined {
  return countries.alpha2ToAlpha3(code.trim().toUpperCase());
}
