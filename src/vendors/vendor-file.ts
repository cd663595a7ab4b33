import { readFile } from "node:fs/promises";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { badInput } from "../lib/errors.ts";

/**
 * Vendors as code: what each vendor receives, kept in a YAML (or JSON) file beside the code that
 * sends it. Either one vendor per file (its fields at the top) or `vendors:` with a list. The
 * scanner compares what it sees a browser send with the `web` flows declared here.
 */

export const SURFACES = ["web", "server", "batch"] as const;
export type Surface = (typeof SURFACES)[number];

const categoryKey = z
  .string()
  .regex(/^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$/, "a fideslang category key such as user.contact.email");
const domain = z
  .string()
  .transform((d) => d.trim().toLowerCase().replace(/\.$/, ""))
  .pipe(z.string().regex(/^[a-z0-9-]+(\.[a-z0-9-]+)+$/, "a domain name such as example.com"));

const flowSchema = z
  .object({
    category: categoryKey,
    fields: z.array(z.string().min(1)).optional(),
    surface: z.enum(SURFACES).optional(),
  })
  .strict();

const vendorSchema = z
  .object({
    name: z.string().trim().min(1),
    catalogue: z.string().trim().min(1).optional(),
    domains: z.array(domain).optional(),
    data: z.array(flowSchema).optional(),
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

function describe(source: string, issue: z.core.$ZodIssue): string {
  const where = issue.path.length > 0 ? issue.path.join(".") : "(top level)";
  if (issue.code === "unrecognized_keys") return `${source}: ${where}: unknown key ${issue.keys.join(", ")}`;
  if (issue.code === "invalid_type" && issue.input === undefined) return `${source}: ${where}: required`;
  return `${source}: ${where}: ${issue.message}`;
}

export function parseVendorFile(text: string, source: string): DeclaredVendor[] {
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (error) {
    throw badInput(`${source}: not valid YAML or JSON: ${(error as Error).message.split("\n")[0]}`);
  }
  const isList = raw !== null && typeof raw === "object" && !Array.isArray(raw) && "vendors" in raw;
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
    const key = v.name.toLowerCase();
    if (seen.has(key))
      throw badInput(`${source}: vendors.${i}.name: ${JSON.stringify(v.name)} is listed twice`);
    seen.add(key);
    return {
      name: v.name,
      catalogue: v.catalogue ?? null,
      domains: v.domains ?? [],
      data: (v.data ?? []).map((f) => ({
        category: f.category,
        fields: f.fields ?? [],
        surface: f.surface ?? null,
      })),
    };
  });
}

export async function loadVendorFile(file: string, option = "--inventory"): Promise<DeclaredVendor[]> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    throw badInput(
      `${option} ${file}: cannot read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
    );
  }
  return parseVendorFile(text, file);
}
