import { readFile } from "node:fs/promises";
import { Document, isMap, isSeq, parse as parseYaml } from "yaml";
import { z } from "zod";
import { badInput } from "../lib/errors.ts";
import {
  ACCESS_LEVELS,
  type Access,
  calendarDay,
  catalogueId,
  countryCode,
  declaredFlow,
  domainName,
  emailAddress,
  incidentContact,
  peopleCount,
  positiveDays,
  positiveHours,
  RISK_TIERS,
  type RiskTier,
  requirementSetName,
  SURFACES,
  type SubProcessor,
  type Surface,
  shortText,
  subProcessor,
  textList,
  VENDOR_STATUSES,
  type VendorStatus,
} from "./vendor-fields.ts";

/**
 * Vendors as code: what each vendor receives and on which terms, kept in a YAML (or JSON) file
 * beside the code that sends it. Either one vendor per file (its fields at the top) or `vendors:`
 * with a list. The scanner compares what it sees a browser send with the `web` flows declared here
 * (parseVendorFile); `blastradius vendors import` reads the whole record (parseVendorRecords).
 */

export { SURFACES, type Surface };

const nullable = <T extends z.ZodType>(schema: T) => schema.nullable().optional();

const vendorSchema = z
  .object({
    name: shortText(200),
    catalogue: nullable(catalogueId),
    description: nullable(z.string().trim().max(10_000)),
    website: nullable(z.string().trim().max(500)),
    status: z.enum(VENDOR_STATUSES).optional(),
    domains: z.array(domainName).max(200).optional(),
    purposes: textList(500).optional(),
    processing_locations: z.array(countryCode).max(250).optional(),
    sub_processors: z.array(subProcessor).max(200).optional(),
    contract_ref: nullable(shortText(200)),
    dpa_ref: nullable(shortText(500)),
    certifications: textList(200).optional(),
    incident_contact: nullable(incidentContact),
    breach_notice_hours: nullable(positiveHours),
    access: nullable(z.enum(ACCESS_LEVELS)),
    people_count: nullable(peopleCount),
    risk_tier: nullable(z.enum(RISK_TIERS)),
    requirement_set: nullable(requirementSetName),
    owner: nullable(emailAddress),
    review_interval_days: nullable(positiveDays),
    next_review: nullable(calendarDay),
    notes: nullable(z.string().max(10_000)),
    data: z.array(declaredFlow).max(1000).optional(),
  })
  .strict();

export type DeclaredFlow = Readonly<{ category: string; fields: readonly string[]; surface: Surface | null }>;
export type DeclaredVendor = Readonly<{
  name: string;
  /** The scanner catalogue's id for this vendor, when the file names one. */
  catalogue: string | null;
  domains: readonly string[];
  data: readonly DeclaredFlow[];
}>;

/**
 * One vendor as a file gives it. A key left out is `undefined` (import leaves that field as it is);
 * `null` clears it. `risk_tier` is an override of the computed tier; `owner` an account's email.
 */
export type VendorRecord = {
  name: string;
  catalogue?: string | null;
  description?: string | null;
  website?: string | null;
  status?: VendorStatus;
  domains?: string[];
  purposes?: string[];
  processing_locations?: string[];
  sub_processors?: SubProcessor[];
  contract_ref?: string | null;
  dpa_ref?: string | null;
  certifications?: string[];
  incident_contact?: string | null;
  breach_notice_hours?: number | null;
  access?: Access | null;
  people_count?: number | null;
  risk_tier?: RiskTier | null;
  requirement_set?: string | null;
  owner?: string | null;
  review_interval_days?: number | null;
  next_review?: string | null;
  notes?: string | null;
  data?: DeclaredFlow[];
};

/** The keys of a record in the order files are written. */
export const RECORD_KEYS = Object.keys(vendorSchema.shape) as ReadonlyArray<keyof VendorRecord>;

function describe(source: string, issue: z.core.$ZodIssue): string {
  const where = issue.path.length > 0 ? issue.path.join(".") : "(top level)";
  if (issue.code === "unrecognized_keys") return `${source}: ${where}: unknown key ${issue.keys.join(", ")}`;
  if (issue.code === "invalid_type" && issue.input === undefined) return `${source}: ${where}: required`;
  return `${source}: ${where}: ${issue.message}`;
}

/** The file's text as data; a YAML or JSON syntax error names the file. */
export function readYaml(text: string, source: string): unknown {
  try {
    return parseYaml(text);
  } catch (error) {
    throw badInput(`${source}: not valid YAML or JSON: ${(error as Error).message.split("\n")[0]}`);
  }
}

const unique = (values: readonly string[]) => [...new Set(values)];

export function parseVendorRecords(text: string, source: string): VendorRecord[] {
  return vendorRecordsFrom(readYaml(text, source), source);
}

