import { Document, isMap, isSeq } from "yaml";
import { z } from "zod";
import { badInput } from "../lib/errors.ts";
import { alpha2ToAlpha3, alpha3ToAlpha2, categoryKey } from "./vendor-fields.ts";
import type { VendorRecord } from "./vendor-file.ts";
import type { Vendor } from "./vendor-store.ts";

/**
 * Fides `system` manifests (fideslang), in and out, so a team that keeps its systems in Fides does
 * not retype them. One system is one vendor:
 *
 *   name (or fides_key when there is none)  → name (matched case-insensitively on import)
 *   description                             → description
 *   privacy_declarations[].data_categories  → declared flows, surface unset (Fides does not say
 *                                             whether the web front-end, a server or a batch export
 *                                             sends them), no fields
 *   privacy_declarations[].data_use         → purposes (each use once, in order)
 *   third_country_transfers (ISO alpha-3)   → processing_locations (alpha-2)
 *   dpa_location                            → dpa_ref
 * Everything else in a system (ingress, egress, data_subjects, dataset_references, cookies, ...) is
 * not part of the inventory and is ignored; fields the inventory has and Fides does not (contract,
 * owner, access, people ...) are left as they are by an import.
 *
 * The fides_key is not stored: export derives it from the name (fidesKeyFor), which gives back the
 * key of a system whose key is its name in lower case with `_` between words, as Fides' own examples
 * are. An import warns about any other key, as exporting would then name the system differently.
 * The inventory keeps a vendor's categories and its uses, not which category goes with which use:
 * export writes one declaration per purpose, each with every declared category, so a system whose
 * declarations give different categories to different uses comes back wider (an import warns).
 * A purpose that is not a fideslang data use key (free text such as "product analytics") is written
 * as the declaration's name with the data use essential.service, to be reviewed in Fides.
 */

const FIDES_KEY = /^[a-zA-Z0-9_.<>-]+$/;
export const DEFAULT_DATA_USE = "essential.service";
const DATA_USE = /^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$/;

const declaration = z.looseObject({
  name: z.string().nullable().optional(),
  data_categories: z.array(categoryKey),
  data_use: z.string().regex(DATA_USE, "a fideslang data use key such as analytics.reporting"),
  data_subjects: z.array(z.string()).nullable().optional(),
});

const system = z.looseObject({
  fides_key: z.string().regex(FIDES_KEY, "a fides_key: letters, digits and _ . < > -"),
  name: z.string().trim().min(1).max(200).nullable().optional(),
  description: z.string().max(10_000).nullable().optional(),
  privacy_declarations: z.array(declaration).optional(),
  third_country_transfers: z.array(z.string()).nullable().optional(),
  dpa_location: z.string().trim().max(500).nullable().optional(),
});

const manifest = z.looseObject({ system: z.array(system) });

/** The key a vendor's system gets in an exported manifest. */
export function fidesKeyFor(name: string): string {
  const key = name
    .toLowerCase()
    .replace(/[^a-z0-9_.-]+/g, "_")
    .replace(/^_+|_+$/g, "");
  return key || "vendor";
}

export function isFidesManifest(raw: unknown): boolean {
  return raw !== null && typeof raw === "object" && !Array.isArray(raw) && "system" in raw;
}

function alpha2(code: string, where: string): string {
  const c = code.trim().toUpperCase();
  const two = c.length === 3 ? alpha3ToAlpha2(c) : c.length === 2 && alpha2ToAlpha3(c) ? c : undefined;
  if (!two)
    throw badInput(`${where}: ${JSON.stringify(code)} is not an ISO 3166-1 alpha-3 country code such as USA`);
  return two;
}

