import { readFile } from "node:fs/promises";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { CATEGORY } from "../intake/mapping.ts";
import { badInput } from "../lib/errors.ts";
import type { SeedValue } from "./match-seeds.ts";

/**
 * The scan's test identity: the values the scanner signs in with and then looks for in what the
 * browser sends. Each well-known key has its fideslang category (first and last names count as
 * user.name, as in the dataset mapping); anything else goes under `custom` with its own category.
 */
export const SEED_FIELDS = {
  email: CATEGORY.email,
  name: CATEGORY.name,
  first_name: CATEGORY.name,
  last_name: CATEGORY.name,
  phone: CATEGORY.phone,
  user_id: CATEGORY.uniqueId,
  org_id: CATEGORY.uniqueId,
} as const;

export type SeedField = keyof typeof SEED_FIELDS;

export type Seed = Readonly<{
  /** The well-known keys as given, for `--steps` modules (to type the email into a form, say). */
  identity: Readonly<Partial<Record<SeedField, string>>>;
  values: readonly SeedValue[];
}>;

const value = z.union([z.string(), z.number()]).transform((v) => String(v).trim());
const categoryKey = z
  .string()
  .regex(/^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$/, "a fideslang category key such as user.contact.email");

const seedSchema = z
  .object({
    email: value.optional(),
    name: value.optional(),
    first_name: value.optional(),
    last_name: value.optional(),
    phone: value.optional(),
    user_id: value.optional(),
    org_id: value.optional(),
    custom: z
      .array(
        z.object({ value, category: categoryKey, field: z.string().min(1).max(100).optional() }).strict(),
      )
      .optional(),
  })
  .strict();

function describeIssue(issue: z.core.$ZodIssue): string {
  const where = issue.path.length > 0 ? issue.path.join(".") : "(top level)";
  if (issue.code === "unrecognized_keys") {
    return `unknown key ${issue.keys.map((k) => JSON.stringify(k)).join(", ")} (known: ${[...Object.keys(SEED_FIELDS), "custom"].join(", ")})`;
  }
  return `${where}: ${issue.message}`;
}

/** Parses a seed file's text (YAML, and so JSON too); `source` names the file in errors. */
export function parseSeed(text: string, source: string): Seed {
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (error) {
    throw badInput(`${source}: not valid YAML or JSON: ${(error as Error).message.split("\n")[0]}`);
  }
  const parsed = seedSchema.safeParse(raw ?? {});
  if (!parsed.success) {
    throw badInput(`${source}: ${parsed.error.issues.slice(0, 3).map(describeIssue).join("; ")}`);
  }
  const identity: Partial<Record<SeedField, string>> = {};
  const values: SeedValue[] = [];
  for (const field of Object.keys(SEED_FIELDS) as SeedField[]) {
    const v = parsed.data[field];
    if (v === undefined || v === "") continue;
    identity[field] = v;
    values.push({ field, category: SEED_FIELDS[field], value: v });
  }
  for (const [i, c] of (parsed.data.custom ?? []).entries()) {
    if (c.value === "") throw badInput(`${source}: custom.${i}.value: empty`);
    values.push({ field: c.field ?? `custom.${i}`, category: c.category, value: c.value });
  }
  if (values.length === 0) {
    throw badInput(
      `${source}: no seed values; give at least one of ${Object.keys(SEED_FIELDS).join(", ")} or custom`,
    );
  }
  return { identity, values };
}

export async function loadSeed(file: string): Promise<Seed> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    throw badInput(
      `--seed ${file}: cannot read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
    );
  }
  return parseSeed(text, file);
}