/** The records in already-parsed YAML: `vendors:` with a list, or one vendor's fields. */
export function vendorRecordsFrom(raw: unknown, source: string): VendorRecord[] {
  const isList = raw !== null && typeof raw === "object" && !Array.isArray(raw) && "vendors" in raw;
  if (!isList && raw !== null && typeof raw === "object" && "system" in raw && !("name" in raw)) {
    throw badInput(
      `${source}: this is a Fides manifest (a top-level system: list), not a vendors file (blastradius vendors import reads both: --format auto or fides)`,
    );
  }
  const list = z
    .object({ vendors: z.array(vendorSchema) })
    .strict()
    .safeParse(isList ? raw : { vendors: [raw ?? {}] });
  if (!list.success) {
    const issue = list.error.issues[0] as z.core.$ZodIssue;
    // A single-vendor file reports paths without the wrapper it never had.
    throw badInput(describe(source, isList ? issue : { ...issue, path: issue.path.slice(2) }));
  }
  const seen = new Set<string>();
  return list.data.vendors.map((v, i) => {
    const where = isList ? `vendors.${i}.` : "";
    const key = v.name.toLowerCase();
    if (seen.has(key)) throw badInput(`${source}: ${where}name: ${JSON.stringify(v.name)} is listed twice`);
    seen.add(key);
    const flows = new Set<string>();
    (v.data ?? []).forEach((f, j) => {
      const id = `${f.category} ${f.surface ?? "*"}`;
      if (flows.has(id)) {
        throw badInput(
          `${source}: ${where}data.${j}: ${f.category} on ${f.surface ?? "every surface"} is listed twice`,
        );
      }
      flows.add(id);
    });
    const record: VendorRecord = { name: v.name };
    for (const [k, value] of Object.entries(v) as Array<[keyof VendorRecord, unknown]>) {
      if (value === undefined || k === "name") continue;
      (record as Record<string, unknown>)[k] = value;
    }
    if (v.domains) record.domains = unique(v.domains);
    if (v.purposes) record.purposes = unique(v.purposes);
    if (v.processing_locations) record.processing_locations = unique(v.processing_locations);
    if (v.certifications) record.certifications = unique(v.certifications);
    if (v.owner) record.owner = v.owner.toLowerCase();
    if (v.data) {
      record.data = v.data.map((f) => ({
        category: f.category,
        fields: unique(f.fields ?? []),
        surface: f.surface ?? null,
      }));
    }
    return record;
  });
}

/** The scanner's view of a file: each vendor's name, catalogue id, domains and flows. */
export function parseVendorFile(text: string, source: string): DeclaredVendor[] {
  return parseVendorRecords(text, source).map((v) => ({
    name: v.name,
    catalogue: v.catalogue ?? null,
    domains: v.domains ?? [],
    data: v.data ?? [],
  }));
}

/**
 * The scanner's view of the stored inventory: what each vendor is declared to receive. Flows a scan
 * saw but nobody declared are not declarations.
 */
export function declaredVendorsOf(
  vendors: readonly {
    name: string;
    catalogue_id: string | null;
    domains: readonly string[];
    flows: readonly {
      category: string;
      fields: readonly string[];
      surface: Surface | null;
      declared: boolean;
    }[];
  }[],
): DeclaredVendor[] {
  return vendors.map((v) => ({
    name: v.name,
    catalogue: v.catalogue_id,
    domains: [...v.domains],
    data: v.flows
      .filter((f) => f.declared)
      .map((f) => ({ category: f.category, fields: [...f.fields], surface: f.surface })),
  }));
}

async function readText(file: string, option: string): Promise<string> {
  try {
    return await readFile(file, "utf8");
  } catch (error) {
    throw badInput(
      `${option} ${file}: cannot read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
    );
  }
}

export async function loadVendorFile(file: string, option = "--inventory"): Promise<DeclaredVendor[]> {
  return parseVendorFile(await readText(file, option), file);
}

export async function loadVendorRecords(file: string, option = "FILE"): Promise<VendorRecord[]> {
  return parseVendorRecords(await readText(file, option), file);
}

/**
 * Records as a vendors file that parseVendorRecords reads back to the same records: keys in a fixed
 * order, empty values left out, short lists and each flow on one line.
 */
export function formatVendorFile(records: readonly VendorRecord[], header?: string): string {
  const vendors = records.map((r) => {
    const out: Record<string, unknown> = {};
    for (const key of RECORD_KEYS) {
      const value = r[key];
      if (value === undefined || value === null || (Array.isArray(value) && value.length === 0)) continue;
      out[key] =
        key === "data"
          ? (value as DeclaredFlow[]).map((f) => ({
              category: f.category,
              ...(f.fields.length ? { fields: f.fields } : {}),
              ...(f.surface ? { surface: f.surface } : {}),
            }))
          : value;
    }
    return out;
  });
  const doc = new Document({ vendors });
  const list = doc.get("vendors");
  for (const item of isSeq(list) ? list.items : []) {
    if (!isMap(item)) continue;
    for (const key of ["domains", "purposes", "processing_locations", "certifications"]) {
      const node = item.get(key, true);
      if (isSeq(node)) node.flow = true;
    }
    for (const key of ["data", "sub_processors"]) {
      const node = item.get(key, true);
      for (const entry of isSeq(node) ? node.items : []) if (isMap(entry)) entry.flow = true;
    }
  }
  if (header) doc.commentBefore = header;
  return doc.toString({ lineWidth: 0 });
}
