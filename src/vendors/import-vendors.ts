import type { Context } from "../app/context.ts";
import { appendAudit } from "../audit/audit-log.ts";
import { type Actor, requireRole } from "../auth/roles.ts";
import { AppError, badInput, usageError } from "../lib/errors.ts";
import type { Queryable } from "../store/db.ts";
import { isFidesManifest, parseFidesManifest } from "./fides-manifest.ts";
import { readYaml, type VendorRecord, vendorRecordsFrom } from "./vendor-file.ts";
import { replaceDeclaredFlows } from "./vendor-flows.ts";
import {
  checkVendorInput,
  insertVendor,
  readVendors,
  type Vendor,
  type VendorInput,
  writeVendor,
} from "./vendor-store.ts";

/**
 * Vendors as code, into the store: each vendor in the files is matched to the inventory by name
 * (case-insensitive) and created or updated. The file is the truth for the fields it gives (a field
 * left out is left as it is; null clears it) and for the declared flows when it gives `data`.
 * Everything happens in one transaction, so a bad vendor changes nothing; a dry run does all of it
 * and rolls back, so it finds the same errors (an unknown owner, a name taken twice).
 */

export const IMPORT_FORMATS = ["auto", "yaml", "fides"] as const;
export type ImportFormat = (typeof IMPORT_FORMATS)[number];

export type ImportItem = { record: VendorRecord; source: string };
export type ImportOutcome = {
  name: string;
  id: string;
  action: "created" | "updated" | "unchanged";
  /** the record's fields that changed (all it gives, for a new vendor) */
  fields: string[];
};
export type ImportResult = {
  dry_run: boolean;
  created: number;
  updated: number;
  unchanged: number;
  vendors: ImportOutcome[];
  warnings: string[];
};

/** Reads a vendors file or a Fides manifest (auto: a top-level `system:` is Fides). */
export function parseImport(
  text: string,
  source: string,
  format: ImportFormat = "auto",
): { items: ImportItem[]; warnings: string[] } {
  const raw = readYaml(text, source);
  const fides = format === "fides" || (format === "auto" && isFidesManifest(raw));
  if (fides) {
    const { records, warnings } = parseFidesManifest(raw, source);
    return { items: records.map((record) => ({ record, source })), warnings };
  }
  return { items: vendorRecordsFrom(raw, source).map((record) => ({ record, source })), warnings: [] };
}

export function importFormat(value: string | undefined, where: string): ImportFormat {
  if (value === undefined) return "auto";
  if (!(IMPORT_FORMATS as readonly string[]).includes(value)) {
    throw usageError(`${where} must be one of ${IMPORT_FORMATS.join(", ")} (got ${JSON.stringify(value)})`);
  }
  return value as ImportFormat;
}

/** The API/store field each record key sets. */
const FIELD_OF: Partial<Record<keyof VendorRecord, keyof VendorInput>> = {
  catalogue: "catalogue_id",
  next_review: "next_review_at",
  owner: "owner_email",
};

/** A value as jsonb would give it back: object keys sorted, so equal values compare equal. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined);
    return `{${entries
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`)
      .join(",")}}`;
  }
  return JSON.stringify(value ?? null);
}

/** What the vendor holds for a record key, in the record's terms. */
function current(v: Vendor, key: keyof VendorRecord): unknown {
  switch (key) {
    case "catalogue":
      return v.catalogue_id;
    case "next_review":
      return v.next_review_at;
    case "owner":
      return v.owner_email?.toLowerCase() ?? null;
    case "risk_tier":
      return v.risk_tier_override;
    default:
      return v[key as keyof Vendor];
  }
}

const flowSet = (
  flows: ReadonlyArray<{ category: string; surface: string | null; fields: readonly string[] }>,
) =>
  flows
    .map((f) => canonical([f.category, f.surface, f.fields]))
    .sort()
    .join("\n");

