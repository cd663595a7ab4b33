import { readFileSync } from "node:fs";
import path from "node:path";
import YAML from "yaml";
import { z } from "zod";
import { AppError } from "../lib/errors.ts";
import { addressOf, type DkimOptions, domainOf, loadDkimKey } from "./compose-message.ts";
import type { NoticeSettings } from "./notice-types.ts";

/**
 * What a campaign's notices say beyond each recipient's data: from a `--notice` YAML file, the
 * incident, or defaults drawn from the analysis itself.
 */

/** Said as not exposed unless the analysis found them or the operator says otherwise. */
export const USUAL_NOT_EXPOSED = [
  "user.authorization.credentials",
  "api_keys",
  "user.financial",
  "user.content",
  "user.government_id",
] as const;

/** The usual list minus whatever the analysis did find (a category or any of its sub-categories). */
export function defaultNotExposed(exposed: readonly string[]): string[] {
  return USUAL_NOT_EXPOSED.filter(
    (key) => !exposed.some((c) => c === key || c.startsWith(`${key}.`) || key.startsWith(`${c}.`)),
  );
}

const isoDate = z
  .union([z.string(), z.date()])
  .transform((v) => (v instanceof Date ? v.toISOString() : v))
  .refine((v) => !Number.isNaN(Date.parse(v)), "an ISO-8601 date such as 2025-11-09");

const noticeSchema = z
  .object({
    company: z.string().min(1).max(200).optional(),
    vendor: z.string().min(1).max(200).optional(),
    incident_start: isoDate.optional(),
    incident_end: isoDate.optional(),
    discovered_at: isoDate.optional(),
    not_exposed: z.array(z.string().min(1).max(200)).max(50).optional(),
    sender_domains: z
      .array(z.string().regex(/^[A-Za-z0-9.-]+\.[A-Za-z]{2,}$/, "a domain such as example.com"))
      .max(20)
      .optional(),
    contact: z.string().min(3).max(300).optional(),
    locale_default: z.string().min(2).max(20).optional(),
  })
  .strict();

export type NoticeFile = z.infer<typeof noticeSchema>;

export function loadNoticeFile(file: string): NoticeFile {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    throw new AppError(
      "USAGE",
      `--notice: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? "error"})`,
    );
  }
  let data: unknown;
  try {
    data = YAML.parse(text);
  } catch (error) {
    throw new AppError("BAD_INPUT", `${file}: not valid YAML (${(error as Error).message.split("\n")[0]})`);
  }
  const parsed = noticeSchema.safeParse(data ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue?.path.join(".") || "(top level)";
    throw new AppError("BAD_INPUT", `${file}: ${field}: ${issue?.message ?? "invalid"}`);
  }
  return parsed.data;
}

/** The categories an analysis folder's summary.json reports as exposed (for the default not-exposed list). */
export function exposedInAnalysis(dir: string): string[] {
  const file = path.join(dir, "summary.json");
  try {
    const summary = JSON.parse(readFileSync(file, "utf8")) as { by_category?: Record<string, number> };
    return Object.keys(summary.by_category ?? {});
  } catch {
    throw new AppError(
      "BAD_INPUT",
      `${file}: missing or not JSON; is ${dir} the --out folder of 'blastradius analyze'?`,
    );
  }
}

export function noticeSettings(input: {
  from: string;
  notice: NoticeFile;
  exposed: readonly string[];
  localeDefault?: string;
  templatesDir?: string | null;
}): NoticeSettings {
  const { notice } = input;
  const fromDomain = domainOf(input.from);

  return {
    company: notice.company ?? null,
    vendor: notice.vendor ?? null,
    incidentStart: notice.incident_start ?? null,
    incidentEnd: notice.incident_end ?? null,
    discoveredAt: notice.discovered_at ?? null,
    notExposed: notice.not_exposed ?? defaultNotExposed(input.exposed),
    senderDomains: notice.sender_domains ?? (fromDomain ? [fromDomain] : []),
    contact: notice.contact ?? addressOf(input.from),
    localeDefault: input.localeDefault ?? notice.locale_default ?? "en",
    templatesDir: input.templatesDir ? path.resolve(input.templatesDir) : null,
  };
}

/** DKIM from options or configuration; the signing domain defaults to the From domain. */
export function dkimOptions(
  input: { keyFile?: string; selector?: string; domain?: string },
  from: string,
  flags = { key: "--dkim-key", selector: "--dkim-selector", domain: "--dkim-domain" },
): DkimOptions | null {
  if (!input.keyFile) {
    if (input.selector) throw new AppError("USAGE", `${flags.selector} needs ${flags.key}`);
    return null;
  }
  if (!input.selector) throw new AppError("USAGE", `${flags.key} needs ${flags.selector}`);
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(input.selector)) {
    throw new AppError("USAGE", `${flags.selector} must be a DNS label such as notify2026`);
  }
  const domain = (input.domain ?? domainOf(from) ?? "").toLowerCase();
  if (!/^[a-z0-9.-]+\.[a-z]{2,}$/.test(domain)) {
    throw new AppError("USAGE", `${flags.domain} must be a domain such as example.com`);
  }
  return { domain, selector: input.selector, privateKey: loadDkimKey(input.keyFile, flags.key) };
}
