import { readFile } from "node:fs/promises";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { badInput } from "../lib/errors.ts";

/**
 * How a dataset's fields become fideslang data categories, and which fields identify a subject.
 * Categories that fideslang lacks are documented in README ("Data categories").
 */
export type Role = "distinctId" | "userId" | "deviceId" | "email" | "name" | "country" | "region" | "org";

export type FieldMapping = Readonly<{
  /** field name → fideslang category; a field not here is reported under unmapped_fields */
  fields: ReadonlyMap<string, string>;
  /** fields that identify or describe a subject, in order of preference */
  roles: Readonly<Record<Role, readonly string[]>>;
}>;

export const CATEGORY = {
  email: "user.contact.email",
  name: "user.name",
  phone: "user.contact.phone_number",
  location: "user.location.coarse",
  device: "user.device",
  browsing: "user.behavior.browsing_history",
  uniqueId: "user.unique_id",
  deviceId: "user.device.device_id",
  ip: "user.device.ip_address",
  behavior: "user.behavior",
} as const;

const defaultFields: Record<string, string> = {
  $email: CATEGORY.email,
  email: CATEGORY.email,
  $name: CATEGORY.name,
  $first_name: CATEGORY.name,
  $last_name: CATEGORY.name,
  name: CATEGORY.name,
  $phone: CATEGORY.phone,
  $city: CATEGORY.location,
  $region: CATEGORY.location,
  mp_country_code: CATEGORY.location,
  $country_code: CATEGORY.location,
  country: CATEGORY.location,
  $os: CATEGORY.device,
  $browser: CATEGORY.device,
  $browser_version: CATEGORY.device,
  $device: CATEGORY.device,
  $model: CATEGORY.device,
  $referrer: CATEGORY.browsing,
  $referring_domain: CATEGORY.browsing,
  $initial_referrer: CATEGORY.browsing,
  $initial_referring_domain: CATEGORY.browsing,
  $current_url: CATEGORY.browsing,
  distinct_id: CATEGORY.uniqueId,
  $distinct_id: CATEGORY.uniqueId,
  $user_id: CATEGORY.uniqueId,
  user_id: CATEGORY.uniqueId,
  org_id: CATEGORY.uniqueId,
  $device_id: CATEGORY.deviceId,
  device_id: CATEGORY.deviceId,
  $ip: CATEGORY.ip,
  ip: CATEGORY.ip,
  // An event's own name and time are the behaviour record itself.
  event: CATEGORY.behavior,
  time: CATEGORY.behavior,
};

const defaultRoles: Record<Role, string[]> = {
  distinctId: ["distinct_id", "$distinct_id"],
  userId: ["$user_id", "user_id"],
  deviceId: ["$device_id", "device_id"],
  email: ["$email", "email"],
  name: ["$name", "name"],
  country: ["mp_country_code", "$country_code", "country"],
  // A state or province, for laws that turn on it (California, New York).
  region: ["$region"],
  org: ["org_id"],
};

export const defaultMapping: FieldMapping = Object.freeze({
  fields: new Map(Object.entries(defaultFields)),
  roles: Object.freeze(defaultRoles),
});

const fieldName = z.string().min(1).max(1000);
const categoryKey = z
  .string()
  .regex(/^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$/, "a fideslang-style category key such as user.contact.email");

const mappingFile = z
  .object({
    fields: z.record(fieldName, categoryKey.nullable()).optional(),
    roles: z
      .object({
        distinct_id: z.array(fieldName).optional(),
        user_id: z.array(fieldName).optional(),
        device_id: z.array(fieldName).optional(),
        email: z.array(fieldName).optional(),
        name: z.array(fieldName).optional(),
        country: z.array(fieldName).optional(),
        region: z.array(fieldName).optional(),
        org_id: z.array(fieldName).optional(),
      })
      .strict()
      .optional(),
  })
  .strict();

export const MAX_CATEGORIES = 62;

/**
 * Reads a YAML mapping that adds to or overrides the defaults. `fields: {name: category}` maps a field,
 * `fields: {name: null}` unmaps it; `roles.<role>: [...]` replaces the fields that play that role.
 */
export async function loadMapping(path: string): Promise<FieldMapping> {
  return mergeMapping(defaultMapping, await readMappingDocument(path));
}

/** The mapping YAML as a checked document; errors name the option, the file and the line. */
export async function readMappingDocument(path: string): Promise<MappingDocument> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    throw badInput(`--mapping ${path}: cannot read the file (${(error as NodeJS.ErrnoException).code})`);
  }
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (error) {
    const e = error as { linePos?: { line: number }[]; message: string };
    const line = e.linePos?.[0]?.line;
    throw badInput(
      `--mapping ${path}${line ? ` line ${line}` : ""}: not valid YAML: ${e.message.split("\n")[0]}`,
    );
  }
  return checkMappingDocument(raw, `--mapping ${path}`);
}

export type MappingDocument = z.infer<typeof mappingFile>;

/** Checks a mapping document (the YAML's content, or JSON from the API); `where` starts any error. */
export function checkMappingDocument(raw: unknown, where: string): MappingDocument {
  const parsed = mappingFile.safeParse(raw ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const at = issue?.path.join(".") || "(top level)";
    throw badInput(`${where}: ${at}: ${issue?.message}`);
  }
  return parsed.data;
}

export function mappingFromDocument(raw: unknown, where: string): FieldMapping {
  return mergeMapping(defaultMapping, checkMappingDocument(raw, where));
}

export function mergeMapping(base: FieldMapping, file: z.infer<typeof mappingFile>): FieldMapping {
  const fields = new Map(base.fields);
  for (const [name, category] of Object.entries(file.fields ?? {})) {
    if (category === null) fields.delete(name);
    else fields.set(name, category);
  }
  const r = file.roles ?? {};
  const roles: Record<Role, readonly string[]> = {
    distinctId: r.distinct_id ?? base.roles.distinctId,
    userId: r.user_id ?? base.roles.userId,
    deviceId: r.device_id ?? base.roles.deviceId,
    email: r.email ?? base.roles.email,
    name: r.name ?? base.roles.name,
    country: r.country ?? base.roles.country,
    region: r.region ?? base.roles.region,
    org: r.org_id ?? base.roles.org,
  };
  // Organisation ids are identifiers too: a new org field is a unique id unless mapped otherwise.
  for (const org of roles.org) if (!fields.has(org)) fields.set(org, CATEGORY.uniqueId);
  const categories = new Set(fields.values());
  categories.add(CATEGORY.deviceId);
  if (categories.size > MAX_CATEGORIES) {
    throw badInput(`--mapping: at most ${MAX_CATEGORIES} distinct categories are supported`);
  }
  return Object.freeze({ fields, roles: Object.freeze(roles) });
}