/** The record as checked input (every field it gives), naming the file and vendor when a value is wrong. */
function inputOf(item: ImportItem): VendorInput {
  const input: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(item.record)) {
    if (key === "data" || value === undefined) continue;
    input[FIELD_OF[key as keyof VendorRecord] ?? key] = value;
  }
  try {
    return checkVendorInput(input as VendorInput);
  } catch (error) {
    if (error instanceof AppError) throw badInput(`${item.source}: ${item.record.name}: ${error.message}`);
    throw error;
  }
}

async function importOne(
  tx: Queryable,
  actor: Actor,
  item: ImportItem,
  existing: Vendor | undefined,
): Promise<ImportOutcome> {
  const { record } = item;
  const input = inputOf(item);
  const changed: string[] = [];
  const write: VendorInput = {};
  for (const key of Object.keys(record) as Array<keyof VendorRecord>) {
    if (key === "data" || record[key] === undefined) continue;
    const field = FIELD_OF[key] ?? (key as keyof VendorInput);
    // Compare the checked value (trimmed, upper-case countries...) with what is stored.
    const wanted = field === "owner_email" ? (input.owner_email?.toLowerCase() ?? null) : input[field];
    if (!existing || canonical(wanted) !== canonical(current(existing, key))) {
      changed.push(key);
      (write as Record<string, unknown>)[field] = input[field];
    }
  }
  const declared = existing?.flows.filter((f) => f.declared) ?? [];
  const flowsChange = record.data !== undefined && flowSet(record.data) !== flowSet(declared);
  if (flowsChange) changed.push("data");

  let id = existing?.id;
  try {
    if (!id) id = await insertVendor(tx, { ...write, name: record.name });
    else if (changed.some((k) => k !== "data")) await writeVendor(tx, id, write);
  } catch (error) {
    if (error instanceof AppError)
      throw badInput(`${item.source}: ${record.name}: ${error.message.replace(/^owner_email:/, "owner:")}`);
    throw error;
  }
  if (flowsChange && record.data) {
    await replaceDeclaredFlows(tx, id, record.data);
    if (existing && !changed.some((k) => k !== "data")) {
      await tx.query("UPDATE vendors SET updated_at = now() WHERE id = $1", [id]);
    }
  }
  const action = !existing ? "created" : changed.length > 0 ? "updated" : "unchanged";
  if (action !== "unchanged") {
    await appendAudit(tx, actor, "vendor.import", `vendor:${id}`, { action, fields: changed });
  }
  return { name: record.name, id, action, fields: changed };
}

class DryRun extends Error {
  readonly result: ImportResult;
  constructor(result: ImportResult) {
    super("dry run");
    this.result = result;
  }
}

export async function importVendors(
  ctx: Pick<Context, "db">,
  actor: Actor,
  items: readonly ImportItem[],
  options: { dryRun?: boolean; warnings?: readonly string[] } = {},
): Promise<ImportResult> {
  requireRole(actor, "responder", "importing vendors");
  const sources = new Map<string, string>();
  for (const item of items) {
    const key = item.record.name.toLowerCase();
    const prior = sources.get(key);
    if (prior !== undefined) {
      throw badInput(
        `${item.source}: ${item.record.name}: the vendor is also in ${prior}; give each vendor once`,
      );
    }
    sources.set(key, item.source);
  }
  const dryRun = options.dryRun ?? false;
  const run = async (tx: Queryable): Promise<ImportResult> => {
    const byName = new Map((await readVendors(tx)).map((v) => [v.name.toLowerCase(), v]));
    const vendors: ImportOutcome[] = [];
    for (const item of items) {
      vendors.push(await importOne(tx, actor, item, byName.get(item.record.name.toLowerCase())));
    }
    const count = (a: ImportOutcome["action"]) => vendors.filter((v) => v.action === a).length;
    const result: ImportResult = {
      dry_run: dryRun,
      created: count("created"),
      updated: count("updated"),
      unchanged: count("unchanged"),
      vendors,
      warnings: [...(options.warnings ?? [])],
    };
    if (dryRun) throw new DryRun(result);
    return result;
  };
  try {
    return await ctx.db.transaction(run);
  } catch (error) {
    if (error instanceof DryRun) return error.result;
    throw error;
  }
}