/** The vendors a parsed Fides manifest describes, and what an import should warn about. */
export function parseFidesManifest(
  raw: unknown,
  source: string,
): { records: VendorRecord[]; warnings: string[] } {
  const r = manifest.safeParse(raw);
  if (!r.success) {
    const issue = r.error.issues[0] as z.core.$ZodIssue;
    const where = issue.path.length ? issue.path.join(".") : "(top level)";
    const what = issue.code === "invalid_type" && issue.input === undefined ? "required" : issue.message;
    throw badInput(`${source}: ${where}: ${what}`);
  }
  const warnings: string[] = [];
  const others = Object.keys(r.data).filter((k) => k !== "system");
  if (others.length > 0)
    warnings.push(`${source}: ignored ${others.join(", ")} (only system resources are read)`);
  const names = new Map<string, number>();
  const records = r.data.system.map((s, i) => {
    const where = `${source}: system.${i}`;
    const name = s.name?.trim() || s.fides_key;
    const prior = names.get(name.toLowerCase());
    if (prior !== undefined)
      throw badInput(`${where}: the name ${JSON.stringify(name)} is also system.${prior}'s`);
    names.set(name.toLowerCase(), i);
    if (fidesKeyFor(name) !== s.fides_key) {
      warnings.push(
        `${where}: fides_key ${s.fides_key} is not derived from the name; an export writes it as ${fidesKeyFor(name)}`,
      );
    }
    const declarations = s.privacy_declarations ?? [];
    const categories = [...new Set(declarations.flatMap((d) => d.data_categories))];
    const uses = [...new Set(declarations.map((d) => d.data_use))];
    const sets = new Set(declarations.map((d) => [...new Set(d.data_categories)].sort().join(" ")));
    if (sets.size > 1) {
      warnings.push(
        `${where}: its declarations give different categories to different data uses; the inventory keeps the categories and the uses, and an export gives every use every category`,
      );
    }
    const record: VendorRecord = {
      name,
      purposes: uses,
      data: categories.map((category) => ({ category, fields: [], surface: null })),
    };
    if (s.description !== undefined) record.description = s.description?.trim() || null;
    if (s.third_country_transfers !== undefined) {
      record.processing_locations = [
        ...new Set(
          (s.third_country_transfers ?? []).map((c, j) => alpha2(c, `${where}.third_country_transfers.${j}`)),
        ),
      ];
    }
    if (s.dpa_location !== undefined) record.dpa_ref = s.dpa_location || null;
    return record;
  });
  return { records, warnings };
}

/** The vendors as a Fides manifest (fideslang system resources) that parseFidesManifest reads. */
export function formatFidesManifest(vendors: readonly Vendor[]): string {
  const systems = vendors.map((v) => {
    const categories = [...new Set(v.flows.filter((f) => f.declared).map((f) => f.category))].sort();
    const purposes = v.purposes.length > 0 || categories.length === 0 ? v.purposes : [DEFAULT_DATA_USE];
    const out: Record<string, unknown> = { fides_key: fidesKeyFor(v.name), name: v.name };
    if (v.description) out.description = v.description;
    out.system_type = "Service";
    out.privacy_declarations = purposes.map((p) => ({
      name: p,
      data_categories: categories,
      data_use: DATA_USE.test(p) ? p : DEFAULT_DATA_USE,
      data_subjects: ["customer"],
    }));
    if (v.processing_locations.length > 0) {
      out.third_country_transfers = v.processing_locations.map((c) => alpha2ToAlpha3(c) ?? c);
    }
    if (v.dpa_ref) out.dpa_location = v.dpa_ref;
    return out;
  });
  const doc = new Document({ system: systems });
  const list = doc.get("system");
  for (const item of isSeq(list) ? list.items : []) {
    if (!isMap(item)) continue;
    const transfers = item.get("third_country_transfers", true);
    if (isSeq(transfers)) transfers.flow = true;
    const decls = item.get("privacy_declarations", true);
    for (const d of isSeq(decls) ? decls.items : []) {
      if (!isMap(d)) continue;
      for (const key of ["data_categories", "data_subjects"]) {
        const node = d.get(key, true);
        if (isSeq(node)) node.flow = true;
      }
    }
  }
  return doc.toString({ lineWidth: 0 });
}
