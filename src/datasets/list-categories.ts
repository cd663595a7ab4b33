import { type Actor, requireRole } from "../auth/roles.ts";
import { CATEGORY, defaultMapping } from "../intake/mapping.ts";
import { labelFor, labelledCategories } from "../notify/render-notice.ts";

export type DataCategory = { key: string; label: string };

/**
 * The data categories a field can be mapped to, for the mapping editor: those the analysis itself
 * uses (mapping.ts) and the other fideslang categories the notices have plain names for, each with
 * its English name from the notice labels (src/notify/templates/en/labels.yaml), sorted by key.
 * Any other category key is still accepted in a mapping.
 */
export function listCategories(actor: Actor): DataCategory[] {
  requireRole(actor, "viewer", "reading data categories");
  const keys = new Set<string>([
    ...Object.values(CATEGORY),
    ...defaultMapping.fields.values(),
    ...labelledCategories(),
  ]);
  return [...keys].sort().map((key) => ({ key, label: labelFor("en", key) }));
}
