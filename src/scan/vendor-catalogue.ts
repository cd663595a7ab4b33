import { readFile } from "node:fs/promises";
import { isIP } from "node:net";
import { fileURLToPath } from "node:url";
import { LineCounter, parseDocument } from "yaml";
import { z } from "zod";
import { badInput } from "../lib/errors.ts";

/**
 * The vendor catalogue names which vendor a browser request goes to: by the request's host, or, for a
 * request to the app's own origin (a first-party proxy), by the payload signature of the vendor's SDK.
 * It is data (catalogue/vendors.yaml, written from vendors' own public documentation); users can bring
 * their own file in the same format.
 */

export const VENDOR_CATEGORIES = [
  "analytics",
  "tag-manager",
  "session-replay",
  "chat",
  "error-tracking",
  "advertising",
  "customer-data",
  "ab-testing",
  "monitoring",
  "consent",
  "support",
  "marketing-automation",
  "payments",
  "fonts-cdn",
] as const;
export type VendorCategory = (typeof VENDOR_CATEGORIES)[number];

export type VendorSignature = { keys: readonly string[]; path?: RegExp };

export type CatalogueVendor = {
  id: string;
  name: string;
  category: VendorCategory;
  domains: readonly string[];
  privacy: string;
  dpa?: string;
  signatures: readonly VendorSignature[];
};

export type VendorCatalogue = {
  vendors: readonly CatalogueVendor[];
  /** The vendor whose most specific listed domain is the host or a parent of it. */
  byHost(host: string): CatalogueVendor | undefined;
  /** The vendor whose SDK payload signature matches these request keys and URL path. */
  bySignature(keys: ReadonlySet<string>, path: string): CatalogueVendor | undefined;
  byId(id: string): CatalogueVendor | undefined;
  /** Case-insensitive on the vendor's name or id. */
  byName(name: string): CatalogueVendor | undefined;
};

export const SHIPPED_CATALOGUE = fileURLToPath(new URL("./catalogue/vendors.yaml", import.meta.url));

// A host name with a letter-led last label, so IP addresses can never be listed.
const DOMAIN = /^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

function isHttpsUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === "https:" && url.hostname.length > 0;
  } catch {
    return false;
  }
}

function isRegex(value: string): boolean {
  try {
    new RegExp(value);
    return true;
  } catch {
    return false;
  }
}

const httpsUrl = z.string().refine(isHttpsUrl, "must be an https:// URL");

const signatureSchema = z
  .object({
    keys: z.array(z.string().min(1, "a key cannot be empty")).min(1, "a signature needs at least one key"),
    path: z.string().min(1).refine(isRegex, "not a valid JavaScript regular expression").optional(),
  })
  .strict();

const vendorSchema = z
  .object({
    id: z.string().regex(/^[a-z0-9]+(?:-[a-z0-9]+)*$/, "a lowercase slug such as google-analytics"),
    name: z.string().trim().min(1),
    category: z.enum(VENDOR_CATEGORIES, { error: `must be one of: ${VENDOR_CATEGORIES.join(", ")}` }),
    domains: z
      .array(z.string().regex(DOMAIN, "a lowercase host name such as example.com (no scheme, port or IP)"))
      .min(1, "list at least one domain"),
    privacy: httpsUrl,
    dpa: httpsUrl.optional(),
    signatures: z.array(signatureSchema).optional(),
  })
  .strict();

const fileSchema = z.object({ vendors: z.array(z.unknown()) }).strict();

type VendorEntry = z.infer<typeof vendorSchema>;
/** A validated entry and where it came from, so cross-entry errors can name both sides. */
type Located = { entry: VendorEntry; where: (field?: readonly (string | number)[]) => string };

/** `vendors.yaml line 12: vendors[3] (id mixpanel)`: as much as is known about an entry's place. */
function entryLabel(source: string, index: number, id: unknown, line?: number): string {
  const at = line ? ` line ${line}` : "";
  const named = typeof id === "string" && id !== "" ? ` (id ${id})` : "";
  return `${source}${at}: vendors[${index}]${named}`;
}

function fieldPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>(
    (out, p) => (typeof p === "number" ? `${out}[${p}]` : out ? `${out}.${String(p)}` : String(p)),
    "",
  );
}

function issueMessage(issue: z.core.$ZodIssue | undefined): string {
  if (!issue) return "invalid";
  if (issue.code === "unrecognized_keys") return `unknown field ${issue.keys.join(", ")}`;
  if (issue.code === "invalid_type" && /received undefined$/.test(issue.message)) return "is required";
  return issue.message;
}

function parseEntries(text: string, source: string): Located[] {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  const yamlError = doc.errors[0];
  if (yamlError) {
    const line = lineCounter.linePos(yamlError.pos[0]).line;
    throw badInput(`${source} line ${line}: not valid YAML: ${yamlError.message.split("\n")[0]}`);
  }
  const lineOf = (path: readonly (string | number)[]): number | undefined => {
    const node = doc.getIn(path, true) as { range?: [number, number, number] } | undefined;
    return node?.range ? lineCounter.linePos(node.range[0]).line : undefined;
  };

  const top = fileSchema.safeParse(doc.toJS());
  if (!top.success) {
    const issue = top.error.issues[0];
    const where = issue && issue.path.length > 0 ? fieldPath(issue.path) : "(top level)";
    throw badInput(`${source}: ${where}: ${issueMessage(issue)} (expected a top-level \`vendors:\` list)`);
  }
  return top.data.vendors.map((raw, index) => {
    const id = (raw as { id?: unknown } | null)?.id;
    const where = (field: readonly (string | number)[] = []) =>
      entryLabel(source, index, id, lineOf(["vendors", index, ...field]) ?? lineOf(["vendors", index]));
    const parsed = vendorSchema.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const path = (issue?.path ?? []).filter((p): p is string | number => typeof p !== "symbol");
      const field = path.length > 0 ? fieldPath(path) : "(entry)";
      throw badInput(`${where(path)}: field ${field}: ${issueMessage(issue)}`);
    }
    return { entry: parsed.data, where };
  });
}

function toVendor(entry: VendorEntry): CatalogueVendor {
  return {
    id: entry.id,
    name: entry.name,
    category: entry.category,
    domains: entry.domains,
    privacy: entry.privacy,
    ...(entry.dpa ? { dpa: entry.dpa } : {}),
    signatures: (entry.signatures ?? []).map((s) => ({
      keys: s.keys,
      ...(s.path ? { path: new RegExp(s.path) } : {}),
    })),
  };
}

function buildCatalogue(entries: readonly Located[]): VendorCatalogue {
  const byId = new Map<string, { vendor: CatalogueVendor; where: Located["where"] }>();
  const byDomain = new Map<string, { vendor: CatalogueVendor; where: Located["where"] }>();
  const byName = new Map<string, CatalogueVendor>();
  const vendors: CatalogueVendor[] = [];
  for (const { entry, where } of entries) {
    const vendor = toVendor(entry);
    const sameId = byId.get(vendor.id);
    if (sameId)
      throw badInput(`${where(["id"])}: field id: ${vendor.id} is already used by ${sameId.where()}`);
    byId.set(vendor.id, { vendor, where });
    for (const [i, domain] of vendor.domains.entries()) {
      const owner = byDomain.get(domain);
      if (owner) {
        const other =
          owner.vendor === vendor ? "listed twice in this entry" : `already listed by ${owner.where()}`;
        throw badInput(`${where(["domains", i])}: field domains[${i}]: ${domain} is ${other}`);
      }
      byDomain.set(domain, { vendor, where });
    }
    vendors.push(vendor);
  }
  // Names come second so an id always wins over another vendor's name that happens to equal it.
  for (const v of vendors) byName.set(v.id, v);
  for (const v of vendors) if (!byName.has(v.name.toLowerCase())) byName.set(v.name.toLowerCase(), v);

  // Most specific first (more keys), catalogue order among equals: the first match is the answer.
  const signatures = vendors
    .flatMap((vendor) => vendor.signatures.map((signature) => ({ vendor, signature })))
    .sort((a, b) => b.signature.keys.length - a.signature.keys.length);

  return {
    vendors,
    byHost(host) {
      let name = host.trim().toLowerCase();
      if (name.endsWith(".")) name = name.slice(0, -1);
      if (name === "" || name.startsWith("[") || isIP(name) !== 0) return undefined;
      // Walk from the full host up through its parents; the first hit is the longest listed domain.
      for (let at = 0; at !== -1; at = name.indexOf(".", at) + 1 || -1) {
        const hit = byDomain.get(name.slice(at));
        if (hit) return hit.vendor;
      }
      return undefined;
    },
    bySignature(keys, path) {
      if (keys.size === 0) return undefined;
      for (const { vendor, signature } of signatures) {
        if (signature.keys.every((k) => keys.has(k)) && (!signature.path || signature.path.test(path))) {
          return vendor;
        }
      }
      return undefined;
    },
    byId: (id) => byId.get(id)?.vendor,
    byName: (name) => byName.get(name.trim().toLowerCase()),
  };
}

/** Parses and validates catalogue YAML; every error names the source, the entry (index, id, line) and the field. */
export function parseVendorCatalogue(text: string, source: string): VendorCatalogue {
  return buildCatalogue(parseEntries(text, source));
}

async function readCatalogue(file: string): Promise<string> {
  try {
    return await readFile(file, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? "unreadable";
    throw badInput(`${file}: cannot read the vendor catalogue (${code})`);
  }
}

/**
 * The shipped catalogue, or `file` instead of it. With `extend`, `file` adds to the shipped catalogue:
 * an entry with a shipped vendor's id replaces that vendor, any other entry is added after them.
 */
export async function loadVendorCatalogue(
  file?: string,
  options: Readonly<{ extend?: boolean }> = {},
): Promise<VendorCatalogue> {
  if (!file) return parseVendorCatalogue(await readCatalogue(SHIPPED_CATALOGUE), SHIPPED_CATALOGUE);
  const own = parseEntries(await readCatalogue(file), file);
  // Built on its own first, so the file's own duplicates are reported against the file alone.
  const ownCatalogue = buildCatalogue(own);
  if (!options.extend) return ownCatalogue;
  const shipped = parseEntries(await readCatalogue(SHIPPED_CATALOGUE), SHIPPED_CATALOGUE);
  const replacing = new Map(own.map((o) => [o.entry.id, o]));
  const merged = shipped.map((s) => replacing.get(s.entry.id) ?? s);
  const shippedIds = new Set(shipped.map((s) => s.entry.id));
  return buildCatalogue([...merged, ...own.filter((o) => !shippedIds.has(o.entry.id))]);
}
